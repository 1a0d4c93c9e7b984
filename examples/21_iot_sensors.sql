-- Product document: "IoT Sensor Stream".
CREATE TABLE sensor_stream (
    device_id TEXT,
    reading_type TEXT,
    value FLOAT,
    unit TEXT,
    timestamp TIMESTAMP
) WITH (
    connector = 'sse_source',
    connection = 'iot_sse',
    endpoint = '${LAMINAR_DEMO}/sensors'
);

SELECT * FROM sensor_stream WHERE reading_type = 'temperature' LIMIT 5;
