-- Product document: "Event Buffering". Batches of up to 1000 events, or 100 ms.
CREATE CONNECTION sse_stream FROM sse_source
WITH (endpoint = '${LAMINAR_DEMO}/sensors');

CREATE TABLE buffered_events (
    data JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    buffer_size = 1000,
    buffer_timeout_ms = 100
);

SELECT data->>'device_id' AS device_id, data->>'reading_type' AS reading FROM buffered_events LIMIT 5;
