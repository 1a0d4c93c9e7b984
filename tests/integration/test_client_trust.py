"""Credentials against a hostile or careless server: redirects to other origins, secrets
echoed back in error bodies, and ${VAR} values (issue 9, items 2-4)."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import pytest
from aiohttp import web
from tests.support.sse_server import (
    TLS_CA,
    RecordingObserver,
    Redirect,
    Script,
    SSEServer,
    Stream,
    event,
    tls_server_context,
)

from laminar.connectors.sse import ConnectionOptions, EventSource
from laminar.errors import ConfigError, HTTPStatusError, ReconnectExhaustedError, SourceError
from laminar.secrets import Resolver, scrub
from laminar.sse import SSEEvent

FAST = {"reconnect_interval_ms": 10}
MakeServer = Callable[..., Awaitable[SSEServer]]


async def collect(source: EventSource) -> list[SSEEvent]:
    return [ev async for ev in source]


class Echo(Script):
    """A 500 whose body echoes the whole request, as some frameworks' debug pages do."""

    async def serve(self, server: SSEServer, request: web.Request) -> web.StreamResponse:
        body = json.dumps({"url": str(request.url), "headers": dict(request.headers)})
        return web.Response(status=500, text=body + " raw=" + str(request.url))


# -- item 2: redirects -----------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        {"token": "tok-secret-1"},
        {"api_key": "key-secret-1"},
        {"api_key": "key-secret-1", "api_key_header": "X-Tenant-Key"},
        {"headers": {"X-Signed": "sig-secret-1"}, "secret_headers": "X-Signed"},
    ],
)
async def test_cross_origin_redirect_drops_every_credential(
    make_sse_server: MakeServer, credentials: dict[str, object]
) -> None:
    other = await make_sse_server(Stream(event("elsewhere")))
    origin = await make_sse_server(Redirect(other.url))
    async with EventSource(origin.url, max_reconnect_attempts=0, **credentials) as source:
        await collect(source)
    first, moved = origin.requests[0], other.requests[0]
    sent = {k.lower() for k in first.headers} - {k.lower() for k in moved.headers}
    assert sent & {"authorization", "x-api-key", "x-tenant-key", "x-signed"}
    assert not any("secret-1" in value for value in moved.headers.values())


async def test_basic_auth_of_the_url_is_dropped_across_origins(make_sse_server: MakeServer) -> None:
    other = await make_sse_server(Stream(event("elsewhere")))
    origin = await make_sse_server(Redirect(other.url))
    url = origin.url.replace("http://", "http://user:pa55word@")
    async with EventSource(url, max_reconnect_attempts=0) as source:
        await collect(source)
    assert origin.requests[0].authorization == "Basic " + base64.b64encode(
        b"user:pa55word"
    ).decode("ascii")
    assert other.requests[0].authorization is None


async def test_same_origin_redirect_keeps_credentials(sse_server: SSEServer) -> None:
    sse_server.add(Redirect("/moved", status=307), Stream(event("here")))
    async with EventSource(
        sse_server.url, api_key="key-secret-1", max_reconnect_attempts=0
    ) as source:
        await collect(source)
    assert [r.header("X-API-Key") for r in sse_server.requests[:2]] == ["key-secret-1"] * 2


async def test_https_to_http_downgrade_is_refused_with_credentials(
    make_sse_server: MakeServer,
) -> None:
    plain = await make_sse_server(Stream(event("plain")))
    secure = await make_sse_server(Redirect(plain.url), ssl=tls_server_context())
    async with EventSource(secure.url, token="tok-secret-1", ca_cert=str(TLS_CA)) as source:
        with pytest.raises(SourceError, match="https to plain http") as info:
            await collect(source)
    assert plain.requests == []
    assert "tok-secret-1" not in str(info.value)


async def test_https_to_http_without_credentials_is_followed(make_sse_server: MakeServer) -> None:
    plain = await make_sse_server(Stream(event("plain")))
    secure = await make_sse_server(Redirect(plain.url), ssl=tls_server_context())
    async with EventSource(secure.url, ca_cert=str(TLS_CA), max_reconnect_attempts=0) as source:
        await collect(source)
    assert len(plain.requests) == 1


async def test_303_turns_a_post_into_a_get_without_body(make_sse_server: MakeServer) -> None:
    server = await make_sse_server(Redirect("/result", status=303), Stream(event("x")))
    async with EventSource(
        server.url, method="POST", body='{"q": 1}', max_reconnect_attempts=0
    ) as source:
        await collect(source)
    assert [(r.method, r.body) for r in server.requests[:2]] == [
        ("POST", b'{"q": 1}'),
        ("GET", b""),
    ]


# -- item 3: secrets echoed back ---------------------------------------------------------


