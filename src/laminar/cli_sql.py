"""``laminar run PIPELINE.sql`` and ``laminar sql``: the SQL faces of the command line.

Registered into ``laminar.cli.COMMANDS`` on import. Heavy imports (DuckDB,
Arrow, aiohttp) happen inside the commands, so ``laminar --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeGuard

from laminar.cli_commands import EXIT_OK, run_async, subcommand
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
    p.add_argument(
        "--state-dir",
        metavar="DIR",
        default=None,
        help="where the catalog and committed event ids live (default: $LAMINAR_STATE_DIR, "
        "else ./.laminar; 'none' keeps no state)",
    )
    _monitoring_arguments(p)


@subcommand(
    "run",
    help="run a SQL pipeline file; continuous SELECTs stream their rows to stdout",
    arguments=_run_arguments,
)
def cmd_run(args: argparse.Namespace) -> int:
    import signal

    # Until the pipelines run (and install their own handlers), SIGTERM means: stop now,
    # cleanly (closing the state store) and with status 0, as it does later.
    signal.signal(signal.SIGTERM, _exit_quietly)
    from laminar.sql import databases

    databases.open_spare_ahead()  # the query's database opens while Laminar is imported
    from laminar.sql.engine import Engine

    text = sys.stdin.read() if args.pipeline == "-" else _read(args.pipeline)
    pretty = _pretty(args.format)
    state = _open_state(args.state_dir)
    try:
        engine = Engine(state=state)
        results = engine.execute(text)
        streams = [r for r in results if _is_stream(r)]
        for result in results:
            if not _is_stream(result):
                _print_result(result, pretty, messages_to=sys.stderr)
        if not streams:
            return EXIT_OK
        return run_async(
            _monitored(engine, args, streams, pretty, state), exit_on_signal=EXIT_OK
        )
    finally:
        if state is not None:
            state.close()


def _exit_quietly(signum: int, frame: Any) -> None:
    raise SystemExit(EXIT_OK)


def _open_state(state_dir: str | None) -> Any:
    from laminar.runtime.state import StateStore, default_state_dir

    directory = default_state_dir() if state_dir is None else state_dir
    if directory.strip().lower() in ("", "none"):
        return None
    return StateStore.open(directory)


async def _run_pipelines(
    streams: list[ContinuousQuery], pretty: bool, state: Any, out: TextIO | None = None
) -> int:
    """INSERT INTO queries into their sinks, SELECTs into the stdout sink; all at once.

    ``out`` replaces sys.stdout for the SELECTs (the progress line's wrapper).
    """
    from laminar.sinks.stdout import StdoutSink
    from laminar.sql.pipelines import run_all

    titled = len(streams) > 1
    sinks = [
        StdoutSink(
            q.table, out, pretty=pretty, columns=q.columns, title=q.sql if titled else None,
            keys=q.staged.keys if q.staged is not None else None,
        )
        if (pretty or out is not None) and q.sink is None
        else None
        for q in streams
    ]
    await run_all(streams, state=state, sinks=sinks)
    return EXIT_OK


# -- monitoring: --metrics-port, the progress line, laminar status -----------------------


def _monitoring_arguments(p: argparse.ArgumentParser) -> None:
    from laminar.observability.client import DEFAULT_PORT

    p.add_argument(
        "--metrics-port",
        metavar="PORT",
        type=_port,
        nargs="?",
        const=DEFAULT_PORT,
        default=None,
        help=f"serve /metrics (Prometheus), /healthz, /status and read-only SQL on this port "
        f"(default when given without a value: {DEFAULT_PORT}; 0 picks a free port)",
    )
    p.add_argument(
        "--metrics-host",
        metavar="HOST",
        default="127.0.0.1",
        help="address of the metrics endpoint (default: 127.0.0.1, this machine only)",
    )
    p.add_argument(
        "--metrics-token",
        metavar="TOKEN",
        default=None,
        help="require 'Authorization: Bearer TOKEN' on every route of the metrics port "
        "(default: $LAMINAR_METRICS_TOKEN; unset: no token)",
    )
    p.add_argument(
        "--progress",
        choices=("auto", "on", "off"),
        default="auto",
        help="a live status line on stderr (default: when stderr is a terminal)",
    )


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use 0 (any free port) to 65535")
    return port


async def _monitored(
    engine: Engine, args: argparse.Namespace, streams: list[ContinuousQuery], pretty: bool,
    state: Any,
) -> int:
    """Run the pipelines with the metrics endpoint, the progress line and warnings on stderr."""
    import logging

    from laminar.observability.progress import ProgressLine, ProgressStream, TerminalLogHandler

    server = None
    if args.metrics_port is not None:
        from laminar.observability.access import exposure_warning, resolve_token
        from laminar.observability.server import start_server

        token = resolve_token(args.metrics_token)
        warning = exposure_warning(args.metrics_host, token)
        if warning:
            print(f"laminar: warning: {warning}", file=sys.stderr, flush=True)
        server = await start_server(engine, args.metrics_host, args.metrics_port, token=token)
        print(f"laminar: metrics on {server.url}/metrics", file=sys.stderr, flush=True)
    show = args.progress == "on" or (args.progress == "auto" and sys.stderr.isatty())
    progress = ProgressLine(engine.observability, sys.stderr) if show else None
    handler = TerminalLogHandler(sys.stderr, progress)
    laminar_logger = logging.getLogger("laminar")
    laminar_logger.addHandler(handler)
    out = ProgressStream(sys.stdout, progress) if progress is not None else None
    try:
        if progress is not None:
            progress.start()
        return await _run_pipelines(streams, pretty, state, out)  # type: ignore[arg-type]
    finally:
        if progress is not None:
            await progress.stop()
        laminar_logger.removeHandler(handler)
        if server is not None:
            await server.close()


def _status_arguments(p: argparse.ArgumentParser) -> None:
    _connect_argument(p, required=False)
    p.add_argument("--json", action="store_true", help="print the raw JSON summary")


def _connect_argument(p: argparse.ArgumentParser, *, required: bool) -> None:
    from laminar.observability.client import DEFAULT_URL

    p.add_argument(
        "--connect",
        metavar="URL",
        default=None if required else os.environ.get("LAMINAR_CONNECT", DEFAULT_URL),
        help="the metrics endpoint of a running `laminar run … --metrics-port PORT`"
        + ("" if required else f" (default: $LAMINAR_CONNECT, else {DEFAULT_URL})"),
    )


@subcommand(
    "status",
    help="a readable summary of a running `laminar run … --metrics-port PORT`",
    arguments=_status_arguments,
)
def cmd_status(args: argparse.Namespace) -> int:
    import json

    from laminar.observability.client import remote_status
    from laminar.observability.progress import format_status

    summary = remote_status(args.connect)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(format_status(summary))
    return EXIT_OK if summary.get("healthy", True) else 1


def _run_remote(url: str, text: str, pretty: bool) -> None:
    """Send statements to a running laminar (read-only system-table SQL); print the rows."""
    from laminar.observability.client import remote_sql
    from laminar.output import print_rows

    for columns, types, rows in remote_sql(url, text):
        print_rows(sys.stdout, columns, rows, types, pretty=pretty)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise LaminarError(f"cannot read pipeline {path}: {exc.strerror}") from exc


def _pretty(fmt: str) -> bool:
    return sys.stdout.isatty() if fmt == "auto" else fmt == "table"


def _is_stream(result: Result) -> TypeGuard[ContinuousQuery]:
    from laminar.sql.continuous import ContinuousQuery

    return isinstance(result, ContinuousQuery)


def _print_result(result: Result, pretty: bool, messages_to: Any) -> None:
    from laminar.output import print_rows
    from laminar.sql.engine import Message, Rows

    if isinstance(result, Message):
        print(result.text, file=messages_to, flush=True)
    elif isinstance(result, Rows):
        print_rows(sys.stdout, result.columns, result.rows, result.types, pretty=pretty)


# -- laminar sql -------------------------------------------------------------------------


def _sql_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-e", "--execute", metavar="SQL", help="run these statements and exit")
    p.add_argument("-f", "--file", metavar="PATH", help="run a file of statements first")
    _connect_argument(p, required=True)
    p.add_argument(
        "--format",
        choices=("auto", "json", "table"),
        default="auto",
        help="rows as JSON lines or a table (default: table on a terminal, else json)",
    )


@subcommand(
    "sql",
    help="an interactive SQL shell (or -e 'statements'); keeps no state: the catalog and "
    "stream positions last for the session (use `laminar run --state-dir` to keep them)",
    arguments=_sql_arguments,
)
def cmd_sql(args: argparse.Namespace) -> int:
    pretty = _pretty(args.format)
    if args.connect:
        return _sql_remote(args, pretty)
    import logging

    from laminar.observability.progress import TerminalLogHandler
    from laminar.sql.engine import Engine

    # Reconnection warnings and the like, as `laminar run` shows them: never a silent wait.
    logging.getLogger("laminar").addHandler(TerminalLogHandler(sys.stderr))
    engine = Engine()
    if args.file:
        _run_text(engine, _read(args.file), pretty)
    if args.execute is not None:
        _run_text(engine, args.execute, pretty)
        return EXIT_OK
    if args.file and not sys.stdin.isatty():
        return EXIT_OK
    return _shell(lambda text: _run_text(engine, text, pretty))


def _sql_remote(args: argparse.Namespace, pretty: bool) -> int:
    """``laminar sql --connect URL``: system tables of a running pipeline, read-only."""
    if args.file:
        _run_remote(args.connect, _read(args.file), pretty)
    if args.execute is not None:
        _run_remote(args.connect, args.execute, pretty)
        return EXIT_OK
    if args.file and not sys.stdin.isatty():
        return EXIT_OK
    return _shell(lambda text: _run_remote(args.connect, text, pretty))


def _run_text(engine: Engine, text: str, pretty: bool) -> None:
    """Run statements one at a time; a continuous query streams until it ends or Ctrl-C."""
    from laminar.sql.parser import parse_statements

    for stmt in parse_statements(text):
        result = engine.run_statement(stmt)
        if _is_stream(result):  # into its sink (INSERT INTO) or stdout, until it ends
            code = run_async(_run_pipelines([result], pretty, state=None), exit_on_signal=EXIT_OK)
            if code != EXIT_OK:
                return
        else:
            # Rows alone on stdout when it is a pipe or a file, as with `laminar run`.
            messages_to = sys.stdout if sys.stdout.isatty() else sys.stderr
            _print_result(result, pretty, messages_to=messages_to)


def _shell(run: Callable[[str], None]) -> int:
    """Read statements (multi-line, ';'-terminated) and hand each complete text to ``run``."""
    from laminar import gc_pause
    from laminar.sql.parser import statement_complete

    gc_pause.resume()  # start-up is over (see laminar.gc_pause)
    interactive = sys.stdin.isatty()
    if interactive:
        _enable_history()
        print("Laminar SQL shell. End statements with ';'. Ctrl-C stops a query; Ctrl-D quits.")
        print("Nothing is kept after you quit: `laminar run --state-dir DIR` keeps state.")
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
            run(text)
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
