-- Product document: "Keep-Alive Handling". Comments count as activity; 45 s of silence
-- means the connection is dead and is re-established.
CREATE CONNECTION keepalive_sse FROM sse_source
WITH (
    endpoint = '${LAMINAR_DEMO}/sensors?keepalive=1',
    keepalive_timeout_ms = 45000,
    ignore_comments = false,
    comment_prefix = ':'
);

CREATE TABLE readings (
    device_id TEXT,
    value DOUBLE
) WITH (
    connector = 'sse_source',
    connection = 'keepalive_sse'
);

SELECT * FROM readings LIMIT 3;
