-- An OpenAI-style chat completion, streamed: POST the request once, read the chunks,
-- stop at `data: [DONE]`. Point endpoint at a real API (and set token = '${OPENAI_API_KEY}')
-- or run against the demo server, which serves the same wire format:
--   laminar demo-server & LAMINAR_DEMO=http://127.0.0.1:8765 laminar run examples/chat_completion.sql
-- max_reconnect_attempts = 0: never POST again (a retry would duplicate rows and, on a
-- real API, bill again); end_of_stream_data = '[DONE]': that value ends the stream
-- cleanly, without a row. The body is a secret: SHOW prints it as ***.
CREATE TABLE chat (
    id TEXT,
    model TEXT,
    choices JSON
) WITH (
    connector = 'sse_source',
    endpoint = '${LAMINAR_DEMO}/v1/chat/completions',
    method = 'POST',
    body = '{"model": "laminar-demo-1", "stream": true,
             "messages": [{"role": "user", "content": "Stream me a short answer"}]}',
    max_reconnect_attempts = 0,
    end_of_stream_data = '[DONE]',
    format = 'json'
);

-- One row per token; the query ends (exit 0) when the answer is complete.
SELECT choices->0->'delta'->>'content' AS token,
       choices->0->>'finish_reason' AS finish_reason
FROM chat;
