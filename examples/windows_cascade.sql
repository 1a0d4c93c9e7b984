-- Cascading windows: per-second counts, then the busiest second of each 10 seconds.
-- The second query reads the first view's windows; their event time is their end.
CREATE TABLE trades (
    symbol TEXT,
    price DECIMAL,
    volume BIGINT,
    timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    endpoint = '${LAMINAR_DEMO}/stocks?rate=0&count=20000&epoch=2026-01-01T00:00:00Z',
    event_time_field = 'timestamp'
);

CREATE VIEW per_second AS
SELECT COUNT(*) AS trades, TUMBLE(INTERVAL '1' SECOND) AS window
FROM trades
GROUP BY window;

SELECT MAX(trades) AS busiest_second, SUM(trades) AS trades, TUMBLE(INTERVAL '10' SECOND) AS window
FROM per_second
GROUP BY window;
