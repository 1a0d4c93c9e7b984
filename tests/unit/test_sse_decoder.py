"""SSEDecoder against the WHATWG rules, a reference model, and every chunk split."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.examples import examples

from laminar.errors import EventTooLargeError
from laminar.sse import SSEComment, SSEDecoder, SSEEvent


def decode(stream: bytes, **kwargs) -> list:
    return SSEDecoder(**kwargs).feed(stream)


def decode_bytewise(stream: bytes, **kwargs) -> list:
    decoder = SSEDecoder(**kwargs)
    out = []
    for i in range(len(stream)):
        out.extend(decoder.feed(stream[i : i + 1]))
    return out


def reference(stream: bytes, comment_prefix: str = ":", keep_comments: bool = False) -> list:
    """The spec's algorithm, written as plainly as possible, over the whole stream."""
    text = stream.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split(r"\r\n|\r|\n", text)
    lines.pop()  # the last piece is an unterminated line (or ""): never processed
    out: list = []
    data: list[str] = []
    event_type = ""
    id_buffer = ""
    block_retry = None
    for line in lines:
        if line == "":
            if data:
                out.append(
                    SSEEvent(event_type or "message", "\n".join(data), id_buffer, block_retry)
                )
            data, event_type, block_retry = [], "", None
            continue
        if line.startswith(":") or (comment_prefix and line.startswith(comment_prefix)):
            if keep_comments:
                body = line[1:] if line.startswith(":") else line[len(comment_prefix) :]
                out.append(SSEComment(body[1:] if body.startswith(" ") else body))
            continue
        if ":" in line:
            name, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            name, value = line, ""
        if name == "data":
            data.append(value)
        elif name == "event":
            event_type = value
        elif name == "id" and "\x00" not in value:
            id_buffer = value
        elif name == "retry" and re.fullmatch(r"[0-9]+", value):
            block_retry = int(value)
    return out


def ev(data: str, event: str = "message", id: str = "", retry: int | None = None) -> SSEEvent:
    return SSEEvent(event, data, id, retry)


# -- the spec's own examples -------------------------------------------------


def test_spec_example_stock_ticker() -> None:
    stream = b"data: YHOO\ndata: +2\ndata: 10\n\n"
    assert decode(stream) == [ev("YHOO\n+2\n10")]


def test_spec_example_ids_and_comments() -> None:
    stream = (
        b": test stream\n\ndata: first event\nid: 1\n\n"
        b"data:second event\nid\n\ndata:  third event\n\n"
    )
    assert decode(stream) == [
        ev("first event", id="1"),
        ev("second event", id=""),
        ev(" third event", id=""),
    ]


def test_spec_example_empty_data_events() -> None:
    stream = b"data\n\ndata\ndata\n\ndata:"
    assert decode(stream) == [ev(""), ev("\n")]


def test_spec_example_space_after_colon_is_optional() -> None:
    assert decode(b"data:test\n\ndata: test\n\n") == [ev("test"), ev("test")]


# -- line endings ---------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_every_line_ending(eol: bytes) -> None:
    stream = b"event: a" + eol + b"data: 1" + eol + b"data: 2" + eol + eol
    assert decode(stream) == [ev("1\n2", event="a")]


def test_mixed_line_endings() -> None:
    assert decode(b"data: a\r\ndata: b\rdata: c\n\r\n") == [ev("a\nb\nc")]


def test_cr_at_end_of_chunk_ends_line_at_once() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r") == []
    # the second CR is a blank line: dispatch now, without waiting for more bytes
    assert decoder.feed(b"\r") == [ev("x")]


def test_lf_after_split_crlf_belongs_to_the_cr() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r") == []
    assert decoder.feed(b"\n") == []  # the LF of CRLF, not a blank line
    assert decoder.feed(b"\r\n") == [ev("x")]


# -- encoding -----------------------------------------------------------------


def test_bom_stripped_once_at_start_only() -> None:
    bom = "\ufeff".encode()
    assert decode(bom + b"data: a\n\n") == [ev("a")]
    # a second BOM is part of the field name, which then is not "data"
    assert decode(bom + bom + b"data: a\n\n") == []
    assert decode(b"data: a\n\n" + bom + b"data: b\n\n") == [ev("a")]


def test_bom_split_across_chunks() -> None:
    bom = "\ufeff".encode()
    decoder = SSEDecoder()
    assert decoder.feed(bom[:1]) == []
    assert decoder.feed(bom[1:] + b"data: a\n\n") == [ev("a")]


def test_invalid_utf8_becomes_replacement_character() -> None:
    assert decode(b"data: \xff\xfe ok\n\n") == [ev("\ufffd\ufffd ok")]


