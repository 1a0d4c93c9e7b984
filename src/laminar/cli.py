"""The ``laminar`` command: argparse subcommands dispatched through ``COMMANDS``.

The registry (``Subcommand``, ``COMMANDS``, ``@subcommand``, exit statuses) is
``laminar.cli_commands``. This module defines ``demo-server`` and ``tail``,
imports the other command modules (``_import_command_modules``: one line per
module) and holds ``main``, the console script's entry point.

Contract:
- ``laminar --help`` and ``laminar --version`` import nothing heavy: aiohttp,
  DuckDB and the connectors are imported inside the subcommand that needs them;
- exit status: 0 done, 1 a ``LaminarError`` (message on stderr, no traceback),
  2 a usage error, 130 / 143 interrupted by SIGINT / SIGTERM (``run_async``);
- a closed stdout (``laminar tail … | head``) ends the command quietly with 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from laminar.cli_commands import (
    COMMANDS,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Subcommand,
    flag_options,
    normalize_endpoint,
    run_async,
    subcommand,
)
from laminar.errors import ConfigError, LaminarError

# --------------------------------------------------------------------------- shared helpers


class _VersionAction(argparse.Action):
    """``--version``, resolved only when asked for (importlib.metadata is not free)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(f"laminar {version()}")
        parser.exit()


def version() -> str:
    """The installed package version, or the source tree's ``__version__``."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("laminar")
    except PackageNotFoundError:
        import laminar

        return str(getattr(laminar, "__version__", "unknown"))


def _fail(command: str, message: str) -> int:
    print(f"laminar {command}: error: {message}", file=sys.stderr)
    return EXIT_ERROR


# --------------------------------------------------------------------------- demo-server


def _demo_server_arguments(p: argparse.ArgumentParser) -> None:
    from laminar.cli_parser import number_argument

    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    p.add_argument(
        "--port", type=int, default=8765, help="port (default: %(default)s; 0 = any free port)"
    )
    p.add_argument(
        "--rate",
        type=number_argument(0),
        default=20.0,
        help="events per second of each feed (default: %(default)s; ?rate= overrides)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the deterministic content")
    p.add_argument(
        "--token",
        default="demo-token",
        help="token that the /secure/<feed> routes accept (default: %(default)s)",
    )


@subcommand(
    "demo-server",
    help="serve the embedded demo SSE feeds on 127.0.0.1 until Ctrl-C",
    arguments=_demo_server_arguments,
    description="Serve deterministic, resumable SSE feeds (stocks, sensors, social, text, "
    "custom, bench). The first line printed is the base URL.",
)
def cmd_demo_server(args: argparse.Namespace) -> int:
    return run_async(_demo_server(args), exit_on_signal=EXIT_OK)


async def _demo_server(args: argparse.Namespace) -> int:
    import asyncio

    from laminar.demo_server import endpoints, start_demo_server

    try:
        runner, url = await start_demo_server(
            args.host, args.port, rate=args.rate, seed=args.seed, token=args.token
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc} "
            "(choose another --port, or --port 0 for any free one)",
            option="port",
        ) from exc
    try:
        print(url, flush=True)
        width = max(len(u) for u, _ in endpoints(url))
        lines = [f"  {u:<{width}}  {text}" for u, text in endpoints(url)]
        print("laminar demo-server: serving SSE feeds (Ctrl-C to stop)", *lines, sep="\n")
        print(f"  try: laminar tail {url}/stocks", flush=True)
        await asyncio.Event().wait()  # until run_async cancels us on a signal
    finally:
        await runner.cleanup()
    return EXIT_OK


# --------------------------------------------------------------------------- tail

# (flag, connection option, metavar, help): the flags that mirror connection options
_TAIL_OPTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("--auth-type", "auth_type", "TYPE", "none | bearer | api_key (default: inferred)"),
    ("--token", "token", "TOKEN", "bearer token; '${VAR}' reads it from the environment"),
    ("--token-file", "token_file", "PATH", "bearer token read from a file at every connection"),
    ("--api-key", "api_key", "KEY", "API key; '${VAR}' reads it from the environment"),
    ("--api-key-header", "api_key_header", "NAME", "header that carries --api-key"),
    ("--last-event-id", "last_event_id", "ID", "resume after this id (sent as Last-Event-ID)"),
    ("--reconnect-interval-ms", "reconnect_interval_ms", "MS", "first reconnection delay"),
    ("--reconnect-backoff-ms", "reconnect_backoff_ms", "MS", "backoff base delay"),
    ("--reconnect-multiplier", "reconnect_multiplier", "X", "backoff growth factor"),
    ("--max-reconnect-interval-ms", "max_reconnect_interval_ms", "MS", "backoff cap"),
    ("--max-reconnect-attempts", "max_reconnect_attempts", "N", "give up after N failures"),
    ("--timeout-ms", "timeout_ms", "MS", "connect + response headers timeout"),
    ("--keepalive-timeout-ms", "keepalive_timeout_ms", "MS", "longest silence before reconnecting"),
    ("--method", "method", "METHOD", "HTTP method (default GET, or POST with --body)"),
    ("--body", "body", "DATA", "request body, re-sent on every reconnection; @FILE reads a file"),
    ("--proxy", "proxy", "URL", "HTTP proxy"),
    ("--ca-cert", "ca_cert", "PATH", "CA bundle that verifies the server's TLS certificate"),
)
_SHORT = {"--method": "-X", "--body": "-d"}


def _tail_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "endpoint",
        metavar="ENDPOINT",
        help="URL of the SSE stream; '/stocks' or ':8765/stocks' mean the local demo-server",
    )
    p.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="request header (repeatable)",
    )
    for flag, option, metavar, text in _TAIL_OPTIONS:
        names = [_SHORT[flag], flag] if flag in _SHORT else [flag]
        p.add_argument(*names, dest=option, metavar=metavar, help=text)
    p.add_argument(
        "--decompress-response",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="decode gzip / deflate bodies incrementally",
    )
    p.add_argument(
        "-k", "--insecure", action="store_true", help="do not verify TLS certificates (verify_tls)"
    )
    p.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other connection option, as in CREATE CONNECTION … WITH (…) (repeatable)",
    )
    p.add_argument(
        "-n", "--limit", type=_positive_int, metavar="N", help="stop after N events (exit 0)"
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="report connects, disconnects and reconnections (and comments, with "
        "-o ignore_comments=false) on stderr",
    )
    p.add_argument(
        "--format",
        choices=sorted(_FORMATTERS),
        default="auto",
        help="json: one JSON object per line; pretty: readable; data: the data only; "
        "auto (default): pretty on a terminal, json otherwise",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 1")
    return value


def tail_options(args: argparse.Namespace) -> dict[str, Any]:
    """The connection-option mapping that ``laminar tail``'s flags describe."""
    return flag_options(args, args.endpoint, (option for _, option, _, _ in _TAIL_OPTIONS))


