"""SSEDecoder: bytes in, events out — the WHATWG event-stream interpretation, exactly.

Contract (https://html.spec.whatwg.org/multipage/server-sent-events.html):

* ``feed(chunk)`` takes any split of the byte stream and returns the events (and,
  when asked for, comments) that the chunk completed, in order. Feeding a stream
  whole or byte by byte gives the same result.
* Lines end in CRLF, LF or CR. A CR at the end of a chunk ends its line at once;
  an LF that starts the next chunk belongs to that CR.
* UTF-8 is decoded incrementally (invalid bytes become U+FFFD); one leading BOM is
  stripped at the very start of the stream.
* No I/O, no clock, no logging: the transport owns all of that.

How it is fast: each chunk is decoded and its line endings normalised to LF by
whole-chunk C calls, and then handled by offsets into that one string (lines are
found with one-character ``str.find``, i.e. memchr), so the text of a data value
is copied once, when its ``str`` is made. Complete events then take one of three
paths, all giving exactly what the line-by-line algorithm gives:

* bulk (small events): one ``re.split`` over all complete events of the chunk,
  with the cheapest of a few patterns for the common shapes (``id``/``event``/
  ``data`` lines) that fits the stream; blank and comment lines between events
  are allowed. Anything else (``retry``, unknown fields...) leaves the chunk to
  the next path, and the bulk path backs off for a while;
* one by one (big events, or what bulk refused): per event a regex match of its
  head and a memchr for the end of its one data line;
* line by line: the spec's algorithm, for every other block.
"""

from __future__ import annotations

import codecs
import re
from itertools import repeat, zip_longest
from typing import cast

from laminar.errors import EventTooLargeError
from laminar.sse.event import SSEComment, SSEEvent

DEFAULT_MAX_EVENT_SIZE = 16 << 20  # 16 MiB of decoded text per line or event


def _bulk_pattern(space: str, multi_line: bool) -> re.Pattern[str]:
    """One complete event block of the common shape, LF-normalised, with its blank
    line: optional ``id``, optional ``event``, ``data``.

    Used with re.split: the text between two matches must be empty (or only blank
    and comment lines), which proves every line was one of these fields. The data
    group of ``multi_line`` spans every data line, "\\ndata: " separators included.
    Possessive ``.*+`` keeps no backtracking state, and ``(?:...|)`` is cheaper in
    the regex engine than ``(?:...)?``. An id with U+0000 is ruled out by the caller.
    """
    data = r"(.*+(?:\ndata: .*+)*+)" if multi_line else r"(.*+)"
    # Blank lines after the event's own are no-ops (nothing to dispatch): the match takes
    # them too, at the speed of one C loop over "\n"s, so a run of them costs little.
    return re.compile(
        rf"(?:id:{space}(.*+)\n|)(?:event:{space}(.*+)\n|)data:{space}{data}\n\n\n*+"
    )


# Tried in order, the cheapest first; a decoder moves on to the next one only when
# the stream needs it (instructions per event, small events: 3,040; 3,350; 3,740).
_BULK_PATTERNS = (
    _bulk_pattern(" ", multi_line=False),  # "field: value", one data line
    _bulk_pattern(" ", multi_line=True),  # ... and multi-line data
    _bulk_pattern(" ?", multi_line=True),  # ... and "field:value" (optional spaces cost most)
)
_MULTI_LINE = 1  # the first rung of _BULK_PATTERNS with multi-line data
_BULK_STEP = 4  # re.split yields the gap before a match, then its three groups
# When the first block is longer than this, events are big and are decoded one by one.
_BULK_MAX_FIRST_BLOCK = 512
# The head of an event of the common shape, up to the value of its data line.
_EVENT_HEAD = re.compile(r"(?:id: ?([^\n\x00]*+)\n|)(?:event: ?(.*+)\n|)data: ?")

_BLANK_RUN = re.compile(r"\n+")

_Output = list[SSEEvent | SSEComment]


def _skippable_pattern(comment_prefix: str) -> re.Pattern[str]:
    """Text made only of blank and comment lines: no effect on the event state."""
    prefixes = {":", comment_prefix} if comment_prefix else {":"}
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes))
    return re.compile(rf"(?:(?:{alternatives}).*+\n|\n)*+")


