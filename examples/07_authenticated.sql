-- Product document: "Authenticated Streams". The token comes from the environment
-- (SSE_TOKEN, default 'demo-token': the demo server's) and never appears in SHOW output.
CREATE CONNECTION auth_sse FROM sse_source
WITH (
    endpoint = '${LAMINAR_DEMO}/secure/stocks',
    auth_type = 'bearer',
    token = '${SSE_TOKEN:-demo-token}',
    headers = '{"X-Client-Id": "laminar-consumer"}'
);

CREATE TABLE secure_prices (
    symbol TEXT,
    price DOUBLE
) WITH (
    connector = 'sse_source',
    connection = 'auth_sse'
);

SHOW CONNECTIONS;
SELECT * FROM secure_prices LIMIT 3;
