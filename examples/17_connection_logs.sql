-- Product document: "Connection Issues". Recent connector errors (a one-shot query).
SELECT * FROM system.connector_logs
WHERE connector = 'sse_source'
AND level = 'ERROR'
ORDER BY timestamp DESC
LIMIT 10;