def test_multibyte_character_split_across_chunks() -> None:
    stream = "data: caf\u00e9 \u20ac \U0001f600\n\n".encode()
    assert decode_bytewise(stream) == [ev("caf\u00e9 \u20ac \U0001f600")]


# -- fields -------------------------------------------------------------------


def test_only_one_leading_space_removed() -> None:
    assert decode(b"data:   x\n\n") == [ev("  x")]


def test_line_without_colon_is_field_with_empty_value() -> None:
    assert decode(b"data\n\n") == [ev("")]
    assert decode(b"event\ndata: x\n\n") == [ev("x")]


def test_unknown_fields_ignored_and_names_case_sensitive() -> None:
    assert decode(b"Data: no\nfoo: bar\ndata: yes\n\n") == [ev("yes")]


def test_event_type_resets_after_dispatch() -> None:
    assert decode(b"event: a\ndata: 1\n\ndata: 2\n\n") == [ev("1", event="a"), ev("2")]


def test_empty_event_type_means_message() -> None:
    assert decode(b"event:\ndata: 1\n\n") == [ev("1")]


def test_event_without_data_is_not_dispatched_but_its_id_counts() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 7\nevent: ping\n\n") == []
    assert decoder.last_event_id == "7"
    assert decoder.feed(b"data: x\n\n") == [ev("x", id="7")]


def test_id_with_nul_is_ignored() -> None:
    assert decode(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n") == [
        ev("a", id="1"),
        ev("b", id="1"),
    ]


def test_empty_id_resets_last_event_id() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 1\ndata: a\n\nid\ndata: b\n\n") == [ev("a", id="1"), ev("b", id="")]
    assert decoder.last_event_id == ""


def test_id_persists_across_events() -> None:
    assert decode(b"id: 5\ndata: a\n\ndata: b\n\n") == [ev("a", id="5"), ev("b", id="5")]


def test_last_event_id_changes_only_at_dispatch() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 9\ndata: a\n")
    assert decoder.last_event_id == ""  # the event is not complete yet
    decoder.feed(b"\n")
    assert decoder.last_event_id == "9"


def test_initial_last_event_id() -> None:
    decoder = SSEDecoder(last_event_id="41")
    assert decoder.feed(b"data: a\n\n") == [ev("a", id="41")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"1500", 1500),
        (b"0", 0),
        (b"+5", None),
        (b"-1", None),
        (b"1.5", None),
        (b"", None),
        (b" 5", None),
        ("\u0665".encode(), None),
        (b"12a", None),
    ],
)
def test_retry_only_ascii_digits(value: bytes, expected: int | None) -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"retry: " + value + b"\ndata: x\n\n")
    assert events == [ev("x", retry=expected)]
    assert decoder.retry == expected


def test_retry_applies_without_an_event_and_is_per_block_on_events() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: 100\n\n") == []
    assert decoder.retry == 100
    assert decoder.feed(b"data: a\n\n") == [ev("a")]  # not this block's retry
    assert decoder.retry == 100


def test_unterminated_event_is_never_dispatched() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: b\n") == [ev("a")]
    assert decoder.feed(b"data: c") == []


def test_blank_lines_between_events() -> None:
    assert decode(b"\n\n\ndata: a\n\n\n\ndata: b\n\n\n") == [ev("a"), ev("b")]


# -- comments -----------------------------------------------------------------


def test_comments_hidden_by_default_but_counted() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b": keep-alive\n\n:\ndata: a\n\n") == [ev("a")]
    assert decoder.comments_seen == 2


def test_comments_surfaced_in_order_when_asked() -> None:
    events = decode(b": hello\ndata: a\n\n:\n", keep_comments=True)
    assert events == [SSEComment("hello"), ev("a"), SSEComment("")]


def test_custom_comment_prefix() -> None:
    stream = b"# note\ndata: a\n\n: classic\n\n"
    assert decode(stream, comment_prefix="#", keep_comments=True) == [
        SSEComment("note"),
        ev("a"),
        SSEComment("classic"),
    ]
    # without the prefix, "# note" is an unknown field
    assert decode(stream) == [ev("a")]


# -- limits -------------------------------------------------------------------


def test_oversized_line_raises_without_buffering_it() -> None:
    decoder = SSEDecoder(max_event_size=100)
    decoder.feed(b"data: ok\n\ndata: ")
    with pytest.raises(EventTooLargeError, match="maximum event size") as info:
        for _ in range(100):
            decoder.feed(b"x" * 50)
    assert info.value.limit == 100
    assert decoder._line_size <= 100
    # the rest of the oversized event is skipped; the stream goes on after it
    assert decoder.feed(b"xxx\ndata: more\n\ndata: next\n\n") == [ev("next")]


