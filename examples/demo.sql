-- `make demo`: the product document's "Live Stock Prices" with its price_alerts view,
-- and beside it a windowed view: trades per symbol every 2 seconds of event time.
CREATE TABLE stock_stream (
    symbol TEXT,
    price DECIMAL,
    volume BIGINT,
    timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    endpoint = '${LAMINAR_DEMO}/stocks',
    format = 'json',
    event_time_field = 'timestamp',
    watermark_delay_ms = 500
);

-- Real-time price alerts
CREATE VIEW price_alerts AS
SELECT * FROM stock_stream
WHERE price > 1000 OR price < 10;

-- Trades per symbol per 2-second window, emitted once when the window closes
CREATE VIEW trades_per_symbol AS
SELECT symbol, COUNT(*) AS trades, round(AVG(price), 2) AS avg_price, SUM(volume) AS volume,
       TUMBLE(INTERVAL '2' SECOND) AS window
FROM stock_stream
GROUP BY symbol, window;

SELECT * FROM price_alerts LIMIT 10;
SELECT * FROM trades_per_symbol LIMIT 12;
