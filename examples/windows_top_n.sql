-- Top-N per window: the three busiest symbols (by volume) of every 10 seconds, busiest
-- first. Each window comes out whole, so a ranking partitioned by the window is exact
-- however the stream is batched; ORDER BY window first sorts each window's rows.
CREATE TABLE trades (
    symbol TEXT,
    price DECIMAL,
    volume BIGINT,
    timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    endpoint = '${LAMINAR_DEMO}/stocks?rate=0&count=30000&epoch=2026-01-01T00:00:00Z',
    event_time_field = 'timestamp'
);

CREATE VIEW volume_per_window AS
SELECT symbol, SUM(volume) AS volume, TUMBLE(INTERVAL '10' SECOND) AS window
FROM trades
GROUP BY symbol, window;

SELECT window.start AS window_start, symbol, volume
FROM volume_per_window
QUALIFY row_number() OVER (PARTITION BY window ORDER BY volume DESC, symbol) <= 3
ORDER BY window, volume DESC, symbol;
