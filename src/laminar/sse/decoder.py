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

How it is fast: text is decoded and line endings normalised to LF by whole-chunk
C calls; every complete event block in the chunk is then matched by one compiled
regex (``re.split``) for the common shapes (``id``/``event``/one ``data`` line).
A chunk holding anything else — comments with ``keep_comments``, ``retry``,
multi-line data, unknown fields, a partial event carried over — takes the
general line-by-line path, which is the reference implementation of the spec.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator

from laminar.errors import EventTooLargeError
from laminar.sse.event import SSEComment, SSEEvent

DEFAULT_MAX_EVENT_SIZE = 1 << 20  # 1 MiB of decoded text per line or event

# One complete "simple" event block, LF-normalised, followed by its blank line.
# Used with re.split: the text between matches must be empty for the fast path
# to apply, which proves every line was one of these fields and nothing else.
# Possessive ``.*+`` (no backtracking state) is measurably faster than ``[^\n]*``.
_FAST_BLOCK = r"(?:id: ?([^\n\x00]*+)\n)?(?:event: ?(.*+)\n)?data: ?(.*+)\n\n"
_FAST_GROUPS = 3
# When the first block is longer than this, events are big and go to the general path.
_FAST_MAX_BLOCK_SIZE = 512


def _fast_pattern(comment_prefix: str, skip_comments: bool) -> re.Pattern[str]:
    if not skip_comments:
        return re.compile(_FAST_BLOCK)
    # Comment lines before a block are skipped by the regex itself (they are
    # counted separately), so keep-alive comments do not force the slow path.
    prefixes = {":", comment_prefix} if comment_prefix else {":"}
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes))
    return re.compile(rf"(?:(?:{alternatives}).*+\n)*" + _FAST_BLOCK)