async def test_an_echoed_request_never_shows_its_credentials(sse_server: SSEServer) -> None:
    sse_server.default = Echo()
    observer = RecordingObserver()
    url = sse_server.url.replace("http://", "http://alice:s3cr3t-pw@") + (
        "?api_key=qk-secret-9&sig=sg-secret-9&page=2"
    )
    async with EventSource(
        url,
        observer,
        headers={"X-API-Key": "hk/secret+8"},
        max_reconnect_attempts=1,
        reconnect_interval_ms=1,
    ) as source:
        with pytest.raises(ReconnectExhaustedError) as info:
            await collect(source)
        last_error = source.stats.last_error or ""
    basic = base64.b64encode(b"alice:s3cr3t-pw").decode("ascii")
    shown = "\n".join([str(info.value), last_error, observer.text()])
    assert "page=2" in shown  # the echo is there …
    for secret in ("s3cr3t-pw", basic, "qk-secret-9", "sg-secret-9", "hk/secret+8",
                   quote("hk/secret+8", safe="")):  # fmt: skip
        assert secret not in shown  # … without any credential, in any form


def test_scrub_covers_every_form() -> None:
    secrets = ["p@ss word", "alice:p@ss word"]
    text = (
        "raw p@ss word, url p%40ss%20word, plus p%40ss+word, "
        f"basic {base64.b64encode(b'alice:p@ss word').decode()}, "
        "q ?access_token=abc123&x=1 body password=hunter2 json \"token=zz\""
    )
    cleaned = scrub(text, secrets)
    for leaked in ("p@ss word", "p%40ss%20word", "p%40ss+word", "abc123", "hunter2", "zz"):
        assert leaked not in cleaned
    assert "x=1" in cleaned


# -- item 4: which ${VAR}s are secrets, and the $${ escape --------------------------------


def test_dollar_dollar_brace_is_a_literal() -> None:
    resolve = Resolver({"NAME": "v"})
    assert resolve("body", '{"t": "$${NAME}", "u": "${NAME}"}') == '{"t": "${NAME}", "u": "v"}'
    options = ConnectionOptions(
        endpoint="http://h/e", method="POST", body='{"template": "$${user}"}'
    )
    assert options.resolve().body == b'{"template": "${user}"}'
    assert ConnectionOptions(
        endpoint="http://h/e", headers={"X-T": "$${x}"}
    ).resolve().headers["X-T"] == "${x}"


def test_secret_options_stay_hidden_and_last_event_id_is_documented_as_shown() -> None:
    env = {"BODY_KEY": "bk-secret-7", "START": "start-42"}
    options = ConnectionOptions(
        endpoint="http://h/e",
        method="POST",
        body='{"key": "${BODY_KEY}"}',
        last_event_id="${START}",
        headers={"X-Signed": "plain-looking"},
        secret_headers="X-Signed",
        env=env,
    )
    shown = json.dumps(options.redacted())
    assert "bk-secret-7" not in shown and "plain-looking" not in shown
    request = options.resolve()
    assert request.last_event_id == "start-42"
    assert "bk-secret-7" not in request.scrub("echo bk-secret-7")
    assert "start-42" in request.scrub("id start-42")  # not a secret: it becomes event ids


def test_malformed_reference_mentions_the_escape() -> None:
    with pytest.raises(ConfigError, match=r"\$\$\{"):
        ConnectionOptions(endpoint="http://h/e", method="POST", body="${oops")


async def test_redirect_loop_error_is_still_bounded(sse_server: SSEServer) -> None:
    sse_server.default = Redirect("/again")
    async with EventSource(sse_server.url, **FAST) as source:
        with pytest.raises(HTTPStatusError, match="redirects"):
            await collect(source)


async def test_echoed_secrets_stay_out_of_system_tables_and_errors(sse_server: SSEServer) -> None:
    from laminar.errors import LaminarError
    from laminar.sql.engine import Engine

    sse_server.default = Echo()
    env = {"KEY": "env-key-31", "PW": "pw-secret-31"}
    url = sse_server.url.replace("http://", "http://bob:${PW}@") + "?access_token=qt-31&x=1"
    engine = Engine(env=env)
    engine.execute(
        f"""CREATE TABLE s (data TEXT) WITH (
            endpoint = '{url}', format = 'text', reconnect_interval_ms = 1,
            max_reconnect_attempts = 1, headers = '{{"X-Sig": "${{KEY}}"}}',
            secret_headers = 'X-Sig', method = 'POST', body = '{{"k": "${{KEY}}"}}');"""
    )
    [query] = engine.execute("SELECT data FROM s")
    with pytest.raises(LaminarError) as info:
        async for _ in query.json_batches():  # type: ignore[union-attr]
            pass
    shown = [str(info.value)]
    for sql in (
        "SELECT * FROM system.connector_logs",
        "SELECT * FROM system.connector_status",
        "SHOW TABLES",
        "DESCRIBE s",
    ):
        [rows] = engine.execute(sql)
        shown.append(repr(rows))
    text = "\n".join(shown)
    assert "HTTP 500" in text  # the failure is there …
    basic = base64.b64encode(b"bob:pw-secret-31").decode("ascii")
    for secret in ("env-key-31", "pw-secret-31", "qt-31", basic):
        assert secret not in text, secret  # … and no credential in any form
