"""Sink connectors: where ``INSERT INTO sink_table SELECT …`` (and a continuous SELECT) writes.

One explicit registry (``build_sink``) maps a connector name to its class:
``stdout`` (JSON lines), ``filesystem`` (JSON lines / Parquet files, rolled,
published exactly once with the checkpoints), ``blackhole`` (counts rows) and
``webhook`` (HTTP POST of batches).
The contract every sink keeps is in ``laminar.sinks.base``; option parsing
in ``laminar.sinks.options``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from laminar.sinks.base import Sink
from laminar.sinks.options import SINK_CONNECTORS, SinkSpec, is_sink_connector, parse_sink_options


def build_sink(table: str, spec: SinkSpec, env: Mapping[str, str] | None = None) -> Sink:
    """A fresh sink for one pipeline writing into ``table``; ``${VAR}``s resolved now."""
    from laminar.secrets import Resolver

    resolve = Resolver(os.environ if env is None else env)
    opts = dict(spec.options)
    if spec.connector == "stdout":
        from laminar.sinks.stdout import StdoutSink

        return StdoutSink(table)
    if spec.connector == "blackhole":
        from laminar.sinks.blackhole import BlackholeSink

        return BlackholeSink(table)
    if spec.connector == "filesystem":
        from laminar.sinks.filesystem import FilesystemSink

        return FilesystemSink(
            table,
            resolve("path", opts.pop("path")),
            format=opts["format"],
            rollover_size=opts["rollover_size"],
            rollover_interval_ms=opts["rollover_interval_ms"],
            file_prefix=opts["file_prefix"],
        )
    if spec.connector == "webhook":
        from laminar.sinks.webhook import WebhookSink

        headers = {k: resolve("headers", v) for k, v in (opts["headers"] or {}).items()}
        return WebhookSink(
            table,
            resolve("url", opts["url"]),
            headers=headers,
            batch_size=opts["batch_size"],
            max_retries=opts["max_retries"],
            retry_backoff_ms=opts["retry_backoff_ms"],
            timeout_ms=opts["timeout_ms"],
            shown_url=opts["url"],
        )
    raise ValueError(f"unknown sink connector {spec.connector!r}")


__all__ = [
    "SINK_CONNECTORS",
    "Sink",
    "SinkSpec",
    "build_sink",
    "is_sink_connector",
    "parse_sink_options",
]
