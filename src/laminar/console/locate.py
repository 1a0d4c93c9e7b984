"""Point an error at the name it is about, not at the start of its statement.

A binder error ("Referenced column "nosuch" not found") or an unknown relation
comes back located at its statement. When the message names an identifier that
occurs in the statement, the editor is better served by that identifier's own
line and column: the statement is tokenized with sqlglot (structurally: string
literals and comments are never matched) and the first token spelling the name
wins. The patterns below read our and DuckDB's error messages, not SQL.
"""

from __future__ import annotations

import re
from typing import Any

_NAMED = (
    re.compile(r'Referenced column "([^"]+)" not found'),
    re.compile(r"unknown table or view '([^']+)'"),
    re.compile(r"Table with name (\S+) does not exist"),
    re.compile(r'column "([^"]+)" must appear in the GROUP BY'),
)


def refine(error: dict[str, Any], statement_text: str, line: int, column: int) -> dict[str, Any]:
    """``error`` ({"error","line","column"}) moved to the named identifier, when found.

    ``line``/``column`` are where ``statement_text`` starts in the whole text.
    """
    if error.get("line") not in (None, line) or error.get("column") not in (None, column):
        return error  # located more precisely already (an option, a parse error)
    name = next((m.group(1) for p in _NAMED if (m := p.search(error["error"]))), None)
    if name is None:
        return error
    try:
        from sqlglot.tokens import Tokenizer, TokenType

        tokens = Tokenizer().tokenize(statement_text)
    except Exception:  # sqlglot cannot tokenize it: keep the statement's position
        return error
    for token in tokens:
        names = (TokenType.VAR, TokenType.IDENTIFIER)  # not string literals or keywords
        if token.token_type in names and token.text.lower() == name.lower():
            before = statement_text[: token.start]
            rows = before.count("\n")
            col = token.start - (before.rfind("\n") + 1) + 1
            return {**error, "line": line + rows, "column": col if rows else column + col - 1}
    return error
