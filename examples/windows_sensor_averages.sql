-- Windows: sensor averages per device and reading per minute, Flink's spelling, with a
-- WATERMARK clause instead of event_time_field. 15,000 readings 10 ms apart: 2.5 minutes.
CREATE TABLE sensors (
    device_id TEXT,
    reading_type TEXT,
    value DOUBLE,
    unit TEXT,
    timestamp TIMESTAMP,
    WATERMARK FOR timestamp AS timestamp - INTERVAL '5' SECOND
) WITH (
    connector = 'sse_source',
    endpoint = '${LAMINAR_DEMO}/sensors?rate=0&count=15000&step_ms=10&epoch=2026-01-01T00:00:00Z'
);

SELECT device_id, window_start, window_end,
       COUNT(*) AS readings,
       round(AVG(value), 2) AS avg_temperature,
       quantile_cont(value, 0.9) AS p90
FROM sensors
WHERE reading_type = 'temperature'
GROUP BY device_id, TUMBLE(timestamp, INTERVAL '1' MINUTE);
