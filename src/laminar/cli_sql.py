"""``laminar run PIPELINE.sql`` and ``laminar sql``: the SQL faces of the command line.

Registered into ``laminar.cli.COMMANDS`` on import. Heavy imports (DuckDB,
Arrow, aiohttp) happen inside the commands, so ``laminar --help`` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from laminar.cli import EXIT_OK, run_async, subcommand
from laminar.errors import LaminarError

if TYPE_CHECKING:
    from laminar.sql.continuous import ContinuousQuery
    from laminar.sql.engine import Engine, Result


def _run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("pipeline", help="a file of SQL statements, run in order ('-' reads stdin)")
    p.add_argument(
        "--format",
        choices=("auto", "json", "table"),
        default="auto",
        help="rows as JSON lines or a live table (default: table on a terminal, else json)",
    )


@subcommand(
    "run",
    help="run a SQL pipeline file; continuous SELECTs stream their rows to stdout",
    arguments=_run_arguments,
)
def cmd_run(args: argparse.Namespace) -> int:
    from laminar.sql.engine import Engine

    text = sys.stdin.read() if args.pipeline == "-" else _read(args.pipeline)
    pretty = _pretty(args.format)
    engine = Engine()
    results = engine.execute(text)
    streams = [r for r in results if _is_stream(r)]
    for result in results:
        if not _is_stream(result):
            _print_result(result, pretty, messages_to=sys.stderr)
    if not streams:
        return EXIT_OK
    return run_async(_stream_all(streams, pretty), exit_on_signal=EXIT_OK)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise LaminarError(f"cannot read pipeline {path}: {exc.strerror}") from exc


def _pretty(fmt: str) -> bool:
    return sys.stdout.isatty() if fmt == "auto" else fmt == "table"


def _is_stream(result: Result) -> bool:
    from laminar.sql.continuous import ContinuousQuery

    return isinstance(result, ContinuousQuery)


def _print_result(result: Result, pretty: bool, messages_to: Any) -> None:
    from laminar.output import print_rows
    from laminar.sql.engine import Message, Rows

    if isinstance(result, Message):
        print(result.text, file=messages_to, flush=True)
    elif isinstance(result, Rows):
        print_rows(sys.stdout, result.columns, result.rows, result.types, pretty=pretty)


async def _stream_all(streams: list[ContinuousQuery], pretty: bool) -> int:
    tasks = [
        asyncio.create_task(_stream(q, pretty, title=q.sql if len(streams) > 1 else None))
        for q in streams
    ]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for query in streams:
            query.close()
    return EXIT_OK


async def _stream(query: ContinuousQuery, pretty: bool, title: str | None = None) -> None:
    out = sys.stdout
    if not pretty:
        async for lines in query.json_batches():
            out.write("\n".join(lines) + "\n")
            out.flush()
        return
    from laminar.output import LiveTable

    table = LiveTable(out, query.columns, title)
    async for batch in query.arrow_batches():
        table.write_rows([tuple(row.values()) for row in batch.to_pylist()])


# -- laminar sql -------------------------------------------------------------------------


def _sql_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-e", "--execute", metavar="SQL", help="run these statements and exit")
    p.add_argument("-f", "--file", metavar="PATH", help="run a file of statements first")
    p.add_argument(
        "--format",
        choices=("auto", "json", "table"),
        default="auto",
        help="rows as JSON lines or a table (default: table on a terminal, else json)",
    )


@subcommand(
    "sql",
    help="an interactive SQL shell (or -e 'statements')",
    arguments=_sql_arguments,
)
def cmd_sql(args: argparse.Namespace) -> int:
    from laminar.sql.engine import Engine

    engine = Engine()
    pretty = _pretty(args.format)
    if args.file:
        _run_text(engine, _read(args.file), pretty)
    if args.execute is not None:
        _run_text(engine, args.execute, pretty)
        return EXIT_OK
    if args.file and not sys.stdin.isatty():
        return EXIT_OK
    return _shell(engine, pretty)


def _run_text(engine: Engine, text: str, pretty: bool) -> None:
    """Run statements one at a time; a continuous query streams until it ends or Ctrl-C."""
    from laminar.sql.parser import parse_statements

    for stmt in parse_statements(text):
        result = engine.run_statement(stmt)
        if _is_stream(result):
            code = run_async(_stream_all([result], pretty), exit_on_signal=EXIT_OK)
            if code != EXIT_OK:
                return
        else:
            _print_result(result, pretty, messages_to=sys.stdout)


def _shell(engine: Engine, pretty: bool) -> int:
    from laminar.sql.parser import statement_complete

    interactive = sys.stdin.isatty()
    if interactive:
        _enable_history()
        print("Laminar SQL shell. End statements with ';'. Ctrl-C stops a query; Ctrl-D quits.")
    buffer: list[str] = []
    while True:
        prompt = ("laminar> " if not buffer else "     ..> ") if interactive else ""
        try:
            line = input(prompt)
        except EOFError:
            if interactive:
                print()
            break
        except KeyboardInterrupt:
            print()
            buffer.clear()
            continue
        buffer.append(line)
        text = "\n".join(buffer)
        if not text.strip() or not statement_complete(text):
            continue
        buffer.clear()
        try:
            _run_text(engine, text, pretty)
        except LaminarError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
        except KeyboardInterrupt:
            print("(stopped)", file=sys.stderr)
    return EXIT_OK


def _enable_history() -> None:
    try:
        import atexit
        import readline
    except ImportError:  # pragma: no cover - platforms without readline
        return
    path = Path(os.environ.get("LAMINAR_HISTORY", Path.home() / ".laminar_history"))
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)
    atexit.register(_save_history, readline, path)


def _save_history(readline: Any, path: Path) -> None:
    with contextlib.suppress(OSError):
        readline.write_history_file(path)
