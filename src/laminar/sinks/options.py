"""The WITH clause of a sink table: connector, then that connector's options, one by one.

``parse_sink_options(table, options)`` validates everything when the CREATE
TABLE runs and returns a ``SinkSpec`` (connector + typed options); leftovers
are an error naming the option with a did-you-mean. ``${VAR}`` in string
options (webhook url, headers) is resolved from the environment when the sink
is built, so secrets are not stored resolved. Defaults:

=============  ======================  ===========================================
connector      option                  default
=============  ======================  ===========================================
filesystem     path                    (required) directory of the files
filesystem     format                  json (JSON lines) | parquet
filesystem     rollover_size           128MiB (bytes, or '64MiB', '512k' …)
filesystem     rollover_interval_ms    10000
filesystem     file_prefix             the table name
webhook        url                     (required) http(s) URL
webhook        headers                 none ('Name: value, …' or a JSON object)
webhook        batch_size              500 rows per request
webhook        max_retries             5
webhook        retry_backoff_ms        200 (doubling, at most 30 s)
webhook        timeout_ms              10000 per request
stdout         format                  json
blackhole      —
=============  ======================  ===========================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from laminar._suggest import did_you_mean
from laminar.connectors.sse.options import parse_headers, parse_str, parse_url
from laminar.errors import ConfigError
from laminar.options import parse_bytes, parse_choice, parse_int
from laminar.secrets import redact_url

SINK_CONNECTORS = ("stdout", "filesystem", "blackhole", "webhook")
SINK_SECRETS = frozenset({"headers"})


def _size(option: str, value: object) -> int:
    return parse_bytes(option, value, minimum=1, maximum=1 << 40, example="134217728 or '128MiB'")


def _file_name(option: str, value: object) -> str:
    """A plain file name: a prefix with a separator or '..' could write outside `path`."""
    name = parse_str(option, value)
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ConfigError(
            f"option {option}: expected a plain file name such as 'trades' (no '/', '\\' "
            f"or '..'; the files go in the sink's path), got {value!r}",
            option=option,
        )
    return name


def _ms(option: str, value: object) -> int:
    return parse_int(option, value, minimum=1, maximum=7 * 86_400_000)


Parser = Callable[[str, object], Any]
_REQUIRED = object()

# connector -> option -> (parser, default)
SCHEMAS: dict[str, dict[str, tuple[Parser, Any]]] = {
    "stdout": {"format": (lambda o, v: parse_choice(o, v, ("json",)), "json")},
    "blackhole": {},
    "filesystem": {
        "path": (parse_str, _REQUIRED),
        "format": (lambda o, v: parse_choice(o, v, ("json", "parquet")), "json"),
        "rollover_size": (_size, 128 << 20),
        "rollover_interval_ms": (_ms, 10_000),
        "file_prefix": (_file_name, None),
    },
    "webhook": {
        "url": (parse_url, _REQUIRED),
        "headers": (parse_headers, None),
        "batch_size": (lambda o, v: parse_int(o, v, minimum=1, maximum=1_000_000), 500),
        "max_retries": (lambda o, v: parse_int(o, v, minimum=0, maximum=1000), 5),
        "retry_backoff_ms": (lambda o, v: parse_int(o, v, minimum=0, maximum=3_600_000), 200),
        "timeout_ms": (_ms, 10_000),
    },
}


@dataclass(frozen=True)
class SinkSpec:
    """A validated sink: its connector and typed options (``${VAR}``s unresolved)."""

    connector: str
    options: Mapping[str, Any]

    def describe(self) -> dict[str, str]:
        """The options for SHOW TABLES: header values hidden, URL secrets redacted."""
        shown: dict[str, str] = {}
        for name, value in self.options.items():
            if value is None:
                continue
            if name in SINK_SECRETS:
                shown[name] = ", ".join(f"{k}: ***" for k in value)
            elif name == "url":
                shown[name] = redact_url(value)
            else:
                shown[name] = str(value)
        return shown


def is_sink_connector(connector: object) -> bool:
    return isinstance(connector, str) and connector.strip().lower() in SINK_CONNECTORS


def parse_sink_options(table: str, options: Mapping[str, Any]) -> SinkSpec:
    rest = dict(options)
    connector = str(rest.pop("connector")).strip().lower()
    schema = SCHEMAS[connector]
    unknown = sorted(set(rest) - set(schema))
    if unknown:
        name = unknown[0]
        known = ", ".join(sorted(schema)) or "none"
        raise ConfigError(
            f"sink table {table}: unknown option '{name}'{did_you_mean(name, schema)} "
            f"for connector '{connector}' (its options: {known})",
            option=name,
        )
    parsed: dict[str, Any] = {}
    for name, (parse, default) in schema.items():
        if name in rest:
            parsed[name] = parse(name, rest.pop(name))
        elif default is _REQUIRED:
            raise ConfigError(
                f"sink table {table}: connector '{connector}' needs option {name}",
                option="connector",
            )
        else:
            parsed[name] = default
    return SinkSpec(connector, parsed)
