-- Product document: "Reconnection Strategy". The demo feed ends each response after
-- 4 events (drop_every), so the connection is re-established and resumes by Last-Event-ID.
CREATE CONNECTION resilient_sse FROM sse_source
WITH (
    endpoint = '${LAMINAR_DEMO}/stocks?drop_every=4&retry=50',
    max_reconnect_attempts = 10,
    reconnect_backoff_ms = 1000,
    reconnect_multiplier = 2.0,
    max_reconnect_interval_ms = 60000
);

CREATE TABLE resilient_prices (
    event_id TEXT,
    symbol TEXT,
    price DOUBLE
) WITH (
    connector = 'sse_source',
    connection = 'resilient_sse',
    capture_event_id = true
);

SELECT event_id, symbol, price FROM resilient_prices LIMIT 10;
