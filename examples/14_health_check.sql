-- Product document: "Health Checks". Status of every SSE table (a one-shot query).
CREATE TABLE stock_stream (
    symbol TEXT,
    price DECIMAL
) WITH (
    connector = 'sse_source',
    endpoint = '${LAMINAR_DEMO}/stocks'
);

SELECT * FROM system.connector_status
WHERE connector_name = 'sse_source';
