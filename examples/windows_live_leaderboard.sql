-- A live leaderboard: the three symbols with the most volume so far, kept up to date.
-- An updating result (GROUP BY without a window) with a QUALIFY over its own columns:
-- after each batch every symbol is ranked, and what entered ("c"), changed ("u") or
-- left ("d") the top three is sent. A terminal shows the three lines, updated in place.
CREATE TABLE trades (
    symbol TEXT,
    price DECIMAL,
    volume BIGINT,
    timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    endpoint = '${LAMINAR_DEMO}/stocks?rate=0&count=5000&epoch=2026-01-01T00:00:00Z',
    buffer_size = 500
);

SELECT symbol, SUM(volume) AS volume
FROM trades
GROUP BY symbol
QUALIFY row_number() OVER (ORDER BY volume DESC, symbol) <= 3;
