-- Product document: "Custom Parsing". The regex groups fill the columns in order.
CREATE CONNECTION sse_stream FROM sse_source
WITH (endpoint = '${LAMINAR_DEMO}/custom');

CREATE TABLE parsed_events (
    id TEXT,
    value FLOAT,
    metadata JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    format = 'custom',
    parser_regex = '^id:(\S+) value:(\d+\.?\d*) meta:(.*)$'
);

SELECT id, value, metadata->>'unit' AS unit FROM parsed_events LIMIT 5;
