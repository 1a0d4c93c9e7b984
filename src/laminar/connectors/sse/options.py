"""Connection options of the SSE connector: schema, defaults, validation, ${VAR}, redaction.

Contract:

* ``ConnectionOptions.from_options(mapping, env=...)`` (or ``ConnectionOptions(mapping)``,
  or keyword arguments) takes every option out of the mapping one by one; values may
  be Python values or the strings/ints/floats/bools SQL produces. An unknown name, a
  wrong type or an out-of-range value raises ``ConfigError`` naming the option and
  the fix. Option names are case-insensitive.
* ``${VAR}`` (and ``${VAR:-default}``) references in string options are kept as
  written and resolved by ``resolve()``, which the transport calls before every
  (re)connection: rotated credentials and a re-read ``token_file`` take effect on
  the next reconnection. A missing variable is a ``ConfigError`` naming the
  variable and the option.
* Secrets — ``token``, ``api_key``, ``body``, auth-like headers and ``secret_headers``,
  credentials in URLs and every value substituted from ``${VAR}`` (except into
  ``last_event_id``, which is not a secret) — never appear in ``repr()``,
  ``redacted()`` or in text passed through ``ResolvedRequest.scrub()`` (in any form:
  raw, URL-encoded, base64). ``$${`` is a literal ``${``. The machinery is
  ``laminar.secrets``; the names re-exported here keep older imports working.
"""

from __future__ import annotations

import json
import os
import re
import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from laminar._suggest import did_you_mean
from laminar.errors import ConfigError
from laminar.options import (
    OptionSpec,
    option_error,
    optional,
    parse_bool,
    parse_bytes,
    parse_choice,
    parse_float,
    parse_int,
    shown,
)
from laminar.secrets import (
    DEFAULT_API_KEY_HEADER,
    REDACTED,
    URL_USERINFO,
    Resolver,
    Scrubber,
    basic_credentials,
    check_references,
    is_secret_header,
    redact_headers,
    redact_url,
    userinfo,
)

DEFAULT_MAX_EVENT_SIZE = 16 << 20
# Real streams compress 5-50:1; a bomb of repeated bytes about 1000:1.
DEFAULT_MAX_RATIO = 200
RATIO_CHECK_AFTER = 16 << 20  # decompressed bytes before the ratio is judged
MAX_REDIRECTS = 10
# Any RFC 9110 method token (GET, POST, REPORT, …): the server decides what it accepts.
_METHOD = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
AUTH_TYPES = ("none", "bearer", "api_key")

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


# -- value parsers: raw value -> typed value, or ConfigError --------------------
# The generic ones live in laminar.options (re-exported here); these add ${VAR} checks.


def parse_str(option: str, value: object) -> str:
    if not isinstance(value, str):
        raise option_error(option, f"expected a string, got {shown(value)}")
    if "\r" in value or "\n" in value or "\x00" in value:
        raise option_error(option, "line breaks and NUL are not allowed")
    check_references(option, value)
    return value


