"""``laminar serve``, ``laminar probe`` and ``laminar run … --console``.

Registered into ``laminar.cli.COMMANDS`` on import (after ``cli_sql``, whose
``run`` gains ``--console``). Heavy imports happen inside the commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from laminar import cli_sql
from laminar.cli_commands import COMMANDS, EXIT_OK, flag_options, run_async, subcommand

DEFAULT_CONSOLE_PORT = 8780


# -- probe -------------------------------------------------------------------------------


def _probe_arguments(p: argparse.ArgumentParser) -> None:
    from laminar.cli_parser import number_argument

    p.add_argument("url", metavar="URL",
                   help="the SSE stream; '/stocks' or ':8765/stocks' mean the local demo-server")
    p.add_argument("--seconds", type=number_argument(0.1, 300, "seconds"), default=5.0,
                   help="how long to sample (default: %(default)s)")
    p.add_argument("--table", metavar="NAME", help="table name (default: from the URL)")
    p.add_argument("-H", "--header", action="append", default=[], metavar="'NAME: VALUE'",
                   help="request header (repeatable)")
    p.add_argument("--token", help="bearer token ('${VAR}' reads the environment)")
    p.add_argument("--api-key", dest="api_key", help="API key ('${VAR}' reads the environment)")
    p.add_argument("-X", "--method", help="HTTP method (default GET, or POST with --body)")
    p.add_argument("-d", "--body", help="request body; @FILE reads a file")
    p.add_argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE",
                   help="any other connection option, as in CREATE CONNECTION (repeatable)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def probe_options(args: argparse.Namespace) -> dict[str, Any]:
    """The connection options that ``laminar probe``'s flags describe (as ``tail``'s)."""
    return flag_options(args, args.url, ("token", "api_key", "method", "body"))


@subcommand(
    "probe",
    help="sample an SSE stream and print a ready CREATE TABLE for it",
    arguments=_probe_arguments,
    description="Connect to an SSE URL for a few seconds; report its event types, ids, retry, "
    "rate and example payloads; infer the schema and print CREATE TABLE … WITH (…).",
)
def cmd_probe(args: argparse.Namespace) -> int:
    import os

    from laminar.probe import probe_stream

    options = probe_options(args)

    async def main() -> int:
        report = await probe_stream(options, seconds=args.seconds, table=args.table,
                                    env=os.environ)
        if args.json:
            print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        else:
            print(report.text())
        return EXIT_OK

    return run_async(main())


# -- serve -------------------------------------------------------------------------------


def _console_arguments(p: argparse.ArgumentParser, *, port_flag: str) -> None:
    p.add_argument(port_flag, dest="console_port", type=cli_sql._port,
                   default=DEFAULT_CONSOLE_PORT, metavar="PORT",
                   help="port of the console (default: %(default)s; 0 picks a free port)")
    p.add_argument("--console-host", default="127.0.0.1", metavar="HOST",
                   help="address of the console (default: 127.0.0.1; another address needs "
                   "a token)")
    p.add_argument("--console-token", metavar="TOKEN", default=None,
                   help="the console's token (default: $LAMINAR_CONSOLE_TOKEN, else a new "
                   "random one; '' disables it, on 127.0.0.1 only)")


def _serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("pipelines", nargs="*", metavar="PIPELINE.sql",
                   help="SQL files run at start (DDL, then one pipeline per continuous query)")
    _console_arguments(p, port_flag="--port")
    p.add_argument("--state-dir", metavar="DIR", default=None,
                   help="catalog and checkpoints (default: $LAMINAR_STATE_DIR, else "
                   "./.laminar; 'none' keeps no state)")


@subcommand(
    "serve",
    help="run the engine with a web console and REST API on 127.0.0.1",
    arguments=_serve_arguments,
    description="Run Laminar with its web console and REST API (/api/v1). Prints the URL to "
    "open, with its token (http://127.0.0.1:PORT/?token=…).",
)
def cmd_serve(args: argparse.Namespace) -> int:
    texts = [cli_sql._read(path) for path in args.pipelines]
    return _serve(args, texts)


def _serve(args: argparse.Namespace, texts: list[str], *, rows_to_stdout: bool = False) -> int:
    """Run the console (and the files' pipelines) until a signal.

    ``rows_to_stdout`` (``laminar run --console``): SELECT rows go to stdout as well,
    as a plain ``laminar run`` writes them, and the login URL goes to stderr so
    stdout holds nothing but rows.
    """
    import logging

    from laminar.observability.progress import TerminalLogHandler
    from laminar.sql.engine import Engine

    logging.getLogger("laminar").addHandler(TerminalLogHandler(sys.stderr))
    state = cli_sql._open_state(args.state_dir)
    try:
        engine = Engine(state=state)
        return run_async(
            _serve_async(engine, args, texts, rows_to_stdout), exit_on_signal=EXIT_OK
        )
    finally:
        if state is not None:
            state.close()


async def _serve_async(
    engine: Any, args: argparse.Namespace, texts: list[str], rows_to_stdout: bool
) -> int:
    import asyncio

    from laminar.console.app import start_console

    echo = _stdout_sink(cli_sql._pretty(args.format)) if rows_to_stdout else None

    console = await start_console(
        engine, args.console_host, args.console_port, token=args.console_token
    )
    try:
        for message in console.manager.restore():  # pipelines created over the API before
            print(message, file=sys.stderr, flush=True)
        for text in texts:
            for message in console.manager.run_file(text, echo):
                print(message, file=sys.stderr, flush=True)
        print(console.login_url, file=sys.stderr if rows_to_stdout else sys.stdout, flush=True)
        print(f"laminar: console on {console.url} (Ctrl-C to stop)", file=sys.stderr, flush=True)
        await asyncio.Event().wait()  # until run_async cancels us on a signal
    finally:
        await console.close()
    return EXIT_OK


# -- run --console: a flag on cli_sql's `run` ------------------------------------------------


def _stdout_sink(pretty: bool) -> Any:
    """The sink a plain ``laminar run`` gives a SELECT (JSON lines, or a live table)."""
    from laminar.sinks.stdout import StdoutSink

    def sink(query: Any) -> Any:
        keys = query.staged.keys if query.staged is not None else None
        return StdoutSink(query.table, pretty=pretty, columns=query.columns, keys=keys)

    return sink


def _wrap_run() -> None:
    run = COMMANDS["run"]
    add_arguments, body = run.add_arguments, run.run

    def arguments(p: argparse.ArgumentParser) -> None:
        add_arguments(p)
        p.add_argument("--console", action="store_true",
                       help="run the pipeline under the web console as well (as `laminar "
                       "serve PIPELINE.sql`); rows still go to stdout, the URL to stderr")
        _console_arguments(p, port_flag="--console-port")

    def run_command(args: argparse.Namespace) -> int:
        if not args.console:
            return body(args)
        text = sys.stdin.read() if args.pipeline == "-" else cli_sql._read(args.pipeline)
        return _serve(args, [text], rows_to_stdout=True)

    run.add_arguments, run.run = arguments, run_command


_wrap_run()