class SSEDecoder:
    """Incremental, sans-I/O decoder of a ``text/event-stream`` byte stream."""

    __slots__ = (
        "_block_retry",
        "_comment_prefix",
        "_data",
        "_data_size",
        "_error",
        "_fast",
        "_fast_misses",
        "_fast_skip",
        "_id_buffer",
        "_keep_comments",
        "_line_parts",
        "_line_size",
        "_max_event_size",
        "_pending_cr",
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
        self._keep_comments = keep_comments
        self._fast = _fast_pattern(comment_prefix, skip_comments=not keep_comments)
        self._fast_misses = 0
        self._fast_skip = 0
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

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[SSEEvent | SSEComment]:
        """Decode ``chunk`` and return the events (and comments, if kept) it completed.

        An event that outgrows ``max_event_size`` is dropped; the whole chunk is
        still decoded, and then EventTooLargeError is raised carrying the chunk's
        other events in ``.events`` — nothing but the oversized event is lost.
        """
        text = self._utf8.decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
                if not text:
                    return []
        if self._pending_cr:
            self._pending_cr = False
            if text[0] == "\n":
                text = text[1:]
                if not text:
                    return []
        if "\r" in text:
            self._pending_cr = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")

        out: list[SSEEvent | SSEComment] = []
        last_lf = text.rfind("\n")
        if last_lf < 0:  # still inside one line
            self._append_partial(text)
        else:
            if self._line_parts:
                self._line_parts.append(text)
                text = "".join(self._line_parts)
                last_lf += self._line_size
                self._line_parts = []
                self._line_size = 0
            self._decode_lines(text[: last_lf + 1], out)
            if last_lf + 1 < len(text):
                self._append_partial(text[last_lf + 1 :])
        if self._error is not None:
            error, self._error = self._error, None
            error.events = out
            raise error
        return out

    def _decode_lines(self, region: str, out: list[SSEEvent | SSEComment]) -> None:
        """Decode ``region``: complete lines, each ending in "\\n"."""
        start = 0
        if region[0] == "\n":  # a blank line first: it ends the carried-over event
            self._dispatch(out)
            start = 1
        elif self._has_pending():  # finish the carried-over event line by line
            first_blank = region.find("\n\n")
            if first_blank < 0:
                self._process_region(region, out)
                return
            start = first_blank + 2
            self._process_region(region[:start], out)
        last_blank = region.rfind("\n\n", start)
        if last_blank >= start:
            self._decode_blocks(region[start : last_blank + 2], out)
            start = last_blank + 2
        if start < len(region):
            self._process_region(region[start:], out)

    # -- fast path: whole complete blocks -------------------------------------

    def _decode_blocks(self, blocks: str, out: list[SSEEvent | SSEComment]) -> None:
        """Decode ``blocks``: complete events, each ending in a blank line ("\\n\\n")."""
        if self._fast_skip:  # the fast pattern failed on this stream lately
            self._fast_skip -= 1
            self._process_region(blocks, out)
            return
        if blocks.find("\n\n", 0, _FAST_MAX_BLOCK_SIZE) < 0:
            # Big events: the regex's per-character scan costs more than the
            # general path's memchr-based line search.
            self._process_region(blocks, out)
            return
        parts = self._fast.split(blocks)
        if any(parts[:: _FAST_GROUPS + 1]):
            # A line the fast pattern does not know (multi-line data, retry, an
            # unknown field). Such streams tend to repeat it: back off, so that a
            # failed regex scan is not paid again on every chunk.
            self._fast_misses = min(self._fast_misses + 1, 10)
            self._fast_skip = 1 << self._fast_misses
            self._process_region(blocks, out)
            return
        self._fast_misses = 0
        ids = parts[1 :: _FAST_GROUPS + 1]
        types = parts[2 :: _FAST_GROUPS + 1]
        datas = parts[3 :: _FAST_GROUPS + 1]
        if not self._keep_comments:
            self.comments_seen += _count_comment_lines(blocks, self._comment_prefix)
        if None in ids:
            current = self._id_buffer
            filled = []
            for value in ids:
                if value is not None:
                    current = value
                filled.append(current)
            ids = filled
        if None in types or "" in types:
            types = [t or "message" for t in types]
        self._id_buffer = self.last_event_id = ids[-1]
        out.extend(map(SSEEvent, types, datas, ids))

    # -- general path: the spec's line-by-line algorithm --------------------

    def _process_region(self, region: str, out: list[SSEEvent | SSEComment]) -> None:
        """Process ``region``: complete lines, the last one ending in "\\n"."""
        if len(region) > 4096 and region.count("\n", 0, 4096) < 32:
            self._process_lines(_long_lines(region), out)
        else:
            self._process_lines(region[:-1].split("\n"), out)

    def _process_lines(self, lines: Iterable[str], out: list[SSEEvent | SSEComment]) -> None:
        prefix = self._comment_prefix
        limit = self._max_event_size
        for line in lines:
            if not line:
                self._dispatch(out)
                continue
            if self._skipping:  # the rest of an oversized event
                continue
            if line[0] == ":" or (prefix and line.startswith(prefix)):
                self.comments_seen += 1
                if self._keep_comments:
                    comment = line[1:] if line[0] == ":" else line[len(prefix) :]
                    out.append(SSEComment(comment[1:] if comment[:1] == " " else comment))
                continue
            name, colon, value = line.partition(":")
            if colon and value[:1] == " ":
                value = value[1:]
            if name == "data":
                self._data.append(value)
                self._data_size += len(value) + 1
                if self._data_size > limit:
                    self._oversized(self._data_size)
            elif name == "event":
                self._type = value
            elif name == "id":
                if "\x00" not in value:
                    self._id_buffer = value
            elif name == "retry" and value.isascii() and value.isdigit():
                self.retry = self._block_retry = int(value)
            # any other field is ignored, as the spec says

    def _dispatch(self, out: list[SSEEvent | SSEComment]) -> None:
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


def _long_lines(region: str) -> Iterator[str]:
    """The lines of ``region`` (each ending in "\\n"), found with single-character
    ``str.find`` — memchr — which is much faster than ``str.split`` on long lines."""
    pos = 0
    end = len(region)
    find = region.find
    while pos < end:
        nl = find("\n", pos)
        yield region[pos:nl]
        pos = nl + 1


def _count_comment_lines(text: str, prefix: str) -> int:
    count = text.count("\n:") + (text[:1] == ":")
    if prefix and prefix != ":" and not prefix.startswith(":"):
        count += text.count("\n" + prefix) + text.startswith(prefix)
    return count
