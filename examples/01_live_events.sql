-- Product document: "SQL Example". A connection, a JSON table over it.
-- Run: laminar demo-server & LAMINAR_DEMO=http://127.0.0.1:8765 laminar run examples/01_live_events.sql
CREATE CONNECTION sse_stream FROM sse_source
WITH (
    endpoint = '${LAMINAR_DEMO}/events',
    headers = '{"Accept": "text/event-stream"}',
    reconnect_interval_ms = 5000
);

CREATE TABLE live_events (
    event_id TEXT,
    event_type TEXT,
    timestamp TIMESTAMP,
    data JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    format = 'json'
);

SELECT * FROM live_events LIMIT 5;
