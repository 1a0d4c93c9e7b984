-- Product document: "Live Stock Prices". The table names connection 'stock_sse', which is
-- never created: its inline endpoint is enough.
CREATE TABLE stock_stream (
    symbol TEXT,
    price DECIMAL,
    volume BIGINT,
    timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    connection = 'stock_sse',
    endpoint = '${LAMINAR_DEMO}/stocks',
    format = 'json'
);

-- Real-time price alerts
CREATE VIEW price_alerts AS
SELECT * FROM stock_stream
WHERE price > 1000 OR price < 10;

SELECT * FROM price_alerts LIMIT 10;
