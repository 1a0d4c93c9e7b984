-- Product document: "Error Events". Malformed payloads (the demo sends ~30% with
-- errors=0.3) become rows with error_message and error_timestamp; the raw data is kept.
CREATE CONNECTION sse_stream FROM sse_source
WITH (endpoint = '${LAMINAR_DEMO}/stocks?errors=0.3');

CREATE TABLE sse_with_errors (
    data JSON,
    error_message TEXT,
    error_timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    capture_errors = true,
    continue_on_error = true
);

SELECT * FROM sse_with_errors WHERE error_message IS NOT NULL LIMIT 3;