def test_oversized_event_keeps_the_other_events_of_its_chunk() -> None:
    decoder = SSEDecoder(max_event_size=64)
    stream = b"data: a\n\n" + b"data: " + b"y" * 40 + b"\n" * 1 + b"data: " + b"z" * 40 + b"\n\n"
    stream += b"data: b\n\n"
    with pytest.raises(EventTooLargeError) as info:
        decoder.feed(stream)
    assert info.value.events == [ev("a"), ev("b")]
    assert decoder.feed(b"data: c\n\n") == [ev("c")]


def test_invalid_limits_rejected() -> None:
    with pytest.raises(ValueError, match="max_event_size"):
        SSEDecoder(max_event_size=0)
    with pytest.raises(ValueError, match="comment_prefix"):
        SSEDecoder(comment_prefix="\n")


# -- the fast path and the general path agree ---------------------------------


def test_fast_path_with_missing_ids_fills_forward() -> None:
    stream = b"id: 1\ndata: a\n\ndata: b\n\nid: 3\nevent: x\ndata: c\n\ndata: d\n\n"
    assert decode(stream) == [ev("a", id="1"), ev("b", id="1"), ev("c", "x", "3"), ev("d", id="3")]


def test_comments_between_common_events_keep_their_place() -> None:
    stream = b"id: 1\ndata: a\n\n: ping\n\n\ndata: b\n\n:\ndata: c\n\n: end\n\n"
    assert decode(stream, keep_comments=True) == [
        ev("a", id="1"),
        SSEComment("ping"),
        ev("b", id="1"),
        SSEComment(""),
        ev("c", id="1"),
        SSEComment("end"),
    ]
    decoder = SSEDecoder()
    assert decoder.feed(stream) == [ev("a", id="1"), ev("b", id="1"), ev("c", id="1")]
    assert decoder.comments_seen == 3


def test_bulk_path_moves_to_more_general_patterns_as_the_stream_needs() -> None:
    decoder = SSEDecoder()
    single = b"id: 1\nevent: a\ndata: x\n\n" * 3
    multi = b"data: m1\ndata:  m2\n\n" * 3
    no_space = b"id:7\nevent:b\ndata:y\n\n" * 3
    nul_id = b"id: 8\x00\ndata: z\n\n" * 3
    assert decoder.feed(single) == [ev("x", "a", "1")] * 3
    assert decoder.feed(multi) == [ev("m1\n m2", id="1")] * 3
    assert decoder.feed(no_space + single) == [ev("y", "b", "7")] * 3 + [ev("x", "a", "1")] * 3
    assert decoder.feed(nul_id) == [ev("z", id="1")] * 3


def test_many_small_events_respect_max_event_size() -> None:
    decoder = SSEDecoder(max_event_size=40)
    stream = b"data: ok\n\n" + b"data: " + b"x" * 50 + b"\n\n" + b"data: fine\n\n" * 20
    with pytest.raises(EventTooLargeError) as info:
        decoder.feed(stream)
    assert info.value.events == [ev("ok")] + [ev("fine")] * 20


@pytest.mark.parametrize("size", [600, 5000])
def test_big_events_one_by_one(size: int) -> None:
    value = ("caf\u00e9 \u20ac " * size)[:size]
    stream = "".join(
        f"id: {n}\nevent: big\ndata: {value}\n\ndata: {n}\ndata: two\n\n" for n in range(5)
    ).encode()
    expected = [e for n in range(5) for e in (ev(value, "big", str(n)), ev(f"{n}\ntwo", id=str(n)))]
    assert decode(stream) == expected
    decoder = SSEDecoder()
    assert [e for i in range(0, len(stream), 999) for e in decoder.feed(stream[i : i + 999])] == (
        expected
    )


def test_carried_over_event_finishes_then_fast_path() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: big\ndata: 1\n") == []
    assert decoder.feed(b"data: 2\n\nid: 9\ndata: z\n\n") == [ev("1\n2", "big"), ev("z", id="9")]


# -- property: any split gives the same events as the whole stream ---------------