def parse_text(option: str, value: object) -> str:
    """Like parse_str, but line breaks are fine (a request body)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if not isinstance(value, str):
        raise option_error(option, f"expected a string, got {shown(value)}")
    check_references(option, value)
    return value


def parse_url(option: str, value: object) -> str:
    text = parse_str(option, value).strip()
    if not text:
        raise option_error(option, "must not be empty")
    if "${" not in text.split("://", 1)[0]:
        _check_http_url(option, text)
    return text


def _check_http_url(option: str, url: str) -> None:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest or rest[0] in "/?#":
        raise option_error(
            option,
            f"expected an http:// or https:// URL with a host, got {shown(redact_url(url))}",
        )


def parse_size(option: str, value: object) -> int:
    return parse_bytes(option, value, minimum=16, maximum=1 << 30)


def parse_headers(option: str, value: object) -> dict[str, str]:
    """A mapping, a JSON object string, or the legacy 'Name: value, Name2: value2' form."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return {}
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise option_error(
                    option,
                    f"not valid JSON ({exc.msg} at position {exc.pos}); "
                    'write a JSON object such as \'{"X-Client": "a"}\'',
                ) from None
        else:
            pairs: dict[str, str] = {}
            for item in text.split(","):
                name, colon, header_value = item.partition(":")
                if not colon or not name.strip():
                    raise option_error(
                        option,
                        'expected a JSON object such as \'{"X-Client": "a"}\' '
                        "(or 'Name: value, Name2: value2')",
                    )
                pairs[name.strip()] = header_value.strip()
            value = pairs
    if not isinstance(value, Mapping):
        raise option_error(
            option, f"expected a JSON object of header names to values, got {shown(value)}"
        )
    headers: dict[str, str] = {}
    for name, header_value in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise option_error(option, f"{shown(name)} is not a valid header name")
        if isinstance(header_value, bool):
            header_value = "true" if header_value else "false"
        elif isinstance(header_value, (int, float)):
            header_value = str(header_value)
        if not isinstance(header_value, str):
            raise option_error(option, f"header {name!r}: expected a string value")
        headers[name] = parse_str(option, header_value)
    return headers


def parse_method(option: str, value: object) -> str:
    """Any HTTP method token (RFC 9110), upper-cased."""
    text = parse_str(option, value).strip()
    if not _METHOD.match(text):
        raise option_error(
            option, f"expected an HTTP method such as GET, POST or REPORT, got {shown(value)}"
        )
    return text.upper()


def parse_names(option: str, value: object) -> tuple[str, ...]:
    """Header names: a list, or a comma-separated string."""
    if isinstance(value, str):
        value = [part for part in (p.strip() for p in value.split(",")) if part]
    if not isinstance(value, (list, tuple)):
        raise option_error(
            option, f"expected header names such as 'X-Tenant-Key, X-Sig', got {shown(value)}"
        )
    for name in value:
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise option_error(option, f"{shown(name)} is not a valid header name")
    return tuple(value)


def _ms(minimum: int) -> Callable[[str, object], int]:
    return lambda option, value: parse_int(option, value, minimum=minimum, maximum=2**31)


# -- the schema ---------------------------------------------------------------


