"""sse-contract-tests: basic parsing, line feeds, BOM and payload sizes."""

from __future__ import annotations

import pytest

from tests.contract.harness import BOM, Client, Event
from tests.support.sse_server import SSEServer, Stream, raw, stall


async def parsed(server: SSEServer, *chunks: str, count: int, chunk_size: int = 0) -> list:
    server.add(Stream(*(raw(c, chunk_size=chunk_size, pause=0.002) for c in chunks), stall()))
    async with Client(server.url) as client:
        return await client.events(count)


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        (["data: Hello\n\n"], [Event("Hello")]),
        (["data: Hel", "lo\n\n"], [Event("Hello")]),
        (["data: Hello\n\ndata: World\n\n"], [Event("Hello"), Event("World")]),
        (["data: Hello\ndata:World\n\n"], [Event("Hello\nWorld")]),
        (["data:\n\n"], [Event("")]),
        (["event: greeting\ndata: Hello\n\n"], [Event("Hello", "greeting")]),
        (["id: abc\ndata: Hello\n\n"], [Event("Hello", id="abc")]),
        (["event: greeting\nid: abc\ndata: Hello\n\n"], [Event("Hello", "greeting", "abc")]),
        (["id: a\x00bc\ndata: Hello\n\n"], [Event("Hello")]),
        (
            ["id: abc\ndata: first\n\n", "data: second\n\n"],
            [Event("first", id="abc"), Event("second", id="abc")],
        ),
        (
            ["id: abc\ndata: first\n\n", "id: \ndata: second\n\n"],
            [Event("first", id="abc"), Event("second")],
        ),
        (["data: Hello\nid: abc\nevent: greeting\n\n"], [Event("Hello", "greeting", "abc")]),
        (["event: greeting\ncolor: blue\ndata: Hello\n\n"], [Event("Hello", "greeting")]),
        (["event:greeting\ndata:Hello\n\n"], [Event("Hello", "greeting")]),
        (["event:  greeting\ndata:  Hello\n\n"], [Event(" Hello", " greeting")]),
        (["data\n\ndata\ndata\n\n"], [Event(""), Event("\n")]),
        (["data: €豆腐\n\n"], [Event("€豆腐")]),
    ],
    ids=lambda v: repr(v)[:40] if isinstance(v, list) else None,
)
async def test_basic_parsing(sse_server: SSEServer, chunks: list[str], expected: list) -> None:
    assert await parsed(sse_server, *chunks, count=len(expected)) == expected


async def test_many_messages_in_rapid_succession(sse_server: SSEServer) -> None:
    text = "".join(f"data: message {i}\n\n" for i in range(100))
    got = await parsed(sse_server, text, count=100)
    assert got == [Event(f"message {i}") for i in range(100)]


async def test_multi_byte_characters_in_single_byte_pieces(sse_server: SSEServer) -> None:
    assert await parsed(sse_server, "data: €豆腐\n\n", count=1, chunk_size=1) == [Event("€豆腐")]


LINEFEED_CASES = [
    ("data: event 1{t}{t}", [Event("event 1")]),
    (
        "data: event 1{t}{t}data: event 2 line 1{t}data: event 2 line 2{t}{t}",
        [Event("event 1"), Event("event 2 line 1\nevent 2 line 2")],
    ),
    ("data:{t}data: line2{t}data: line3{t}{t}", [Event("\nline2\nline3")]),
    ("data: line1{t}data:{t}data: line3{t}{t}", [Event("line1\n\nline3")]),
    ("data: event 1{t}{t}{t}data: event 2{t}{t}", [Event("event 1"), Event("event 2")]),
    ("data: event 1{t}{t}{t}{t}data: event 2{t}{t}", [Event("event 1"), Event("event 2")]),
]


@pytest.mark.parametrize("terminator", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("chunk_size", [0, 1, 2], ids=["one-chunk", "1-char", "2-char"])
@pytest.mark.parametrize("case", range(len(LINEFEED_CASES)))
async def test_linefeeds(
    sse_server: SSEServer, terminator: str, chunk_size: int, case: int
) -> None:
    template, expected = LINEFEED_CASES[case]
    text = template.format(t=terminator)
    assert await parsed(sse_server, text, count=len(expected), chunk_size=chunk_size) == expected


async def test_crlf_where_cr_ends_a_chunk(sse_server: SSEServer) -> None:
    chunks = ["data: Hello\r", "\ndata: World\r", "\n\r\ndata: OK\r", "\n", "\r", "\n"]
    assert await parsed(sse_server, *chunks, count=2) == [Event("Hello\nWorld"), Event("OK")]


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ([BOM + "data: Hello\n\n"], [Event("Hello")]),
        ([BOM + "event: greeting\nid: abc\ndata: Hello\n\n"], [Event("Hello", "greeting", "abc")]),
        ([BOM + "data: First\n\ndata: Second\n\n"], [Event("First"), Event("Second")]),
        (
            ["data: First\n\n", "data: " + BOM + "Second\n\n"],
            [Event("First"), Event(BOM + "Second")],
        ),
        ([BOM + "data: " + BOM + "Hello\n\n"], [Event(BOM + "Hello")]),
        ([BOM + "data: Line1\ndata: Line2\n\n"], [Event("Line1\nLine2")]),
        ([BOM + "data:\n\n"], [Event("")]),
    ],
)
async def test_bom(sse_server: SSEServer, chunks: list[str], expected: list) -> None:
    assert await parsed(sse_server, *chunks, count=len(expected)) == expected


@pytest.mark.parametrize(
    "split",
    [[b"\xef\xbb", b"\xbfdata: Hello\n\n"], [b"\xef", b"\xbb", b"\xbf", b"data: Hello\n\n"]],
)
async def test_bom_split_across_chunks(sse_server: SSEServer, split: list[bytes]) -> None:
    sse_server.add(Stream(*(raw(c, pause=0) for c in split), stall()))
    async with Client(sse_server.url) as client:
        assert await client.events(1) == [Event("Hello")]


SIZES = [1, 128, 512, 1023, 1024, 1025, 2048, 3999, 4094, 4096, 4098, 6144, 8189, 8192, 8195,
         12288, 16384, 32768, 65536, 262144, 1048576]  # fmt: skip


@pytest.mark.parametrize("size", SIZES)
async def test_payload_sizes_are_delivered(sse_server: SSEServer, size: int) -> None:
    data = "x" * size
    [got] = await parsed(sse_server, f"data: {data}\n\n", count=1)
    assert got.data == data


@pytest.mark.parametrize("megabytes", [7, 14])
async def test_large_events_within_the_default_max_event_size(
    sse_server: SSEServer, megabytes: int
) -> None:
    data = "y" * (megabytes * 1_000_000)
    [got] = await parsed(sse_server, f"data: {data}\n\n", count=1)
    assert len(got.data) == len(data)
