"""Parser for Laminar's statements: tokens in, ``laminar.sql.ast`` statements out.

Contract:
- ``parse_statements(sql)`` splits ``sql`` at ``;`` (outside strings and comments),
  parses each non-empty statement and returns them in order, or raises ``SQLError``
  with the 1-based line and column of the offending token, an excerpt with carets
  under it, a message naming the statement, option or column, and a "did you mean"
  hint for a misspelt keyword.
- Statements are dispatched by their first word through ``STATEMENT_PARSERS`` and,
  after CREATE, through ``CREATE_PARSERS``.
- Queries (SELECT, WITH … SELECT) are kept verbatim for DuckDB to run. ``_scan_query``
  checks that their parentheses balance and reads the relations and a top-level
  ``LIMIT n`` from DuckDB's syntax tree when the query is plain (``laminar.sql.plain``),
  else from sqlglot's (``laminar.sql.query``).
- ``split_statements`` and ``statement_complete`` serve the interactive shell; they
  never raise.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

from laminar._suggest import did_you_mean
from laminar.errors import SQLError
from laminar.sql.ast import (
    ColumnDef,
    CreateConnection,
    CreateTable,
    CreateView,
    Describe,
    Drop,
    Explain,
    InsertInto,
    OptionValue,
    Query,
    Select,
    Show,
    Statement,
    Watermark,
)
from laminar.sql.plain import read as read_plain
from laminar.sql.tokens import (
    SourcePositions,
    Token,
    TokenType,
    identifier_value,
    string_value,
    tokenize,
)

NAME_TYPES = (TokenType.WORD, TokenType.QUOTED)
QUERY_STARTERS = ("SELECT", "WITH")

# Multi-word type names: after the first word, the word sequences that may follow it.
TYPE_CONTINUATIONS: dict[str, tuple[tuple[str, ...], ...]] = {
    "DOUBLE": (("PRECISION",),),
    "CHARACTER": (("VARYING",),),
    "CHAR": (("VARYING",),),
    "TIMESTAMP": (("WITH", "TIME", "ZONE"), ("WITHOUT", "TIME", "ZONE")),
    "TIME": (("WITH", "TIME", "ZONE"), ("WITHOUT", "TIME", "ZONE")),
}
COLUMN_CONSTRAINTS = ("PRIMARY", "NOT", "NULL")


class _Parser:
    """Parses the tokens of one statement (no ``;``); one instance per statement."""

    def __init__(
        self, sql: str, positions: SourcePositions, tokens: list[Token], end_offset: int
    ) -> None:
        self.sql = sql
        self.positions = positions
        self.tokens = tokens
        self.end_offset = end_offset  # where "end of statement" is reported
        self.index = 0
        self.context = ""  # "CREATE TABLE live_events", prefixed to messages

    # -- errors ---------------------------------------------------------------

    def error(self, message: str, token: Token | None = None) -> SQLError:
        if self.context:
            message = f"{self.context}: {message}"
        if token is None:
            return self.positions.error(message, self.end_offset)
        return self.positions.error(message, token.start, token.end - token.start)

    def unexpected(
        self, expected: str, candidates: tuple[str, ...] = (), fix: str = ""
    ) -> SQLError:
        """'expected X, found Y' at the current token, with a hint for a misspelt word."""
        token = self.peek()
        fix = f" — {fix}" if fix else ""
        if token is None:
            return self.error(f"expected {expected}, found the end of the statement{fix}")
        hint = did_you_mean(token.text, list(candidates)) if token.upper else ""
        return self.error(f"expected {expected}, found {token.describe()}{hint or fix}", token)

    # -- token cursor -----------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token | None:
        position = self.index + ahead
        return self.tokens[position] if position < len(self.tokens) else None

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_word(self, *words: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token is not None and token.upper in words

    def accept_word(self, word: str) -> Token | None:
        if self.at_word(word):
            return self.advance()
        return None

    def expect_word(self, word: str, where: str) -> Token:
        if self.at_word(word):
            return self.advance()
        raise self.unexpected(f"{word} {where}", (word,))

    def accept(self, kind: TokenType) -> Token | None:
        token = self.peek()
        if token is not None and token.type is kind:
            return self.advance()
        return None

    def expect(self, kind: TokenType, where: str) -> Token:
        token = self.accept(kind)
        if token is None:
            raise self.unexpected(f"{kind.value} {where}")
        return token

    def expect_end(self) -> None:
        token = self.peek()
        if token is not None:
            raise self.error(
                f"unexpected {token.describe()} after the end of the statement"
                " — is a ';' missing before it?",
                token,
            )

    # -- shared pieces ------------------------------------------------------------

    def parse_name(self, what: str, *, dotted: bool = False) -> str:
        """An identifier (``a``, ``"A"``), or with ``dotted`` a qualified ``a.b``."""
        parts = [self.parse_identifier(what)]
        while dotted and self.accept(TokenType.DOT):
            parts.append(self.parse_identifier(what))
        return ".".join(parts)

    def parse_identifier(self, what: str) -> str:
        token = self.peek()
        if token is None or token.type not in NAME_TYPES:
            raise self.unexpected(what)
        self.advance()
        value = identifier_value(token)
        if not value:
            raise self.error(f"{what} cannot be empty", token)
        return value

    def parse_if_not_exists(self) -> bool:
        if not self.accept_word("IF"):
            return False
        self.expect_word("NOT", "after IF (IF NOT EXISTS)")
        self.expect_word("EXISTS", "after IF NOT")
        return True

    def parse_options(self) -> dict[str, OptionValue]:
        """``[WITH (key = value, …)]``; keys lower-cased, a duplicate key is an error."""
        if not self.accept_word("WITH"):
            token = self.peek()
            if token is not None and did_you_mean(token.text, ["WITH"]):
                raise self.unexpected("WITH (...) or the end of the statement", ("WITH",))
            return {}
        if self.accept(TokenType.LPAREN) is None:
            raise self.unexpected("'(' after WITH", fix="write WITH (key = value, ...)")
        options: dict[str, OptionValue] = {}
        while self.accept(TokenType.RPAREN) is None:
            key_token = self.peek()
            key = self.parse_option_key()
            if key in options:
                first = options[key]
                raise self.error(
                    f"duplicate option '{key}' (first given at line {first.line}, "
                    f"column {first.column}) — give each option once",
                    key_token,
                )
            if self.accept(TokenType.EQ) is None:
                raise self.unexpected(f"'=' after option '{key}'")
            options[key] = self.parse_option_value(key)
            if self.accept(TokenType.COMMA) is None and not self._at(TokenType.RPAREN):
                raise self.unexpected(
                    f"',' or ')' after the value of option '{key}'", fix="is a ',' missing?"
                )
        return options

    def _at(self, kind: TokenType) -> bool:
        token = self.peek()
        return token is not None and token.type is kind

    def at_text(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.text == text

    def parse_option_key(self) -> str:
        token = self.peek()
        if token is not None and token.type is TokenType.STRING:
            self.advance()
            key = string_value(token)
        else:
            key = self.parse_name("an option name", dotted=True)
        key = key.lower()
        if not key:
            raise self.error("an option name cannot be empty", token)
        return key

    def parse_option_value(self, key: str) -> OptionValue:
        start = self.peek()
        if start is None or start.type in (TokenType.COMMA, TokenType.RPAREN):
            raise self.unexpected(f"a value for option '{key}'")
        sign = self.accept(TokenType.MINUS) or self.accept(TokenType.PLUS)
        token = self.peek()
        if token is None:
            raise self.unexpected(f"a number after the sign of option '{key}'")
        self.advance()
        raw = self.sql[start.start : token.end]
        value: str | int | float | bool
        if token.type is TokenType.NUMBER:
            digits = ("-" if sign is not None and sign.type is TokenType.MINUS else "") + token.text
            value = int(digits) if token.text.isdigit() else float(digits)
        elif sign is not None:
            raise self.error(f"expected a number after the sign of option '{key}'", token)
        elif token.type is TokenType.STRING:
            value = string_value(token)
        elif token.upper in ("TRUE", "FALSE"):
            value = token.upper == "TRUE"
        else:
            raise self.error(
                f"option '{key}' needs a quoted string, a number, true or false; found "
                f"{token.describe()}"
                + (f" — write '{token.text}'" if token.type is TokenType.WORD else ""),
                token,
            )
        return OptionValue(value, raw, start.line, start.column)

    def parse_query(self) -> Query:
        """The rest of the statement, kept verbatim, as a Query."""
        first = self.peek()
        if first is None or first.upper not in QUERY_STARTERS:
            raise self.unexpected("a query (SELECT ... or WITH ... SELECT ...)", QUERY_STARTERS)
        tokens = self.tokens[self.index :]
        self.index = len(self.tokens)
        sql = self.sql[first.start : tokens[-1].end]
        sources, limit = _scan_query(tokens, self.positions, sql)
        return Query(_quote_window_fields(tokens, sql), sources, limit, first.line, first.column)

    # -- statements -----------------------------------------------------------------

    def parse(self) -> Statement:
        first = self.tokens[0]
        parser = STATEMENT_PARSERS.get(first.upper)
        if parser is None:
            hint = did_you_mean(first.text, list(STATEMENT_PARSERS)) if first.upper else ""
            known = ", ".join(sorted(set(STATEMENT_PARSERS) - {"DESC"}))
            raise self.error(
                f"unknown statement {first.describe()}{hint}"
                + ("" if hint else f" (statements start with one of: {known})"),
                first,
            )
        self.advance()
        fields = parser(self)
        self.expect_end()
        statement_class, parts = fields
        return statement_class(
            **parts,
            line=first.line,
            column=first.column,
            text=self.sql[first.start : self.tokens[-1].end],
        )

    def parse_create(self) -> tuple[type[Statement], dict[str, object]]:
        or_replace = False
        if self.accept_word("OR"):
            self.expect_word("REPLACE", "after CREATE OR")
            or_replace = True
        token = self.peek()
        create = CREATE_PARSERS.get(token.upper) if token is not None else None
        if token is None or create is None:
            raise self.unexpected("CONNECTION, TABLE or VIEW after CREATE", (*CREATE_PARSERS, "OR"))
        self.advance()
        self.context = f"CREATE {token.upper}"
        if_token = self.peek()
        if_not_exists = self.parse_if_not_exists()
        if if_not_exists and or_replace:
            raise self.error(
                "OR REPLACE and IF NOT EXISTS cannot be combined; choose one", if_token
            )
        statement_class, parts = create(self)
        parts.update(or_replace=or_replace, if_not_exists=if_not_exists)
        return statement_class, parts

    def parse_create_connection(self) -> tuple[type[Statement], dict[str, object]]:
        name = self.parse_name("a connection name")
        self.context = f"CREATE CONNECTION {name}"
        self.expect_word("FROM", "and a connector after the connection name (FROM sse_source)")
        token = self.peek()
        if token is not None and token.type is TokenType.STRING:
            connector = string_value(self.advance()).lower()
        else:
            connector = self.parse_name("a connector name (e.g. sse_source)")
        options = self.parse_options()
        return CreateConnection, {"name": name, "connector": connector, "options": options}

    def parse_create_table(self) -> tuple[type[Statement], dict[str, object]]:
        name = self.parse_name("a table name")
        self.context = f"CREATE TABLE {name}"
        if self.at_word("AS"):
            raise self.error(
                f"CREATE TABLE ... AS is not supported; for a query over other tables "
                f"write CREATE VIEW {name} AS SELECT ...",
                self.peek(),
            )
        if self.accept(TokenType.LPAREN) is None:
            raise self.unexpected("'(' and the column list after the table name")
        self.watermark: Watermark | None = None
        columns = self.parse_columns()
        options = self.parse_options()
        parts: dict[str, object] = {"name": name, "columns": columns, "options": options}
        if self.watermark is not None:
            parts["watermark"] = self.watermark
        return CreateTable, parts

    def parse_columns(self) -> list[ColumnDef]:
        """Column definitions and an optional PRIMARY KEY (…), up to the closing ')'."""
        columns: list[ColumnDef] = []
        table_key: list[tuple[str, Token]] = []
        key_token: Token | None = None
        while (close := self.accept(TokenType.RPAREN)) is None:
            if self.at_word("WATERMARK") and self.at_word("FOR", ahead=1):
                self.parse_watermark()
            elif self.at_word("PRIMARY") and self.at_word("KEY", ahead=1):
                if key_token is not None:
                    raise self.error("only one PRIMARY KEY clause is allowed", self.peek())
                key_token = self.advance()
                self.advance()
                table_key = self.parse_key_columns()
            else:
                name_token = self.peek()
                column = self.parse_column()
                for existing in columns:
                    if existing.name == column.name:
                        raise self.error(
                            f"duplicate column '{column.name}' (first defined at line "
                            f"{existing.line}, column {existing.column}) — rename or remove one",
                            name_token,
                        )
                columns.append(column)
            if self.accept(TokenType.COMMA) is None and not self._at(TokenType.RPAREN):
                raise self.unexpected(
                    "',' or ')' after a column definition", fix="is a ',' missing?"
                )
        if not columns:
            raise self.error("a table needs at least one column", key_token or close)
        return self.apply_table_key(columns, table_key)

    def parse_watermark(self) -> None:
        """``WATERMARK FOR col [AS col - INTERVAL '5' SECOND]`` (Flink's spelling)."""
        first = self.advance()
        self.advance()
        if self.watermark is not None:
            raise self.error("only one WATERMARK clause is allowed", first)
        column = self.parse_identifier("the event-time column after WATERMARK FOR")
        delay_ms = 0
        if self.accept_word("AS"):
            start = self.peek()
            depth = 0
            last = start
            while (token := self.peek()) is not None:
                if depth == 0 and token.type in (TokenType.COMMA, TokenType.RPAREN):
                    break
                depth += {TokenType.LPAREN: 1, TokenType.RPAREN: -1}.get(token.type, 0)
                last = self.advance()
            if start is None or last is None or start is token:
                raise self.error("expected an expression after WATERMARK FOR … AS", first)
            text = self.sql[start.start : last.end]
            from laminar.sql.query import watermark_delay_ms  # sqlglot: only when used

            try:
                delay_ms = watermark_delay_ms(text, column)
            except SQLError as exc:
                raise self.error(exc.message, start) from exc
        self.watermark = Watermark(column, delay_ms, first.line, first.column)

    def apply_table_key(
        self, columns: list[ColumnDef], table_key: list[tuple[str, Token]]
    ) -> list[ColumnDef]:
        if not table_key:
            return columns
        names = [c.name for c in columns]
        keyed = set()
        for name, token in table_key:
            if name not in names:
                raise self.error(
                    f"PRIMARY KEY names unknown column '{name}'{did_you_mean(name, names)}", token
                )
            keyed.add(name)
        declared = [c.name for c in columns if c.primary_key and c.name not in keyed]
        if declared:
            raise self.error(
                f"column '{declared[0]}' is declared PRIMARY KEY and so is the table's "
                f"PRIMARY KEY clause; keep one",
                table_key[0][1],
            )
        return [
            ColumnDef(c.name, c.type, True, c.not_null, c.line, c.column) if c.name in keyed else c
            for c in columns
        ]

    def parse_key_columns(self) -> list[tuple[str, Token]]:
        self.expect(TokenType.LPAREN, "after PRIMARY KEY")
        names: list[tuple[str, Token]] = []
        while True:
            name = self.parse_identifier("a column name in PRIMARY KEY")
            names.append((name, self.tokens[self.index - 1]))
            if self.accept(TokenType.RPAREN):
                return names
            self.expect(TokenType.COMMA, "or ')' in the PRIMARY KEY column list")

    def parse_column(self) -> ColumnDef:
        name = self.parse_identifier("a column name or ')'")
        start = self.tokens[self.index - 1]
        column_type = self.parse_type(name)
        primary_key = not_null = False
        while True:
            token = self.peek()
            if token is None or token.type in (TokenType.COMMA, TokenType.RPAREN):
                break
            if self.accept_word("PRIMARY"):
                self.expect_word("KEY", f"after PRIMARY (column '{name}')")
                primary_key = True
            elif self.accept_word("NOT"):
                self.expect_word("NULL", f"after NOT (column '{name}')")
                not_null = True
            elif self.accept_word("NULL"):
                not_null = False
            else:
                raise self.unexpected(
                    f"PRIMARY KEY, NOT NULL, ',' or ')' after the type of column '{name}'",
                    COLUMN_CONSTRAINTS,
                )
        return ColumnDef(name, column_type, primary_key, not_null, start.line, start.column)

    def parse_type(self, column: str) -> str:
        """A type name, normalised: ``decimal(10, 2)`` -> ``DECIMAL(10,2)``."""
        token = self.peek()
        if token is None or token.type is not TokenType.WORD:
            raise self.unexpected(f"a type for column '{column}' (e.g. {column} TEXT)")
        self.advance()
        words = [token.upper]
        for sequence in TYPE_CONTINUATIONS.get(token.upper, ()):
            if all(self.at_word(word, ahead=k) for k, word in enumerate(sequence)):
                words.extend(sequence)
                self.index += len(sequence)
                break
        text = " ".join(words)
        if self._at(TokenType.LPAREN):
            text += self.parse_type_arguments(column)
        while self.at_text("["):
            self.advance()
            size = self.accept(TokenType.NUMBER)
            if not self.at_text("]"):
                raise self.unexpected(f"']' in the type of column '{column}'")
            self.advance()
            text += f"[{size.text if size else ''}]"
        return text

    def parse_type_arguments(self, column: str) -> str:
        open_token = self.advance()
        depth = 1
        parts: list[str] = ["("]
        previous: Token = open_token
        while depth:
            token = self.peek()
            if token is None:
                raise self.error(f"unclosed '(' in the type of column '{column}'", open_token)
            self.advance()
            if token.type is TokenType.LPAREN:
                depth += 1
            elif token.type is TokenType.RPAREN:
                depth -= 1
            wordy = (TokenType.WORD, TokenType.NUMBER, TokenType.QUOTED, TokenType.STRING)
            if token.type in wordy and previous.type in wordy:
                parts.append(" ")
            parts.append(token.text.upper() if token.type is TokenType.WORD else token.text)
            previous = token
        return "".join(parts)

    def parse_create_view(self) -> tuple[type[Statement], dict[str, object]]:
        name = self.parse_name("a view name")
        self.context = f"CREATE VIEW {name}"
        self.expect_word("AS", "after the view name (CREATE VIEW name AS SELECT ...)")
        return CreateView, {"name": name, "query": self.parse_query()}

    def parse_select(self) -> tuple[type[Statement], dict[str, object]]:
        self.index -= 1  # the query includes its first word
        self.context = ""
        return Select, {"query": self.parse_query()}

    def parse_explain(self) -> tuple[type[Statement], dict[str, object]]:
        self.context = "EXPLAIN"
        return Explain, {"query": self.parse_query()}

    def parse_insert(self) -> tuple[type[Statement], dict[str, object]]:
        self.context = "INSERT"
        self.expect_word("INTO", "after INSERT")
        target = self.parse_name("a table name after INSERT INTO", dotted=True)
        self.context = f"INSERT INTO {target}"
        if self._at(TokenType.LPAREN):
            raise self.error(
                "a column list after INSERT INTO is not supported; name the columns in "
                "the SELECT instead",
                self.peek(),
            )
        return InsertInto, {"target": target, "query": self.parse_query()}

    def parse_drop(self) -> tuple[type[Statement], dict[str, object]]:
        kind = self.parse_object_kind(DROP_KINDS, "after DROP")
        self.context = f"DROP {kind}"
        if_exists = False
        if self.accept_word("IF"):
            self.expect_word("EXISTS", "after IF (IF EXISTS)")
            if_exists = True
        name = self.parse_name(f"a {kind.lower()} name")
        return Drop, {"kind": kind, "name": name, "if_exists": if_exists}

    def parse_show(self) -> tuple[type[Statement], dict[str, object]]:
        return Show, {"kind": self.parse_object_kind(SHOW_KINDS, "after SHOW")}

    def parse_describe(self) -> tuple[type[Statement], dict[str, object]]:
        self.context = "DESCRIBE"
        return Describe, {"name": self.parse_name("a name to describe", dotted=True)}

    def parse_object_kind(self, kinds: tuple[str, ...], where: str) -> str:
        token = self.peek()
        if token is None or token.upper not in kinds:
            raise self.unexpected(f"{', '.join(kinds[:-1])} or {kinds[-1]} {where}", kinds)
        self.advance()
        return token.upper


DROP_KINDS = ("CONNECTION", "TABLE", "VIEW")
SHOW_KINDS = ("CONNECTIONS", "TABLES", "VIEWS")

_StatementParser = Callable[[_Parser], tuple[type[Statement], dict[str, object]]]

STATEMENT_PARSERS: dict[str, _StatementParser] = {
    "CREATE": _Parser.parse_create,
    "DROP": _Parser.parse_drop,
    "SHOW": _Parser.parse_show,
    "DESCRIBE": _Parser.parse_describe,
    "DESC": _Parser.parse_describe,
    "SELECT": _Parser.parse_select,
    "WITH": _Parser.parse_select,
    "INSERT": _Parser.parse_insert,
    "EXPLAIN": _Parser.parse_explain,
}

CREATE_PARSERS: dict[str, _StatementParser] = {
    "CONNECTION": _Parser.parse_create_connection,
    "TABLE": _Parser.parse_create_table,
    "VIEW": _Parser.parse_create_view,
}


# -- queries: kept verbatim, read structurally for sources and LIMIT ---------------------


def _quote_window_fields(tokens: list[Token], sql: str) -> str:
    """``sql`` with ``window.start`` written ``"window".start``.

    A window's output column is named ``window``, a reserved word to DuckDB, which
    cannot parse ``window.start``; quoted, it is the struct field users mean. WINDOW
    before a dot is never the keyword.
    """
    base = tokens[0].start
    pieces: list[str] = []
    done = 0
    for token, after in pairwise(tokens):
        if token.type is TokenType.WORD and token.upper == "WINDOW" and after.type is TokenType.DOT:
            pieces += [sql[done : token.start - base], f'"{token.text}"']
            done = token.end - base
    return "".join(pieces) + sql[done:] if pieces else sql


def _scan_query(
    tokens: list[Token], positions: SourcePositions, sql: str
) -> tuple[list[str], int | None]:
    """Relations read by a query (see ``Query.sources``) and its top-level LIMIT.

    Parentheses are checked on Laminar's tokens (for an error pointing at the
    culprit); the rest comes from the syntax tree of ``sql`` (DuckDB's for a plain
    query, else sqlglot's), so a column or alias named ``"offset"`` or ``"from"`` is
    just a name.
    """
    open_parens: list[Token] = []
    for token in tokens:
        if token.type is TokenType.LPAREN:
            open_parens.append(token)
        elif token.type is TokenType.RPAREN:
            if not open_parens:
                raise positions.error("unbalanced ')' in the query — remove it", token.start)
            open_parens.pop()
    if open_parens:
        raise positions.error(
            "unclosed '(' in the query — add the missing ')'", open_parens[-1].start
        )
    plain = read_plain(sql)
    if plain is not None:  # read by DuckDB's parser: sqlglot stays unloaded
        return [plain.relation], plain.limit
    from laminar.sql.query import QueryParseError, relations, top_level_limit
    from laminar.sql.query import parse as parse_query

    try:
        tree = parse_query(sql)
    except QueryParseError as exc:
        raise positions.error(
            f"cannot read the query: {exc.description}", _offset_in(sql, exc.at, tokens[0].start)
        ) from exc
    return relations(tree), top_level_limit(tree)


def _offset_in(sql: str, at: tuple[int, int] | None, start: int) -> int:
    """The offset in the statement text of (line, column) of ``sql``, which begins at
    ``start``; sqlglot's column is where the offending token ends. Kept inside ``sql``."""
    if at is None:
        return start
    line, column = at
    line_start = 0
    for _ in range(line - 1):
        newline = sql.find("\n", line_start)
        if newline < 0:
            break
        line_start = newline + 1
    return start + min(max(line_start + column - 1, 0), max(len(sql) - 1, 0))


# -- entry points -------------------------------------------------------------------------


def _split(tokens: list[Token]) -> list[tuple[list[Token], Token | None]]:
    """Token groups between ``;`` (empty ones dropped), each with its ``;`` token if any."""
    groups: list[tuple[list[Token], Token | None]] = []
    current: list[Token] = []
    for token in tokens:
        if token.type is TokenType.SEMICOLON:
            if current:
                groups.append((current, token))
            current = []
        else:
            current.append(token)
    if current:
        groups.append((current, None))
    return groups


def parse_statements(sql: str) -> list[Statement]:
    """Parse every statement of ``sql``; raise SQLError on the first bad one."""
    positions = SourcePositions(sql)
    statements: list[Statement] = []
    for group, semicolon in _split(tokenize(sql, positions)):
        end = semicolon.start if semicolon is not None else group[-1].end
        statements.append(_Parser(sql, positions, group, end).parse())
    return statements


def parse_statement(sql: str) -> Statement:
    """Parse exactly one statement (a trailing ``;`` is optional)."""
    statements = parse_statements(sql)
    if len(statements) != 1:
        found = "no statement" if not statements else f"{len(statements)} statements"
        line, column = (statements[1].line, statements[1].column) if statements[1:] else (1, 1)
        raise SQLError(f"expected exactly one statement, found {found}", line=line, column=column)
    return statements[0]


def split_statements(sql: str) -> list[str]:
    """The exact text of each non-empty statement (no ``;``); never raises.

    An unterminated string or comment is returned as part of the last statement.
    """
    try:
        tokens = tokenize(sql)
    except SQLError:
        stripped = sql.strip()
        return [stripped] if stripped else []
    return [sql[group[0].start : group[-1].end] for group, _ in _split(tokens)]


def statement_complete(text: str) -> bool:
    """True when ``text`` ends with ``;`` outside strings and comments (shell input is done)."""
    try:
        tokens = tokenize(text)
    except SQLError:
        return False
    return bool(tokens) and tokens[-1].type is TokenType.SEMICOLON


__all__ = [
    "CREATE_PARSERS",
    "STATEMENT_PARSERS",
    "parse_statement",
    "parse_statements",
    "split_statements",
    "statement_complete",
]
