-- Product document: "Social Media Feed". Only post, comment and like events.
CREATE TABLE social_stream (
    post_id TEXT,
    user_id TEXT,
    content TEXT,
    timestamp TIMESTAMP,
    metrics JSON
) WITH (
    connector = 'sse_source',
    connection = 'social_sse',
    endpoint = '${LAMINAR_DEMO}/social',
    event_type_filter = '["post", "comment", "like"]'
);

SELECT * FROM social_stream LIMIT 5;
