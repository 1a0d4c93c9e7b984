"""The live output tail: bounded, never blocking, resumable; slow and dead clients cost nothing."""

from __future__ import annotations

import asyncio

from aiohttp import ClientSession

from laminar.console.app import Console
from laminar.console.manager import Pipeline
from laminar.console.tail import OutputTail
from tests.console.conftest import TOKEN


async def _until(check, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def test_history_is_bounded_and_resumes_after_an_id() -> None:
    tail = OutputTail(history_bytes=1000, client_bytes=10_000)
    for n in range(100):
        tail.publish([f'{{"n":{n}}}'])
    assert tail.last_id == 100
    sub = tail.subscribe(after=95)
    got = [sub._queue[i][0] for i in range(len(sub._queue))]
    assert got == [96, 97, 98, 99, 100]
    assert sum(len(d) for _, d in tail._history) <= 1000


def test_a_slow_subscriber_is_cut_off_and_freed() -> None:
    tail = OutputTail(client_bytes=1000)
    slow = tail.subscribe()
    for n in range(200):
        tail.publish(['{"x":"' + "a" * 50 + f'","n":{n}}}'])  # never blocks
    assert slow.overflowed and slow.closed
    assert slow.queued_bytes == 0 and tail.subscribers == 0


def test_large_batches_are_split() -> None:
    tail = OutputTail(history_bytes=10 << 20)
    tail.publish(['"' + "x" * 1000 + '"'] * 1000)  # ~1 MB in one batch
    assert tail.last_id > 1 and tail.rows_published == 1000


def _fake_pipeline(console: Console) -> Pipeline:
    pipeline = Pipeline(id="t", name="t", sql="", state="running",
                        tail=OutputTail(client_bytes=256 * 1024))
    console.manager.pipelines["t"] = pipeline
    return pipeline


async def test_a_client_that_never_reads_is_dropped_while_others_go_on(console: Console) -> None:
    pipeline = _fake_pipeline(console)
    host, port = console.url.removeprefix("http://").rsplit(":", 1)
    _reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"GET /api/v1/pipelines/t/output HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {TOKEN}\r\n\r\n".encode()
    )
    await writer.drain()  # and never read a byte of the answer
    await _until(lambda: pipeline.tail.subscribers == 1)
    row = '{"payload":"' + "z" * 4000 + '"}'
    for _ in range(2000):  # ~8 MB, far past the socket buffers and the client's queue
        pipeline.tail.publish([row] * 4)
        await asyncio.sleep(0)
    await _until(lambda: pipeline.tail.subscribers == 0)

    # a reading client still gets every new batch
    async with ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session:
        async with session.get(f"{console.url}/api/v1/pipelines/t/output") as resp:
            await _until(lambda: pipeline.tail.subscribers == 1)
            pipeline.tail.publish(['{"n":1}'])
            seen = b""
            while b'data: [{"n":1}]' not in seen:
                seen += await resp.content.readany()
        await _until(lambda: pipeline.tail.subscribers == 0)  # a disconnect frees it
    writer.close()


async def test_resume_with_last_event_id_query_parameter(console: Console) -> None:
    pipeline = _fake_pipeline(console)
    for n in range(5):
        pipeline.tail.publish([f'{{"n":{n}}}'])
    url = f"{console.url}/api/v1/pipelines/t/output?last_event_id=3"
    async with (
        ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session,
        session.get(url) as r,
    ):
        seen = b""
        while b"id: 5" not in seen:
            seen += await r.content.readany()
    assert b"id: 4\n" in seen and b"id: 3\n" not in seen
