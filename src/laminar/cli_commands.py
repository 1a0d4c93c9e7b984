"""The command registry of ``laminar``: exit statuses, ``Subcommand``, ``COMMANDS``.

A module that defines subcommands imports ``subcommand`` from here (never from
``laminar.cli``, which imports those modules: no cycle) and decorates each
``run(args) -> exit status`` with it. ``laminar.cli.build_parser`` imports the
command modules it lists, then builds one subparser per entry of ``COMMANDS``,
in registration order.

Exit statuses: 0 done, 1 a ``LaminarError`` (message on stderr, no traceback),
2 a usage error, 130 / 143 interrupted by SIGINT / SIGTERM (``run_async``).
This module imports nothing heavy: ``laminar --help`` must stay fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

DEMO_URL = "http://127.0.0.1:8765"  # `laminar demo-server`'s default address

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

Run = Callable[[argparse.Namespace], int]  # a subcommand's body: args -> exit status
Arguments = Callable[[argparse.ArgumentParser], None]  # adds its arguments


class Subcommand:
    """One ``laminar NAME`` subcommand: its help, its arguments and its body."""

    __slots__ = ("add_arguments", "description", "help", "name", "run")

    def __init__(
        self,
        name: str,
        help: str,
        add_arguments: Arguments,
        run: Run,
        description: str | None = None,
    ) -> None:
        self.name = name
        self.help = help
        self.add_arguments = add_arguments
        self.run = run
        self.description = description or help


# name -> command, in registration order (the order `laminar --help` lists them)
COMMANDS: dict[str, Subcommand] = {}


def subcommand(
    name: str,
    *,
    help: str,
    arguments: Arguments,
    description: str | None = None,
) -> Callable[[Run], Run]:
    """Register the decorated ``run(args) -> int`` as ``laminar NAME``."""

    def register(run: Run) -> Run:
        if name in COMMANDS:
            raise ValueError(f"laminar subcommand {name!r} is registered twice")
        COMMANDS[name] = Subcommand(name, help, arguments, run, description)
        return run

    return register


def run_async(main: Coroutine[Any, Any, int], *, exit_on_signal: int | None = None) -> int:
    """Run ``main`` in a new event loop; SIGINT / SIGTERM cancel it and end the command.

    The cancelled coroutine gets to clean up (close connections, flush). The
    status is then ``exit_on_signal`` if given, else 128 + the signal number
    (130 for Ctrl-C). A second Ctrl-C during cleanup interrupts it outright.
    """
    import asyncio
    import signal

    from laminar import gc_pause

    gc_pause.resume()  # start-up is over (see laminar.gc_pause)

    async def supervised() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        received: list[int] = []
        signals = (signal.SIGINT, signal.SIGTERM)

        def on_signal(signum: int) -> None:
            received.append(signum)
            for s in signals:
                loop.remove_signal_handler(s)
            task.cancel()

        installed = []
        for s in signals:
            try:
                loop.add_signal_handler(s, on_signal, s)
                installed.append(s)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread, or a platform without signal support
        try:
            return await main
        except asyncio.CancelledError:
            if not received:
                raise
            task.uncancel()
            return exit_on_signal if exit_on_signal is not None else 128 + received[0]
        finally:
            if not received:
                for s in installed:
                    loop.remove_signal_handler(s)

    return asyncio.run(supervised())


def normalize_endpoint(text: str) -> str:
    """'/stocks' -> the local demo-server; ':9000/x' -> 127.0.0.1:9000; no scheme -> http://."""
    if text.startswith("/"):
        return DEMO_URL + text
    if text.startswith(":"):
        return "http://127.0.0.1" + text
    if "://" not in text:
        return "http://" + text
    return text


def flag_options(
    args: argparse.Namespace, endpoint: str, keys: Iterable[str]
) -> dict[str, Any]:
    """The connection options that curl-like flags describe (``tail``, ``probe``).

    ``keys`` names the plain flags (``args.<key>`` is the option's value or None);
    ``-H`` headers, ``-o KEY=VALUE``, ``-X``/``-d`` with curl's conventions (``-d``
    alone means POST, ``-d @FILE`` reads the body from a file) and, when the parser
    has them, ``--decompress-response`` and ``-k`` are handled here once.
    """
    from laminar.errors import ConfigError

    options: dict[str, Any] = {"endpoint": normalize_endpoint(endpoint)}
    headers: dict[str, str] = {}
    for raw in args.header:
        name, sep, value = raw.partition(":")
        if not sep or not name.strip():
            raise ConfigError(
                "--header expects 'Name: value' (a header name, a colon, then the value)",
                option="headers",
            )
        headers[name.strip()] = value.strip()
    if headers:
        options["headers"] = headers
    for key in keys:
        value = getattr(args, key)
        if value is not None:
            options[key] = value
    if "method" in options:
        options["method"] = options["method"].upper()
    elif "body" in options:
        options["method"] = "POST"  # as curl -d does
    body = options.get("body")
    if isinstance(body, str) and body.startswith("@"):
        try:
            with open(body[1:], encoding="utf-8") as f:
                options["body"] = f.read()
        except OSError as exc:
            raise ConfigError(
                f"--body {body}: cannot read the file ({exc.strerror})", option="body"
            ) from exc
    if getattr(args, "decompress_response", None) is not None:
        options["decompress_response"] = args.decompress_response
    if getattr(args, "insecure", False):
        options["verify_tls"] = False
    for raw in args.option:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            # the raw text may hold a secret ('-o token:abc'): shown only when it cannot
            shown = f" (got {raw!r})" if raw.isidentifier() else ""
            raise ConfigError(f"-o/--option expects KEY=VALUE{shown}", option="option")
        options[key.strip()] = value
    return options