def _format_json(ev: Any, color: bool) -> str:
    import json

    record = {"event": ev.event, "data": ev.data, "id": ev.id, "retry": ev.retry}
    return json.dumps(record) + "\n"


def _format_data(ev: Any, color: bool) -> str:
    return ev.data + "\n"


def _format_pretty(ev: Any, color: bool) -> str:
    dim, bold, reset = ("\x1b[2m", "\x1b[1;36m", "\x1b[0m") if color else ("", "", "")
    head = f"{dim}#{ev.id}{reset} " if ev.id else ""
    retry = f" {dim}(retry {ev.retry} ms){reset}" if ev.retry is not None else ""
    data = ev.data.replace("\n", "\n    ")
    return f"{head}{bold}{ev.event}{reset}{retry}  {data}\n"


_FORMATTERS: dict[str, Callable[[Any, bool], str] | None] = {
    "auto": None,
    "json": _format_json,
    "pretty": _format_pretty,
    "data": _format_data,
}


@subcommand(
    "tail",
    help="print the events of an SSE endpoint as they arrive (reconnects, resumes)",
    arguments=_tail_arguments,
    description="Connect to an SSE endpoint and print its events as they arrive, reconnecting "
    "with Last-Event-ID. Output is one JSON object per line "
    '({"event","data","id","retry"}) when stdout is not a terminal.',
)
def cmd_tail(args: argparse.Namespace) -> int:
    options = tail_options(args)
    fmt = args.format
    if fmt == "auto":
        fmt = "pretty" if sys.stdout.isatty() else "json"
    formatter = _FORMATTERS[fmt]
    assert formatter is not None
    color = fmt == "pretty" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return run_async(_tail(options, formatter, color, args.limit, args.verbose))


