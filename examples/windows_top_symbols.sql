-- An updating result: GROUP BY without a window. Each batch sends the groups it changed,
-- as the row plus "op" ("c" created, "u" updated, "d" deleted); a terminal shows one line
-- per symbol, updated in place. HAVING drops the rare symbols.
CREATE TABLE trades (
    symbol TEXT,
    price DECIMAL,
    volume BIGINT,
    timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    endpoint = '${LAMINAR_DEMO}/stocks?rate=0&count=5000&epoch=2026-01-01T00:00:00Z'
);

SELECT symbol, COUNT(*) AS trades, SUM(volume) AS volume, MAX(price) AS high
FROM trades
GROUP BY symbol
HAVING COUNT(*) > 100;