class SSEDecoder:
    """Incremental, sans-I/O decoder of a ``text/event-stream`` byte stream."""

    __slots__ = (
        "_block_retry",
        "_bulk_misses",
        "_bulk_rung",
        "_bulk_skip",
        "_comment_prefix",
        "_data",
        "_data_size",
        "_error",
        "_fast_paths",
        "_id_buffer",
        "_keep_comments",
        "_line_parts",
        "_line_size",
        "_max_event_size",
        "_other_prefix",
        "_pending_cr",
        "_skippable",
        "_skipping",
        "_started",
        "_type",
        "_utf8",
        "comments_seen",
        "last_event_id",
        "retry",
    )

    def __init__(
        self,
        *,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        comment_prefix: str = ":",
        keep_comments: bool = False,
        last_event_id: str = "",
    ) -> None:
        if max_event_size <= 0:
            raise ValueError("max_event_size must be a positive number of bytes")
        if "\n" in comment_prefix or "\r" in comment_prefix:
            raise ValueError("comment_prefix cannot contain a line break")
        self._max_event_size = max_event_size
        self._comment_prefix = comment_prefix
        # A prefix that starts with ":" adds nothing: such lines are comments anyway.
        self._other_prefix = "" if comment_prefix.startswith(":") else comment_prefix
        # The fast paths read id/event/data lines by shape: a comment prefix that could
        # begin such a line ("d", "data: ping") would be missed there, so only the
        # line-by-line path (the reference) serves such a decoder.
        other = self._other_prefix
        self._fast_paths = not any(
            field.startswith(other) or other.startswith(field) for field in ("id", "event", "data")
        ) if other else True
        self._keep_comments = keep_comments
        self._skippable = _skippable_pattern(comment_prefix).fullmatch
        self._bulk_rung = 0  # index into _BULK_PATTERNS
        self._bulk_misses = 0
        self._bulk_skip = 0
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        self._started = False
        self._pending_cr = False
        # The incomplete last line, as parts (no copying while a long line trickles in).
        self._line_parts: list[str] = []
        self._line_size = 0
        # Fields of the event being assembled from complete lines.
        self._data: list[str] = []
        self._data_size = 0
        self._type = ""
        self._block_retry: int | None = None
        self._id_buffer = last_event_id
        self.last_event_id = last_event_id
        self.retry: int | None = None
        self.comments_seen = 0
        self._skipping = False
        self._error: EventTooLargeError | None = None

    # -- public -----------------------------------------------------------

    def feed(self, chunk: bytes | bytearray | memoryview) -> _Output:
        """Decode ``chunk`` and return the events (and comments, if kept) it completed.

        An event that outgrows ``max_event_size`` is dropped; the whole chunk is
        still decoded, and then EventTooLargeError is raised carrying the chunk's
        other events in ``.events`` — nothing but the oversized event is lost.
        """
        text = self._decode(chunk)
        out: _Output = []
        last_lf = text.rfind("\n")
        if last_lf < 0:  # still inside one line (or nothing at all)
            if text:
                self._append_partial(text)
        else:
            pos = self._finish_partial_line(text, out) if self._line_parts else 0
            self._decode_lines(text, pos, last_lf + 1, out)
            if last_lf + 1 < len(text):
                self._append_partial(text[last_lf + 1 :])
        if self._error is not None:
            error, self._error = self._error, None
            error.events = out
            raise error
        return out

    # -- text -------------------------------------------------------------

    def _decode(self, chunk: bytes | bytearray | memoryview) -> str:
        """The chunk's text, BOM stripped and line endings normalised to LF."""
        text = self._utf8.decode(chunk)
        if not text:
            return text
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
                if not text:
                    return text
        if self._pending_cr:
            self._pending_cr = False
            if text[0] == "\n":  # the LF of a CRLF split by the chunk boundary
                text = text[1:]
                if not text:
                    return text
        if "\r" in text:
            self._pending_cr = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return text

    def _finish_partial_line(self, text: str, out: _Output) -> int:
        """Complete the line carried over from earlier chunks; return where the rest starts."""
        lf = text.find("\n")
        self._line_parts.append(text[:lf])
        line = "".join(self._line_parts)
        self._line_parts = []
        self._line_size = 0
        if not self._skipping:  # (the carried line is never empty: see _append_partial)
            self._line(line, 0, len(line), out)
        return lf + 1

    def _decode_lines(self, text: str, pos: int, end: int, out: _Output) -> None:
        """Decode ``text[pos:end]``: complete lines, the last one ending in "\\n"."""
        if pos < end and self._has_pending():  # finish the carried-over event first
            pos = self._lines(text, pos, end, out, to_first_blank=True)
        blocks_end = _after_last_blank_line(text, pos, end) if self._fast_paths else pos
        if blocks_end > pos:
            self._decode_blocks(text, pos, blocks_end, out)
        if blocks_end < end:
            self._lines(text, blocks_end, end, out)

    # -- whole complete blocks: the fast paths --------------------------------

    def _decode_blocks(self, text: str, pos: int, end: int, out: _Output) -> None:
        """Decode ``text[pos:end]``: complete events, the last one ending in a blank line."""
        if text[pos] == "\n":  # a run of blank lines (keep-alive padding, or a bomb)
            pos = _BLANK_RUN.match(text, pos, end).end()  # type: ignore[union-attr]
            if pos == end:
                return
        if self._bulk_may_fit(text, pos, end) and self._decode_bulk(text, pos, end, out):
            return
        self._decode_one_by_one(text, pos, end, out)

    def _bulk_may_fit(self, text: str, pos: int, end: int) -> bool:
        if self._bulk_skip:  # the bulk pattern failed on this stream lately
            self._bulk_skip -= 1
            return False
        # The bulk path does not count sizes: it runs only where no event can be too
        # large. And on big events the regex's per-character scan costs more than
        # one-by-one decoding with memchr: the first event tells which kind we have.
        # (No search for runs of blank lines here: the patterns take them, and a
        # search for "\n\n\n" over the chunk cost ~8% of decoding small events.)
        return (
            end - pos <= self._max_event_size
            and text.find("\n\n", pos, pos + _BULK_MAX_FIRST_BLOCK) >= 0
        )

    def _decode_bulk(self, text: str, pos: int, end: int, out: _Output) -> bool:
        """All events of ``text[pos:end]`` by one ``re.split``; False (nothing done) if they
        do not all have the common shape."""
        parts = self._bulk_split(text, pos, end)
        if parts is None:
            # A line no bulk pattern knows (retry, an unknown field, an id with
            # U+0000). Such streams tend to repeat it: back off, so that a failed
            # regex scan is not paid again on every chunk.
            self._bulk_misses = min(self._bulk_misses + 1, 6)
            self._bulk_skip = 1 << self._bulk_misses
            return False
        self._bulk_misses = 0
        gaps = parts[::_BULK_STEP]
        raw_ids = parts[1::_BULK_STEP]
        raw_types = parts[2::_BULK_STEP]
        # re.split gives None for a group that took no part in the match: the id and event
        # groups are optional (filled in here), the data group never is.
        datas = cast("list[str]", parts[3::_BULK_STEP])
        # all() is a quick C-level test for "no None and no empty string"
        ids = cast("list[str]", raw_ids) if all(raw_ids) else self._fill_ids(raw_ids)
        types = (
            cast("list[str]", raw_types)
            if all(raw_types)
            else [kind or "message" for kind in raw_types]
        )
        if self._bulk_rung >= _MULTI_LINE:
            datas = list(map(str.replace, datas, repeat("\ndata: "), repeat("\n")))
        events = map(SSEEvent, types, datas, ids)
        if not any(gaps):
            out += events
        else:  # blank and comment lines between the events: count (or surface) them in order
            for gap, event in zip_longest(gaps, events):
                if gap:
                    self._lines(gap, 0, len(gap), out)
                if event is not None:
                    out.append(event)
        if ids:
            self._id_buffer = self.last_event_id = ids[-1]
        return True

    def _bulk_split(self, text: str, pos: int, end: int) -> list[str | None] | None:
        """``re.split`` of ``text[pos:end]`` by the first bulk pattern (from the decoder's
        current rung on) that leaves no gap but blank and comment lines; else None."""
        blocks = text[pos:end]
        if "\x00" in blocks:  # the patterns take any id: U+0000 needs the line path
            return None
        first_line = blocks[: blocks.find("\n") + 1]
        for rung in range(self._bulk_rung, len(_BULK_PATTERNS)):
            pattern = _BULK_PATTERNS[rung]
            # Cheap pre-check: a split that fails at the first event is not worth running.
            if pattern.match(blocks) is None and not self._skippable(first_line):
                continue
            parts = pattern.split(blocks)
            gaps = parts[::_BULK_STEP]
            if not any(gaps) or all(map(self._skippable, gaps)):
                self._bulk_rung = rung
                return parts
        return None

    def _fill_ids(self, ids: list[str | None]) -> list[str]:
        """The last event id at each event: an absent id field (None) keeps the previous one."""
        current = self._id_buffer
        filled = []
        for value in ids:
            if value is not None:
                current = value
            filled.append(current)
        return filled

    def _decode_one_by_one(self, text: str, pos: int, end: int, out: _Output) -> None:
        """Decode the events of ``text[pos:end]`` one at a time.

        An event of the common shape (``id``, ``event``, one ``data`` line) costs
        a regex match of its head and a memchr for the end of its data, whatever
        its size; any other block goes line by line.
        """
        head = _EVENT_HEAD.match
        find = text.find
        append = out.append
        limit = self._max_event_size
        last_id = self._id_buffer
        while pos < end:
            if text[pos] == "\n":  # blank lines between events: skipped at memory speed
                pos = _BLANK_RUN.match(text, pos, end).end()  # type: ignore[union-attr]
                continue
            match = head(text, pos)
            if match is not None:
                value_start = match.end()
                lf = find("\n", value_start)
                # (the region ends with a blank line, so lf + 1 is inside it)
                if text[lf + 1] == "\n" and lf - value_start < limit:
                    ident, kind = match.groups()
                    if ident is not None:
                        last_id = ident
                    append(SSEEvent(kind or "message", text[value_start:lf], last_id))
                    pos = lf + 2
                    continue
            self._id_buffer = last_id
            pos = self._lines(text, pos, end, out, to_first_blank=True)
            last_id = self._id_buffer
        self._id_buffer = self.last_event_id = last_id

    # -- general path: the spec's line-by-line algorithm --------------------

    def _lines(
        self, text: str, pos: int, end: int, out: _Output, to_first_blank: bool = False
    ) -> int:
        """Process the complete lines of ``text[pos:end]`` one by one; return where it stopped.

        With ``to_first_blank`` it stops after the first blank line (the end of
        the event in progress). Lines are found with one-character ``find``
        (memchr), and a data value is sliced out of ``text`` once.
        """
        find = text.find
        while pos < end:
            lf = find("\n", pos, end)
            if lf == pos:
                self._dispatch(out)
                pos += 1
                if to_first_blank:
                    break
                if pos < end and text[pos] == "\n":  # more blank lines dispatch nothing:
                    pos = _BLANK_RUN.match(text, pos, end).end()  # type: ignore[union-attr]
                continue
            if not self._skipping:  # (else: the rest of an oversized event)
                self._line(text, pos, lf, out)
            pos = lf + 1
        return pos

    def _line(self, text: str, start: int, stop: int, out: _Output) -> None:
        """Interpret the non-empty line ``text[start:stop]``."""
        if text[start] == ":" or (
            self._other_prefix and text.startswith(self._other_prefix, start, stop)
        ):
            self._comment(text[start:stop], out)
            return
        colon = text.find(":", start, stop)
        if colon < 0:
            name, value = text[start:stop], ""
        else:
            name = text[start:colon]
            colon += 1
            if colon < stop and text[colon] == " ":
                colon += 1
            value = text[colon:stop]
        if name == "data":
            self._data.append(value)
            self._data_size += len(value) + 1
            if self._data_size > self._max_event_size:
                self._oversized(self._data_size)
        elif name == "event":
            self._type = value
        elif name == "id":
            if "\x00" not in value:
                self._id_buffer = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry = self._block_retry = int(value)
        # any other field is ignored, as the spec says

    def _comment(self, line: str, out: _Output) -> None:
        self.comments_seen += 1
        if self._keep_comments:
            body = line[1:] if line[0] == ":" else line[len(self._comment_prefix) :]
            out.append(SSEComment(body[1:] if body[:1] == " " else body))

    def _dispatch(self, out: _Output) -> None:
        self.last_event_id = self._id_buffer
        if self._data:
            out.append(
                SSEEvent(
                    self._type or "message",
                    "\n".join(self._data),
                    self._id_buffer,
                    self._block_retry,
                )
            )
            self._data = []
            self._data_size = 0
        self._type = ""
        self._block_retry = None
        self._skipping = False

    # -- bookkeeping ----------------------------------------------------------

    def _has_pending(self) -> bool:
        return bool(self._data or self._type or self._block_retry is not None or self._skipping)

    def _append_partial(self, text: str) -> None:
        if self._skipping and self._line_parts:
            return  # the line is being discarded; its placeholder keeps the line structure
        self._line_parts.append(text)
        self._line_size += len(text)
        if self._line_size + self._data_size > self._max_event_size:
            self._oversized(self._line_size + self._data_size)

    def _oversized(self, size: int) -> None:
        """Drop the event being assembled and skip the rest of it (up to its blank line)."""
        if self._line_parts:
            self._line_parts = ["x"]  # placeholder: the discarded line's text is ignored
            self._line_size = 1
        self._data = []
        self._data_size = 0
        self._skipping = True
        if self._error is None:
            self._error = EventTooLargeError(size, self._max_event_size)


def _after_last_blank_line(text: str, pos: int, end: int) -> int:
    """The index just past the last blank line of ``text[pos:end]`` (whole lines), else ``pos``.

    Walks back line by line with one-character ``rfind`` (memrchr): a search for
    "\\n\\n" would be a byte-by-byte loop over a big trailing event.
    """
    lf = end - 1
    while lf >= pos:
        previous = text.rfind("\n", pos, lf)
        if previous == lf - 1 or (previous < 0 and lf == pos):  # the line ending at lf is empty
            return lf + 1
        if previous < 0:
            break
        lf = previous
    return pos
