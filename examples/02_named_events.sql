-- Product document: "Named Events". The SSE event type, id and retry become columns.
CREATE CONNECTION sse_stream FROM sse_source
WITH (endpoint = '${LAMINAR_DEMO}/events');

CREATE TABLE typed_events (
    event_name TEXT,
    event_data JSON,
    event_id TEXT,
    retry_ms INTEGER
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    capture_event_name = true,
    capture_event_id = true,
    capture_retry = true
);

SELECT * FROM typed_events LIMIT 5;
