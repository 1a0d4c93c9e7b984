-- Product document: "Filtered Events". Only message, update and notification events
-- (the demo feed also sends heartbeat events, which are dropped).
CREATE CONNECTION sse_stream FROM sse_source
WITH (endpoint = '${LAMINAR_DEMO}/events');

CREATE TABLE filtered_events (
    data JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    event_type_filter = '["message", "update", "notification"]'
);

SELECT data->>'action' AS action, data->>'user_id' AS user_id FROM filtered_events LIMIT 5;