async def _tail(
    options: dict[str, Any],
    formatter: Callable[[Any, bool], str],
    color: bool,
    limit: int | None,
    verbose: bool = False,
) -> int:
    import logging

    from laminar.connectors.sse import ConnectionOptions, EventSource, SourceObserver

    class StderrObserver(SourceObserver):
        """``--verbose``: the connection's life, one line each on stderr (no secrets)."""

        def _say(self, text: str) -> None:
            print(f"laminar tail: {text}", file=sys.stderr, flush=True)

        def on_connecting(self, attempt: int) -> None:
            self._say(
                f"connecting to {connection.display_endpoint}"
                + (f" (attempt {attempt})" if attempt else "")
            )

        def on_open(self, status: int, headers: Any) -> None:
            encoding = headers.get("Content-Encoding")
            self._say(f"open: HTTP {status}" + (f", {encoding}" if encoding else ""))

        def on_comment(self, text: str) -> None:
            self._say(f"comment: {text}")

        def on_disconnect(self, reason: str, error: BaseException | None) -> None:
            self._say(f"disconnected: {reason}" + (f" ({error})" if error else ""))

        def on_retry(self, attempt: int, delay_s: float, reason: str) -> None:
            self._say(f"reconnecting in {delay_s:.2f} s (attempt {attempt}, after {reason})")

    # errors reach the user once, as the exception main() prints; --verbose shows the rest
    logging.getLogger("laminar").addHandler(logging.NullHandler())
    connection = ConnectionOptions.from_options(options, env=os.environ)
    observer = StderrObserver() if verbose else None
    out = sys.stdout
    remaining = limit
    async with EventSource(connection, observer) as source:
        async for batch in source.batches():  # one network read: one write, one flush
            if remaining is not None:
                batch = batch[:remaining]
                remaining -= len(batch)
            out.write("".join([formatter(event, color) for event in batch]))
            out.flush()
            if remaining == 0:
                break
    return EXIT_OK


# --------------------------------------------------------------------------- main


def _import_command_modules() -> None:
    """Import every module whose ``@subcommand``s are ``laminar``'s commands.

    This module's own (demo-server, tail) are registered already; a new command
    module is one more import line here.
    """
    from laminar import cli_console, cli_sql  # noqa: F401  run, sql, status; probe, serve


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``laminar`` parser with one subparser per entry of ``COMMANDS``.

    With ``only`` (the command being run), the other subparsers are listed without
    their arguments: building them all costs ~8 ms of every command's start-up.
    """
    from laminar.cli_parser import SuggestingParser

    _import_command_modules()
    parser = SuggestingParser(
        prog="laminar",
        description="Laminar: streaming SQL over Server-Sent Events.",
    )
    parser.add_argument("--version", action=_VersionAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS.values():
        sub = subparsers.add_parser(
            command.name, help=command.help, description=command.description
        )
        if only is None or command.name == only:
            command.add_arguments(sub)
    return parser


def _command_name(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` runs, if it names a known one (global flags take no value)."""
    _import_command_modules()
    name = next((a for a in argv if not a.startswith("-")), None)
    return name if name in COMMANDS else None


def entry() -> None:
    """The ``laminar`` console script: ``main`` in a process that never imports pandas.

    The garbage collector waits until the command's long-running part (``laminar.gc_pause``).
    """
    from laminar import gc_pause
    from laminar.no_pandas import keep_pandas_out

    gc_pause.pause()
    keep_pandas_out()
    sys.exit(main())


def main(argv: Sequence[str] | None = None) -> int:
    """The ``laminar`` command line; returns the exit status."""
    try:
        parser = build_parser(_command_name(sys.argv[1:] if argv is None else argv))
        args = parser.parse_args(argv)
    except KeyboardInterrupt:  # Ctrl-C while starting up
        return EXIT_INTERRUPTED
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command].run(args)
    except LaminarError as exc:
        return _fail(args.command, str(exc))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`laminar tail … | head`): stop quietly, and keep the
        # interpreter from complaining when it flushes stdout at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


__all__ = [
    "COMMANDS",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Subcommand",
    "build_parser",
    "main",
    "normalize_endpoint",
    "run_async",
    "subcommand",
    "tail_options",
]

if __name__ == "__main__":
    sys.exit(main())
