-- Product document: "Plain Text Events". Each event's data is the message; add_timestamp
-- fills the TIMESTAMP column with the arrival time.
CREATE CONNECTION sse_stream FROM sse_source
WITH (endpoint = '${LAMINAR_DEMO}/text');

CREATE TABLE text_events (
    message TEXT,
    timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    format = 'text',
    add_timestamp = true
);

SELECT * FROM text_events LIMIT 5;