SPECS: dict[str, OptionSpec] = {
    "endpoint": OptionSpec(parse_url, None, doc="SSE endpoint URL (required)"),
    "headers": OptionSpec(parse_headers, {}, doc="extra request headers"),
    "auth_type": OptionSpec(
        lambda o, v: parse_choice(o, v, AUTH_TYPES), "none", doc="none | bearer | api_key"
    ),
    "token": OptionSpec(optional(parse_str), None, secret=True, doc="bearer token"),
    "token_file": OptionSpec(
        optional(parse_str), None, doc="file holding the bearer token, re-read at each connection"
    ),
    "api_key": OptionSpec(optional(parse_str), None, secret=True, doc="API key"),
    "api_key_header": OptionSpec(
        parse_str, DEFAULT_API_KEY_HEADER, doc="header that carries api_key"
    ),
    "timeout_ms": OptionSpec(_ms(0), 60000, doc="connect + response headers; 0 = no limit"),
    "keepalive_timeout_ms": OptionSpec(_ms(0), 0, doc="longest silence; 0 = off"),
    "ignore_comments": OptionSpec(parse_bool, True, doc="drop comment lines"),
    "comment_prefix": OptionSpec(parse_str, ":", doc="extra prefix that marks a comment"),
    "reconnect_interval_ms": OptionSpec(_ms(0), 3000, doc="reconnection time before backoff"),
    "reconnect_backoff_ms": OptionSpec(
        optional(_ms(0)), None, doc="base of the backoff; default reconnect_interval_ms"
    ),
    "reconnect_multiplier": OptionSpec(
        lambda o, v: parse_float(o, v, minimum=1.0, maximum=100.0),
        2.0,
        doc="growth factor per failed attempt",
    ),
    "max_reconnect_interval_ms": OptionSpec(_ms(0), 60000, doc="cap of the backoff"),
    "max_reconnect_attempts": OptionSpec(
        optional(lambda o, v: parse_int(o, v, minimum=0, maximum=2**31)),
        None,
        doc="consecutive failed attempts before giving up; default unlimited",
    ),
    "last_event_id": OptionSpec(parse_str, "", doc="Last-Event-ID of the first connection"),
    "persist_event_id": OptionSpec(parse_bool, False, doc="checkpoint the last event id"),
    "decompress_response": OptionSpec(parse_bool, True, doc="ask for and decode gzip/deflate"),
    "method": OptionSpec(parse_method, "GET", doc="HTTP method (any token: GET, POST, REPORT…)"),
    "body": OptionSpec(
        optional(parse_text), None, secret=True, doc="request body, re-sent on reconnection"
    ),
    "proxy": OptionSpec(optional(parse_url), None, doc="HTTP proxy URL"),
    "ca_cert": OptionSpec(optional(parse_str), None, doc="PEM file of CAs to trust"),
    "verify_tls": OptionSpec(parse_bool, True, doc="verify the server's certificate"),
    "max_event_size": OptionSpec(
        parse_size, DEFAULT_MAX_EVENT_SIZE, doc="largest line or event, in bytes"
    ),
    "secret_headers": OptionSpec(
        parse_names,
        (),
        doc="more header names whose values are secret (hidden, dropped on cross-origin "
        "redirects)",
    ),
    "end_of_stream_data": OptionSpec(
        optional(parse_text),
        None,
        doc="a data value (e.g. '[DONE]') that ends the stream cleanly, without a row",
    ),
    "max_decompression_ratio": OptionSpec(
        lambda o, v: parse_int(o, v, minimum=0, maximum=1 << 20),
        DEFAULT_MAX_RATIO,
        doc="decompressed / compressed bytes of a connection beyond "
        "which it is a compression bomb (checked past 16 MiB); 0 = no limit",
    ),
}


# -- the resolved request -------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ResolvedRequest:
    """What one connection attempt sends, with every ``${VAR}`` and file resolved.

    Holds secrets in clear: never log it. ``scrub(text)`` hides them in any text.
    """

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    proxy: str | None
    ssl: ssl.SSLContext | bool
    last_event_id: str = ""
    secrets: tuple[str, ...] = field(default=())
    # Headers that carry credentials: dropped on a redirect to another origin.
    credential_headers: frozenset[str] = field(default=frozenset())

    def scrub(self, text: str) -> str:
        """``text`` with every secret (raw, URL-encoded, base64) and secret-looking
        query parameter replaced by '***'."""
        return self._scrubber(text)

    @property
    def _scrubber(self) -> Scrubber:
        cached = self.__dict__.get("_scrub")
        if cached is None:
            cached = Scrubber(self.secrets)
            object.__setattr__(self, "_scrub", cached)
        return cached

    @property
    def has_credentials(self) -> bool:
        return bool(self.credential_headers)

    def __repr__(self) -> str:
        return f"ResolvedRequest(method={self.method!r}, url=<redacted>)"


# -- the options object ---------------------------------------------------------


