-- Product document: "Last Event ID". The first connection resumes after LAST_PROCESSED_ID
-- (default 100).
CREATE CONNECTION resumable_sse FROM sse_source
WITH (
    endpoint = '${LAMINAR_DEMO}/stocks',
    last_event_id = '${LAST_PROCESSED_ID:-100}',
    persist_event_id = true
);

CREATE TABLE resumed_prices (
    event_id TEXT,
    symbol TEXT,
    price DOUBLE
) WITH (
    connector = 'sse_source',
    connection = 'resumable_sse',
    capture_event_id = true
);

SELECT event_id, symbol FROM resumed_prices LIMIT 3;