LINES = st.sampled_from(
    [
        "data: x",
        "data:y",
        "data",
        "data:  two",
        "event: tick",
        "event:",
        "event",
        "id: 1",
        "id: 22",
        "id",
        "id: a\x00b",
        "retry: 10",
        "retry: x",
        ": comment",
        ":",
        "# hash",
        "foo: bar",
        "",
        "",
        "",
        "data: caf\u00e9 \u20ac \U0001f600",
        "DATA: no",
        'data: {"a": [1, 2]}',
    ]
)
EOLS = st.sampled_from(["\n", "\r", "\r\n"])
# Long values (past the fast path's size cut-off) with non-ASCII text of every UTF-8
# length, so that big events and characters split across chunks are exercised too.
LONG_TEXT = st.text(alphabet="ab :\x00\u00e9\u00ef\u20ac\U0001f600", min_size=1, max_size=40).map(
    lambda unit: (unit * (700 // len(unit) + 1))[:700]
)
LONG_LINES = st.builds(
    "".join, st.tuples(st.sampled_from(["data: ", "data:", "id: ", ": ", "event: "]), LONG_TEXT)
)


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    line = st.one_of(LINES, LONG_LINES) if draw(st.booleans()) else LINES
    parts = draw(st.lists(st.tuples(line, EOLS), max_size=40))
    raw = "".join(line + eol for line, eol in parts).encode()
    if draw(st.booleans()):
        raw = "\ufeff".encode() + raw
    if draw(st.booleans()):  # trailing garbage and invalid UTF-8
        raw += draw(st.binary(max_size=8))
    return raw


VALUES = st.one_of(
    st.sampled_from(["", "1", "42", "tick", " x", "caf\u00e9", "\u20ac\U0001f600", '{"a": 1}']),
    LONG_TEXT,
)
ODD_LINES = st.sampled_from(
    [": ping", ":", "# note", "", "retry: 5", "foo: bar", "data", "id", "id: a\x00b", "data:x"]
)


@st.composite
def event_block(draw: st.DrawFn) -> list[str]:
    """The lines of one event: mostly the common shape, sometimes with an odd line."""
    space = st.sampled_from([" ", " ", ""])
    lines = []
    if draw(st.booleans()):
        lines.append("id:" + draw(space) + draw(VALUES))
    if draw(st.booleans()):
        lines.append("event:" + draw(space) + draw(VALUES))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3, 0]))):
        lines.append("data:" + draw(space) + draw(VALUES))
    if draw(st.integers(0, 5)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(ODD_LINES))
    return [*lines, ""]


@st.composite
def event_streams(draw: st.DrawFn) -> bytes:
    """Whole events, as servers send them: what the decoder's fast paths are built for."""
    lines = [line for block in draw(st.lists(event_block(), max_size=12)) for line in block]
    lines += draw(st.lists(LINES, max_size=3))  # an unfinished event at the end
    eol = draw(st.sampled_from(["\n", "\n", "\r\n", "\r", None]))
    if eol is None:  # mixed line endings
        eols = draw(st.lists(EOLS, min_size=len(lines), max_size=len(lines)))
    else:
        eols = [eol] * len(lines)
    return "".join(map(str.__add__, lines, eols)).encode()


@st.composite
def splits(draw: st.DrawFn, stream: bytes) -> list[bytes]:
    cuts = sorted(draw(st.sets(st.integers(0, len(stream)), max_size=12)))
    bounds = [0, *cuts, len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=examples(400), deadline=None)
@given(data=st.data(), keep_comments=st.booleans(), prefix=st.sampled_from([":", "#"]))
def test_any_split_matches_the_reference(
    data: st.DataObject, keep_comments: bool, prefix: str
) -> None:
    stream = data.draw(st.one_of(streams(), event_streams()))
    expected = reference(stream, comment_prefix=prefix, keep_comments=keep_comments)
    kwargs = {"comment_prefix": prefix, "keep_comments": keep_comments}
    assert decode(stream, **kwargs) == expected
    decoder = SSEDecoder(**kwargs)
    got = []
    for chunk in data.draw(splits(stream)):
        got.extend(decoder.feed(chunk))
    assert got == expected


@settings(max_examples=examples(60), deadline=None)
@given(stream=st.one_of(streams(), event_streams()))
def test_byte_by_byte_matches_whole(stream: bytes) -> None:
    assert decode_bytewise(stream) == decode(stream)


def test_decoder_imports_no_networking() -> None:
    code = (
        "import sys; import laminar.sse; "
        "bad = [m for m in ('asyncio', 'aiohttp', 'duckdb', 'pyarrow') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("prefix", ["data: ping", "d", "ev", "i"])
def test_comment_prefix_that_could_start_a_field_line(prefix: str) -> None:
    stream = b"data: ping\n\nid: 1\nevent: e\ndata: hello\n\n"
    expected = reference(stream, comment_prefix=prefix)
    assert decode(stream, comment_prefix=prefix) == expected
    assert decode_bytewise(stream, comment_prefix=prefix) == expected
