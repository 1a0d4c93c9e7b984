-- Product document: "JSON Events". A JSON column with no field of its name gets the whole payload.
CREATE CONNECTION sse_stream FROM sse_source
WITH (endpoint = '${LAMINAR_DEMO}/stocks');

CREATE TABLE json_events (
    payload JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    format = 'json'
);

SELECT payload, payload->>'symbol' AS symbol FROM json_events LIMIT 5;
