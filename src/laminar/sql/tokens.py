"""Tokenizer for Laminar's SQL: text in, a flat list of tokens out.

Contract:
- ``tokenize(sql)`` returns every significant token of ``sql`` in order, each with
  its exact source span (``start``/``end`` offsets, so ``sql[t.start:t.end] == t.text``)
  and its 1-based ``line``/``column``. Whitespace and comments (``--`` to end of line,
  ``/* … */``) are dropped; no trailing EOF token is added.
- Words are not classified as keywords here: a keyword is a WORD whose ``upper`` text
  the parser expects, so ``timestamp`` or ``value`` stay usable as column names.
- Strings are standard SQL: ``'…'`` with ``''`` for a quote, and a backslash is an
  ordinary character (regular expressions round-trip). ``"…"`` is a quoted identifier
  with ``""`` for a quote. Any other character becomes an OP token, so SELECT bodies
  written for DuckDB (``::``, ``->>``, ``[…]``) tokenize without error.
- An unterminated string, quoted identifier or block comment raises ``SQLError``
  pointing at where it started. Nothing else raises.
"""

from __future__ import annotations

import bisect
import re
from enum import Enum
from typing import NamedTuple

from laminar.errors import SQLError


class TokenType(Enum):
    WORD = "word"  # bare identifier or keyword
    QUOTED = "quoted identifier"  # "..."
    STRING = "string"  # '...'
    NUMBER = "number"
    LPAREN = "'('"
    RPAREN = "')'"
    COMMA = "','"
    SEMICOLON = "';'"
    DOT = "'.'"
    EQ = "'='"
    MINUS = "'-'"
    PLUS = "'+'"
    OP = "operator"  # any other punctuation


class Token(NamedTuple):
    """One token: its type, exact text, offsets in the source and 1-based position."""

    type: TokenType
    text: str
    start: int
    end: int
    line: int
    column: int

    @property
    def upper(self) -> str:
        """The text upper-cased when this is a bare word, else ``""`` (never a keyword)."""
        return self.text.upper() if self.type is TokenType.WORD else ""

    def describe(self) -> str:
        """How to name this token in an error message."""
        if self.type is TokenType.STRING:
            return "string " + (self.text if len(self.text) <= 40 else self.text[:37] + "...'")
        return repr(self.text) if self.type is not TokenType.WORD else self.text


_PUNCT = {
    "(": TokenType.LPAREN,
    ")": TokenType.RPAREN,
    ",": TokenType.COMMA,
    ";": TokenType.SEMICOLON,
    ".": TokenType.DOT,
    "=": TokenType.EQ,
    "-": TokenType.MINUS,
    "+": TokenType.PLUS,
}

# Order matters: comments before operators, numbers before the '.' punctuation.
_MASTER = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<line_comment>--[^\n]*)
  | (?P<block_comment>/\*.*?\*/)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[^\W\d][\w$]*)
  | (?P<op>::|->>|->|<=|>=|<>|!=|\|\||=>|:=|==|\*\*|//)
  | (?P<punct>[(),;.=\-+])
    """,
    re.VERBOSE | re.DOTALL,
)

_UNTERMINATED = {
    "'": (
        "unterminated string literal",
        "close it with a single quote (write '' for a quote inside)",
    ),
    '"': ("unterminated quoted identifier", "close it with a double quote"),
    "/*": ("unterminated block comment", "close it with */"),
}


class SourcePositions:
    """Maps offsets of one source text to 1-based (line, column) and renders excerpts."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self._newlines = [i for i, ch in enumerate(sql) if ch == "\n"]

    def locate(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_left(self._newlines, offset)
        line_start = self._newlines[index - 1] + 1 if index else 0
        return index + 1, offset - line_start + 1

    def excerpt(self, offset: int, length: int = 1) -> str:
        """The source line holding ``offset``, with carets under ``length`` characters."""
        line, column = self.locate(offset)
        start = offset - column + 1
        end = self.sql.find("\n", start)
        text = self.sql[start : end if end >= 0 else len(self.sql)].rstrip("\r")
        length = max(1, min(length, len(text) - column + 1))
        pad = "".join("\t" if ch == "\t" else " " for ch in text[: column - 1])
        gutter = str(line)
        return f"{gutter} | {text}\n{' ' * len(gutter)} | {pad}{'^' * length}"

    def error(self, message: str, offset: int, length: int = 1) -> SQLError:
        line, column = self.locate(offset)
        return SQLError(message, line=line, column=column, excerpt=self.excerpt(offset, length))


def tokenize(sql: str, positions: SourcePositions | None = None) -> list[Token]:
    """Split ``sql`` into tokens; raise SQLError on an unterminated string or comment."""
    positions = positions or SourcePositions(sql)
    tokens: list[Token] = []
    append = tokens.append
    match = _MASTER.match
    pos = 0
    size = len(sql)
    while pos < size:
        m = match(sql, pos)
        if m is None:
            opener = "/*" if sql.startswith("/*", pos) else sql[pos]
            if opener in _UNTERMINATED:
                what, fix = _UNTERMINATED[opener]
                raise positions.error(f"{what} starting here — {fix}", pos, len(opener))
            kind = TokenType.OP
            end = pos + 1
        else:
            group = m.lastgroup
            end = m.end()
            if group in ("space", "line_comment", "block_comment"):
                pos = end
                continue
            kind = _PUNCT[m.group()] if group == "punct" else _GROUP_TYPES[group]  # type: ignore[index]
        line, column = positions.locate(pos)
        append(Token(kind, sql[pos:end], pos, end, line, column))
        pos = end
    return tokens


_GROUP_TYPES = {
    "string": TokenType.STRING,
    "quoted": TokenType.QUOTED,
    "number": TokenType.NUMBER,
    "word": TokenType.WORD,
    "op": TokenType.OP,
}


def string_value(token: Token) -> str:
    """The content of a STRING token: quotes removed, ``''`` turned into ``'``."""
    return token.text[1:-1].replace("''", "'")


def identifier_value(token: Token) -> str:
    """A WORD lower-cased, or a QUOTED identifier's content verbatim (``""`` -> ``"``)."""
    if token.type is TokenType.QUOTED:
        return token.text[1:-1].replace('""', '"')
    return token.text.lower()


__all__ = [
    "SourcePositions",
    "Token",
    "TokenType",
    "identifier_value",
    "string_value",
    "tokenize",
]
