-- Product document: "Compression". gzip bodies are decoded incrementally.
CREATE CONNECTION compressed_sse FROM sse_source
WITH (
    endpoint = '${LAMINAR_DEMO}/sensors?gzip=1',
    headers = '{"Accept-Encoding": "gzip, deflate"}',
    decompress_response = true
);

CREATE TABLE compressed_readings (
    device_id TEXT,
    reading_type TEXT,
    value DOUBLE
) WITH (
    connector = 'sse_source',
    connection = 'compressed_sse'
);

SELECT * FROM compressed_readings LIMIT 5;
