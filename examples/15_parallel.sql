-- Product document: "Parallel Processing". Rows are processed in 4 partitions by the SSE
-- event type (order is kept per event type); system.connector_status shows the partitions.
CREATE CONNECTION sse_stream FROM sse_source
WITH (endpoint = '${LAMINAR_DEMO}/social');

CREATE TABLE parallel_sse (
    data JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    parallelism = 4,
    partition_by = 'event_type'
);

SELECT data->>'post_id' AS post_id, data->>'user_id' AS user_id FROM parallel_sse LIMIT 8;
