-- Product document: "Event Processing". Events processed in the last minute.
SELECT
    COUNT(*) as events_per_minute,
    AVG(processing_time_ms) as avg_processing_time
FROM system.connector_metrics
WHERE connector = 'sse_source'
AND timestamp > NOW() - INTERVAL '1 minute';
