-- Windows: trades per symbol every 10 seconds, on the demo feed's stock prices.
-- Event time comes from the payload's timestamp; a window is emitted once, when the
-- watermark (largest timestamp seen - 2 s) passes its end. The feed here is finite and
-- deterministic (30,000 events 1 ms apart from a fixed epoch), so the answer is too:
-- when the stream ends (204), every open window is emitted.
CREATE TABLE trades (
    symbol TEXT,
    price DECIMAL,
    volume BIGINT,
    timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    endpoint = '${LAMINAR_DEMO}/stocks?rate=0&count=30000&epoch=2026-01-01T00:00:00Z',
    format = 'json',
    event_time_field = 'timestamp',
    watermark_delay_ms = 2000
);

SELECT symbol,
       COUNT(*) AS trades,
       AVG(price) AS avg_price,
       SUM(volume) AS volume,
       TUMBLE(INTERVAL '10' SECOND) AS window
FROM trades
GROUP BY symbol, window;
