"""The demo feed (laminar.demo_server) against a real aiohttp client on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import zlib

import aiohttp
import pytest

from laminar.demo_server import FEEDS, start_demo_server
from laminar.sse import SSEComment, SSEDecoder, SSEEvent

EPOCH = "2026-11-28T09:00:00Z"
PARSER_REGEX = r"^id:(\S+) value:(\d+\.?\d*) meta:(.*)$"  # the document's custom format


@pytest.fixture
async def demo():
    """A demo server with unpaced feeds and deterministic timestamps."""
    runner, url = await start_demo_server(rate=0, epoch=EPOCH, keepalive_s=0)
    yield url
    await runner.cleanup()


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


async def fetch(
    session: aiohttp.ClientSession, url: str, *, limit: int | None = None, **kwargs
) -> tuple[aiohttp.ClientResponse, list, bytes]:
    """GET/POST url; return the response, its decoded events (and comments) and raw body."""
    method = kwargs.pop("method", "GET")
    decoder = SSEDecoder(keep_comments=True)
    items: list = []
    raw = bytearray()
    async with session.request(method, url, **kwargs) as resp:
        if resp.status != 200:
            return resp, [], await resp.read()
        async for chunk in resp.content.iter_any():
            raw += chunk
            items += decoder.feed(chunk)
            if limit is not None and sum(isinstance(i, SSEEvent) for i in items) >= limit:
                break
    return resp, items, bytes(raw)


def events_of(items: list) -> list[SSEEvent]:
    return [i for i in items if isinstance(i, SSEEvent)]


async def test_stocks_named_events_ids_retry_and_schema(demo, session):
    resp, items, _ = await fetch(session, f"{demo}/stocks?count=50")
    assert resp.headers["Content-Type"] == "text/event-stream"
    events = events_of(items)
    assert [e.id for e in events] == [str(n) for n in range(1, 51)]
    assert {e.event for e in events} == {"price", "trade"}
    assert events[0].retry == 1000
    assert all(e.retry is None for e in events[1:])
    first = json.loads(events[0].data)
    assert list(first) == ["symbol", "price", "volume", "timestamp"]
    assert first["timestamp"] == "2026-11-28T09:00:00.001Z"  # epoch + id * 1 ms when unpaced
    assert isinstance(first["price"], float) and isinstance(first["volume"], int)


async def test_stocks_produce_price_alerts(demo, session):
    _, items, _ = await fetch(session, f"{demo}/stocks?count=300")
    prices = [json.loads(e.data)["price"] for e in events_of(items)]
    assert any(p > 1000 for p in prices)
    assert any(p < 10 for p in prices)
    assert sum(p > 1000 or p < 10 for p in prices) < len(prices) / 3


async def test_resume_from_last_event_id_repeats_the_same_content(demo, session):
    _, fresh, _ = await fetch(session, f"{demo}/sensors?count=20")
    _, resumed, _ = await fetch(
        session, f"{demo}/sensors?count=20", headers={"Last-Event-ID": "10"}
    )
    fresh_events, resumed_events = events_of(fresh), events_of(resumed)
    assert [e.id for e in resumed_events] == [str(n) for n in range(11, 21)]
    assert [e.data for e in resumed_events] == [e.data for e in fresh_events[10:]]
    assert resumed_events[0].retry == 1000  # every response announces retry first


async def test_resume_past_count_gets_204_and_query_param_works(demo, session):
    _, items, _ = await fetch(session, f"{demo}/text?count=5&last_event_id=3")
    assert [e.id for e in events_of(items)] == ["4", "5"]
    resp, _, _ = await fetch(session, f"{demo}/text?count=5", headers={"Last-Event-ID": "5"})
    assert resp.status == 204


async def test_seed_selects_a_different_deterministic_stream(demo, session):
    _, a, _ = await fetch(session, f"{demo}/social?count=10&seed=7")
    _, b, _ = await fetch(session, f"{demo}/social?count=10&seed=7")
    _, c, _ = await fetch(session, f"{demo}/social?count=10&seed=8")
    assert [e.data for e in events_of(a)] == [e.data for e in events_of(b)]
    assert [e.data for e in events_of(a)] != [e.data for e in events_of(c)]


async def test_sensors_shape(demo, session):
    _, items, _ = await fetch(session, f"{demo}/sensors?count=40")
    for e in events_of(items):
        assert e.event == "message"
        row = json.loads(e.data)
        assert list(row) == ["device_id", "reading_type", "value", "unit", "timestamp"]
        assert row["device_id"].startswith("sensor-")


async def test_social_has_filterable_event_types(demo, session):
    _, items, _ = await fetch(session, f"{demo}/social?count=200")
    events = events_of(items)
    assert {"post", "comment", "like"} < {e.event for e in events}
    assert {e.event for e in events} - {"post", "comment", "like"}  # share / follow
    for e in events:
        row = json.loads(e.data)
        assert set(row) == {"post_id", "user_id", "content", "timestamp", "metrics"}
        assert set(row["metrics"]) == {"likes", "comments", "shares"}


async def test_text_and_custom_formats(demo, session):
    _, text, _ = await fetch(session, f"{demo}/text?count=20")
    for e in events_of(text):
        assert "\n" not in e.data and e.data.startswith("2026-11-28T09:00:00.")
    _, custom, _ = await fetch(session, f"{demo}/custom?count=50")
    for e in events_of(custom):
        match = re.match(PARSER_REGEX, e.data)
        assert match, e.data
        assert isinstance(json.loads(match.group(3)), dict)


async def test_errors_parameter_makes_payloads_malformed(demo, session):
    _, items, _ = await fetch(session, f"{demo}/stocks?count=5&errors=1")
    for e in events_of(items):
        with pytest.raises(ValueError):
            json.loads(e.data)
    _, items, _ = await fetch(session, f"{demo}/custom?count=5&errors=1")
    assert not any(re.match(PARSER_REGEX, e.data) for e in events_of(items))


@pytest.mark.parametrize(
    ("workload", "min_size", "max_size"),
    [("small", 85, 110), ("large", 3900, 4400), ("multiline", 95, 130), ("crlf", 90, 115)],
)
async def test_bench_workloads(demo, session, workload, min_size, max_size):
    count = 3000
    resp, items, raw = await fetch(session, f"{demo}/bench?workload={workload}&count={count}")
    assert "Content-Encoding" not in resp.headers  # bench is never compressed unless asked
    events = events_of(items)
    assert [e.id for e in events] == [str(n) for n in range(1, count + 1)]
    assert {e.event for e in events} == {"tick"}
    assert min_size <= len(raw) / count <= max_size
    rows = [json.loads(e.data) for e in events]
    assert any(r["price"] > 1000 or r["price"] < 10 for r in rows)
    if workload == "multiline":
        assert all(e.data.count("\n") == 2 for e in events)
    if workload == "crlf":
        assert raw.count(b"\r\n") == raw.count(b"\n")
    else:
        assert b"\r" not in raw


async def test_bench_resumes_and_is_identical_across_rounds(demo, session):
    _, _, whole = await fetch(session, f"{demo}/bench?count=5000")
    _, _, again = await fetch(session, f"{demo}/bench?count=5000")  # from the block cache
    assert whole == again
    _, items, _ = await fetch(
        session, f"{demo}/bench?count=5000", headers={"Last-Event-ID": "4999"}
    )
    assert [e.id for e in events_of(items)] == ["5000"]


async def test_gzip_is_flushed_per_write_so_events_arrive_when_sent(session):
    runner, url = await start_demo_server(rate=20)
    try:
        async with session.get(f"{url}/stocks?gzip=1", auto_decompress=False) as resp:
            assert resp.headers["Content-Encoding"] == "gzip"
            inflate = zlib.decompressobj(31)
            decoder = SSEDecoder()
            events: list = []

            async def first_event() -> None:
                async for chunk in resp.content.iter_any():
                    events.extend(decoder.feed(inflate.decompress(chunk)))
                    if events:
                        return

            # The stream is endless and slow: without a flush per event, nothing would come.
            await asyncio.wait_for(first_event(), 30)
        assert events[0].id == "1"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip, deflate", "gzip"),
        ("deflate", "deflate"),
        ("gzip;q=0, deflate", "deflate"),
        ("", None),
    ],
)
async def test_accept_encoding_is_honoured(demo, session, accept, expected):
    headers = {"Accept-Encoding": accept} if accept else {"Accept-Encoding": "identity"}
    resp, items, _ = await fetch(session, f"{demo}/stocks?count=3", headers=headers)
    assert resp.headers.get("Content-Encoding") == expected
    assert len(events_of(items)) == 3  # aiohttp decompresses


async def test_gzip_zero_refuses_compression(demo, session):
    resp, _, _ = await fetch(session, f"{demo}/stocks?count=1&gzip=0")
    assert "Content-Encoding" not in resp.headers


async def test_rate_paces_events(demo, session):
    started = time.monotonic()
    _, items, _ = await fetch(session, f"{demo}/stocks?count=20&rate=100")
    elapsed = time.monotonic() - started
    assert len(events_of(items)) == 20
    assert 0.15 <= elapsed < 2.0  # 19 intervals of 10 ms


async def test_keepalive_comments(demo, session):
    _, items, _ = await fetch(session, f"{demo}/stocks?count=2&rate=4&keepalive=0.05")
    comments = [i.text.strip() for i in items if isinstance(i, SSEComment)]
    assert "keep-alive" in comments


async def test_drop_every_ends_the_response_and_resume_continues(demo, session):
    _, first, _ = await fetch(session, f"{demo}/stocks?count=12&drop_every=5")
    assert [e.id for e in events_of(first)] == ["1", "2", "3", "4", "5"]
    _, second, _ = await fetch(
        session, f"{demo}/stocks?count=12&drop_every=5", headers={"Last-Event-ID": "5"}
    )
    assert [e.id for e in events_of(second)] == ["6", "7", "8", "9", "10"]


@pytest.mark.parametrize(
    ("path", "headers", "status", "message"),
    [
        ("/stocks?rat=5", {}, 400, "did you mean 'rate'"),
        ("/stocks?rate=-1", {}, 400, "must be >= 0"),
        ("/stocks?count=x", {}, 400, "not an integer"),
        ("/stocks?errors=2", {}, 400, "fraction"),
        ("/stocks?epoch=yesterday", {}, 400, "ISO-8601"),
        ("/stocks", {"Last-Event-ID": "abc"}, 400, "Last-Event-ID"),
        ("/stonks", {}, 404, "did you mean '/stocks'"),
        ("/bench?workload=huge", {}, 400, "choose one of small, large, multiline, crlf"),
    ],
)
async def test_bad_requests_explain_the_fix(demo, session, path, headers, status, message):
    resp, _, body = await fetch(session, demo + path, headers=headers)
    assert resp.status == status
    assert message in body.decode()


async def test_secure_feeds_need_the_token(demo, session):
    resp, _, body = await fetch(session, f"{demo}/secure/stocks?count=1")
    assert resp.status == 401 and b"Authorization: Bearer" in body
    wrong = {"Authorization": "Bearer nope"}
    assert (await fetch(session, f"{demo}/secure/stocks?count=1", headers=wrong))[0].status == 401
    for headers in ({"Authorization": "Bearer demo-token"}, {"X-API-Key": "demo-token"}):
        resp, items, _ = await fetch(session, f"{demo}/secure/stocks?count=2", headers=headers)
        assert resp.status == 200 and len(events_of(items)) == 2


async def test_post_body_adds_query_parameters(demo, session):
    body = json.dumps({"count": 3, "seed": 4})
    _, items, _ = await fetch(session, f"{demo}/stocks", method="POST", data=body)
    _, same, _ = await fetch(session, f"{demo}/stocks?count=3&seed=4")
    assert [e.data for e in events_of(items)] == [e.data for e in events_of(same)]
    resp, _, text = await fetch(session, f"{demo}/stocks", method="POST", data="[1]")
    assert resp.status == 400 and b"JSON object" in text


async def test_index_lists_every_feed(demo, session):
    async with session.get(demo + "/") as resp:
        index = await resp.json()
    for name in FEEDS:
        assert f"{demo}/{name}" in index["endpoints"]
    assert "rate" in index["feed_parameters"] and "workload" in index["bench_parameters"]


async def test_cleanup_ends_open_streams_promptly(session):
    runner, url = await start_demo_server(rate=2)
    async with session.get(f"{url}/stocks") as resp:
        await resp.content.readany()
        await asyncio.wait_for(runner.cleanup(), 30)  # an open stream does not hold it up
        assert await asyncio.wait_for(resp.content.read(), 30) is not None  # EOF, not a hang


def test_cli_demo_server_prints_its_url_first_and_stops_on_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "-m", "laminar", "demo-server", "--port", "0", "--rate", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        import urllib.request

        with urllib.request.urlopen(f"{url}/text?count=2", timeout=5) as resp:
            body = resp.read().decode()
        assert body.startswith("id: 1\nretry: 1000\ndata: ")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_demo_server_port_in_use_is_a_clear_error():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        result = subprocess.run(
            [sys.executable, "-m", "laminar", "demo-server", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=20,
            env=env,
        )
    assert result.returncode == 1
    assert "--port 0" in result.stderr and "Traceback" not in result.stderr
