-- Product document: "Event Deduplication". The demo feed restarts at id 1 on each
-- reconnection when asked to (resume=0), so ids repeat; duplicates within 60 s are dropped.
CREATE CONNECTION sse_stream FROM sse_source
WITH (endpoint = '${LAMINAR_DEMO}/stocks?drop_every=3&resume=0&retry=20');

CREATE TABLE unique_events (
    event_id TEXT PRIMARY KEY,
    data JSON
) WITH (
    connector = 'sse_source',
    connection = 'sse_stream',
    deduplicate_by = 'event_id',
    dedup_window_ms = 60000
);

SELECT event_id FROM unique_events LIMIT 3;