class ConnectionOptions:
    """Validated connection options of an SSE source. Immutable; ``${VAR}`` kept unresolved."""

    OPTION_NAMES: frozenset[str] = frozenset(SPECS)
    SECRET_OPTIONS: frozenset[str] = frozenset(n for n, s in SPECS.items() if s.secret)

    endpoint: str
    headers: dict[str, str]
    auth_type: str
    token: str | None
    token_file: str | None
    api_key: str | None
    api_key_header: str
    timeout_ms: int
    keepalive_timeout_ms: int
    ignore_comments: bool
    comment_prefix: str
    reconnect_interval_ms: int
    reconnect_backoff_ms: int | None
    reconnect_multiplier: float
    max_reconnect_interval_ms: int
    max_reconnect_attempts: int | None
    last_event_id: str
    persist_event_id: bool
    decompress_response: bool
    method: str
    body: str | None
    proxy: str | None
    ca_cert: str | None
    verify_tls: bool
    max_event_size: int
    _given: dict[str, Any]  # the options as written (normalised names)
    _env: Mapping[str, str] | None  # where ${VAR}s resolve; None: os.environ
    secret_headers: tuple[str, ...]
    end_of_stream_data: str | None
    max_decompression_ratio: int

    def __init__(
        self,
        options: Mapping[str, Any] | None = None,
        /,
        *,
        env: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        given = _normalise({**(options or {}), **kwargs})
        object.__setattr__(self, "_given", given)
        object.__setattr__(self, "_env", env)
        for name, spec in SPECS.items():
            value = given.get(name)
            parsed = spec.default if value is None else spec.parse(name, value)
            if isinstance(parsed, dict):
                parsed = dict(parsed)
            object.__setattr__(self, name, parsed)
        if "auth_type" not in given:
            object.__setattr__(self, "auth_type", self._inferred_auth_type())
        self._check_combinations()

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], env: Mapping[str, str] | None = None
    ) -> ConnectionOptions:
        """Validate ``options`` (a WITH clause, a dict); ``env`` resolves ``${VAR}`` later.

        ``env=None`` means ``os.environ`` as it is at each connection.
        """
        return cls(options, env=env)

    def with_overrides(self, overrides: Mapping[str, Any]) -> ConnectionOptions:
        """A new options object: these options replace this one's (inline table options)."""
        return ConnectionOptions({**self._given, **_normalise(overrides)}, env=self._env)

    # -- validation across options ----------------------------------------------

    def _inferred_auth_type(self) -> str:
        has_token = self.token is not None or self.token_file is not None
        if has_token and self.api_key is not None:
            raise ConfigError(
                "options token and api_key are both set: choose one with "
                "auth_type = 'bearer' or auth_type = 'api_key'",
                option="auth_type",
            )
        if has_token:
            return "bearer"
        return "api_key" if self.api_key is not None else "none"

    def _check_combinations(self) -> None:
        if self.endpoint is None:
            raise ConfigError(
                "option endpoint is required: the URL of the SSE stream, "
                "e.g. endpoint = 'https://stream.example.com/events'",
                option="endpoint",
            )
        if self.token is not None and self.token_file is not None:
            raise ConfigError(
                "options token and token_file are both set: keep one of them", option="token"
            )
        has_userinfo = URL_USERINFO.match(self.endpoint) is not None
        sends_authorization = self.auth_type == "bearer" or any(
            name.lower() == "authorization" for name in self.headers
        )
        if has_userinfo and sends_authorization:
            raise ConfigError(
                "option endpoint carries credentials (user:password@) and an Authorization "
                "header is sent too (a bearer token or headers): keep one of them",
                option="endpoint",
            )
        if self.auth_type == "bearer" and self.token is None and self.token_file is None:
            raise ConfigError(
                "auth_type is 'bearer' but no token is set: set token (e.g. '${SSE_TOKEN}') "
                "or token_file",
                option="token",
            )
        if self.auth_type == "api_key" and self.api_key is None:
            raise ConfigError(
                "auth_type is 'api_key' but api_key is not set: set api_key (e.g. "
                "'${SSE_API_KEY}'); it is sent in the header named by api_key_header "
                f"(default {DEFAULT_API_KEY_HEADER})",
                option="api_key",
            )
        if self.auth_type == "none":
            for name in ("token", "token_file", "api_key"):
                if getattr(self, name) is not None:
                    raise ConfigError(
                        f"option {name} is set but auth_type is 'none': remove {name} or set "
                        f"auth_type = '{'api_key' if name == 'api_key' else 'bearer'}'",
                        option=name,
                    )
        if not _HEADER_NAME.match(self.api_key_header):
            raise ConfigError(
                f"option api_key_header: {self.api_key_header!r} is not a valid header name",
                option="api_key_header",
            )
        if not self.comment_prefix:
            raise ConfigError(
                "option comment_prefix must not be empty (the default is ':')",
                option="comment_prefix",
            )
        if self.body is not None and self.method in ("GET", "HEAD"):
            raise ConfigError(
                f"option body is set but method is {self.method}: set method = 'POST' "
                "(or PUT, PATCH, REPORT…)",
                option="body",
            )
        if self.ca_cert is not None and not self.verify_tls:
            raise ConfigError(
                "options ca_cert and verify_tls = false contradict each other: "
                "keep ca_cert to trust its CAs, or drop it to skip verification",
                option="ca_cert",
            )

    # -- resolution (at each connection) ------------------------------------------

    def resolve(self, last_event_id: str | None = None) -> ResolvedRequest:
        """Resolve ``${VAR}``, ``token_file`` and ``ca_cert`` now, for one connection attempt.

        ``last_event_id`` is the id to resume from; ``None`` means the (resolved)
        ``last_event_id`` option. Raises ConfigError naming the option at fault.
        """
        sub = Resolver(os.environ if self._env is None else self._env)
        url = sub("endpoint", self.endpoint)
        _check_http_url("endpoint", url)
        secrets: set[str] = set()
        headers: dict[str, str] = {
            "Accept": "text/event-stream",
            "Cache-Control": "no-cache",
            "Accept-Encoding": "gzip, deflate" if self.decompress_response else "identity",
        }
        credentials = userinfo(url)
        if credentials is not None:  # sent as a header we own, so a redirect can drop it
            url = URL_USERINFO.sub(lambda m: m.group(1), url)
            user, password = credentials
            headers["Authorization"] = basic_credentials(user, password)
            secrets.update((password, f"{user}:{password}", headers["Authorization"]))
        body: bytes | None = None
        if self.body is not None:
            text = sub("body", self.body)
            body = text.encode("utf-8")
            headers["Content-Type"] = _guess_content_type(text)
        present = {name.lower(): name for name in headers}
        for name, value in self.headers.items():
            headers.pop(present.get(name.lower(), name), None)
            headers[name] = sub("headers", value)
        if self.auth_type == "bearer":
            token = self._read_token_file() if self.token_file else sub("token", self.token or "")
            _set_header(headers, "Authorization", f"Bearer {token}")
            secrets.add(token)
        elif self.auth_type == "api_key":
            api_key = sub("api_key", self.api_key or "")
            _set_header(headers, self.api_key_header, api_key)
            secrets.add(api_key)
        if last_event_id is None:  # not a secret: the server echoes it as the events' id
            last_event_id = sub("last_event_id", self.last_event_id, secret=False)
        if last_event_id:
            _set_header(headers, "Last-Event-ID", last_event_id)
        credential_headers = set()
        for name, value in headers.items():
            if "\r" in value or "\n" in value:
                raise ConfigError(
                    f"header {name}: its value contains a line break after ${{VAR}} "
                    "resolution; fix the variable",
                    option="headers",
                )
            if is_secret_header(name, self.api_key_header, self.secret_headers):
                credential_headers.add(name)
                if value:
                    secrets.add(value)
                    secrets.add(value.partition(" ")[2])  # the token of "Bearer <token>"
        proxy = sub("proxy", self.proxy) if self.proxy is not None else None
        if proxy is not None:
            _check_http_url("proxy", proxy)
            proxy_credentials = userinfo(proxy)
            if proxy_credentials is not None:
                secrets.add(proxy_credentials[1])
                secrets.add(":".join(proxy_credentials))
        secrets |= sub.secrets
        return ResolvedRequest(
            method=self.method,
            url=url,
            headers=headers,
            body=body,
            proxy=proxy,
            ssl=self._ssl_context(sub),
            last_event_id=last_event_id,
            secrets=tuple(sorted((s for s in secrets if s), key=len, reverse=True)),
            credential_headers=frozenset(credential_headers),
        )

    def _read_token_file(self) -> str:
        path = os.path.expanduser(self.token_file or "")
        try:
            with open(path, encoding="utf-8") as handle:
                token = handle.read().strip()
        except OSError as exc:
            raise ConfigError(
                f"option token_file: cannot read {path!r} ({exc.strerror or exc}); "
                "check the path and its permissions",
                option="token_file",
            ) from None
        if not token:
            raise ConfigError(
                f"option token_file: {path!r} is empty; write the bearer token into it",
                option="token_file",
            )
        return token

    def _ssl_context(self, sub: Resolver) -> ssl.SSLContext | bool:
        if not self.verify_tls:
            return False
        if self.ca_cert is None:
            return True
        path = os.path.expanduser(sub("ca_cert", self.ca_cert))
        try:
            return ssl.create_default_context(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"option ca_cert: cannot load CA certificates from {path!r} ({exc}); "
                "give a PEM file",
                option="ca_cert",
            ) from None

    # -- presentation -------------------------------------------------------------

    @property
    def display_endpoint(self) -> str:
        """The endpoint as configured (``${VAR}`` unresolved), credentials hidden."""
        return redact_url(self.endpoint)

    def redacted(self) -> dict[str, str]:
        """Every option that has a value, as text, secrets replaced by '***'.

        For SHOW / DESCRIBE and system tables.
        """
        shown: dict[str, str] = {}
        for name in SPECS:
            value = getattr(self, name)
            if value is None:
                continue
            if name in self.SECRET_OPTIONS:
                shown[name] = REDACTED
            elif name in ("endpoint", "proxy"):
                shown[name] = redact_url(value)
            elif name == "headers":
                shown[name] = json.dumps(
                    redact_headers(value, self.api_key_header, self.secret_headers)
                )
            elif name == "secret_headers":
                shown[name] = ", ".join(value)
            elif isinstance(value, bool):
                shown[name] = "true" if value else "false"
            elif isinstance(value, float):
                shown[name] = f"{value:g}"
            else:
                shown[name] = str(value)
        return shown

    def items(self) -> Iterator[tuple[str, Any]]:
        """(name, value) of every option, parsed, ``${VAR}`` unresolved. Holds secrets."""
        for name in SPECS:
            yield name, getattr(self, name)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ConnectionOptions is immutable; use with_overrides()")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConnectionOptions):
            return NotImplemented
        return list(self.items()) == list(other.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ConnectionOptions({self.redacted()!r})"


def _normalise(options: Mapping[str, Any]) -> dict[str, Any]:
    """Lower-case the names and reject unknown or duplicate ones (did you mean …?)."""
    normalised: dict[str, Any] = {}
    for name, value in options.items():
        if not isinstance(name, str):
            raise ConfigError(f"option names must be strings, got {name!r}")
        key = name.strip().lower()
        if key not in SPECS:
            hint = did_you_mean(key, SPECS) or f"; known options: {', '.join(sorted(SPECS))}"
            raise ConfigError(f"unknown connection option {name!r}{hint}", option=name)
        if key in normalised and key != name:
            raise ConfigError(f"option {key} is given twice", option=key)
        normalised[key] = value
    return normalised


def _set_header(headers: dict[str, str], name: str, value: str) -> None:
    for existing in [h for h in headers if h.lower() == name.lower()]:
        del headers[existing]
    headers[name] = value


def _guess_content_type(body: str) -> str:
    stripped = body.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            json.loads(body)
        except ValueError:
            return "text/plain; charset=utf-8"
        return "application/json"
    return "text/plain; charset=utf-8"


__all__ = [
    "DEFAULT_API_KEY_HEADER",
    "MAX_REDIRECTS",
    "REDACTED",
    "SPECS",
    "ConnectionOptions",
    "OptionSpec",
    "ResolvedRequest",
    "is_secret_header",
    "parse_method",
    "redact_headers",
    "redact_url",
]
