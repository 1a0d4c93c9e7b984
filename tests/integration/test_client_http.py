"""EventSource's HTTP behaviour against a real local server: statuses, content types,
redirects, auth headers, request headers, proxy, TLS, and secrets kept out of errors."""

from __future__ import annotations

import pytest
from tests.support.sse_server import (
    TLS_CA,
    RecordingObserver,
    Redirect,
    Reply,
    SSEServer,
    Stream,
    event,
    tls_server_context,
)

from laminar.connectors.sse import EventSource
from laminar.errors import (
    AuthError,
    ConfigError,
    ContentTypeError,
    HTTPStatusError,
    ReconnectExhaustedError,
    SourceError,
)
from laminar.sse import SSEEvent

FAST = {"reconnect_interval_ms": 10}


async def collect(source: EventSource) -> list[SSEEvent]:
    return [ev async for ev in source]


async def test_204_at_once_means_stop(sse_server: SSEServer) -> None:
    observer = RecordingObserver()
    async with EventSource(sse_server.url, observer, **FAST) as source:
        assert await collect(source) == []
    assert len(sse_server.requests) == 1
    assert source.state == "closed"
    assert observer.args("on_disconnect") == [("stopped", None)]


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failures_are_fatal_and_name_the_auth_options(
    sse_server: SSEServer, status: int
) -> None:
    sse_server.add(
        Reply(
            status,
            "invalid token: Bearer s3cret-token-value " + "x" * 5000,
            headers={"WWW-Authenticate": "Bearer", "Set-Cookie": "sid=abc123"},
        )
    )
    observer = RecordingObserver()
    async with EventSource(
        sse_server.url, observer, env={"T": "s3cret-token-value"}, token="${T}", **FAST
    ) as source:
        with pytest.raises(AuthError) as info:
            await collect(source)
    error = info.value
    assert error.status == status
    assert "auth_type" in str(error) and "token" in str(error)
    assert error.headers["Set-Cookie"] == "***"
    assert error.headers["WWW-Authenticate"] == "Bearer"
    assert len(error.body) <= 2048 and error.body.startswith("invalid token")
    assert len(sse_server.requests) == 1  # no retry
    assert source.state == "failed"
    everything = str(error) + error.body + repr(error.headers) + observer.text()
    everything += str(source.stats.last_error)
    assert "s3cret-token-value" not in everything
    assert "abc123" not in everything


async def test_auth_error_without_credentials_says_how_to_add_them(sse_server: SSEServer) -> None:
    sse_server.add(Reply(401))
    async with EventSource(sse_server.url, **FAST) as source:
        with pytest.raises(AuthError, match="auth_type = 'bearer' with token"):
            await collect(source)


@pytest.mark.parametrize("status", [400, 404, 405, 410])
async def test_other_client_errors_are_fatal(sse_server: SSEServer, status: int) -> None:
    sse_server.add(Reply(status, "no such stream"))
    async with EventSource(sse_server.url, **FAST) as source:
        with pytest.raises(HTTPStatusError) as info:
            await collect(source)
    assert type(info.value) is HTTPStatusError
    assert info.value.status == status
    assert info.value.body == "no such stream"
    assert f"HTTP {status}" in str(info.value) and "no such stream" in str(info.value)
    assert not info.value.retryable
    assert len(sse_server.requests) == 1


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_server_errors_and_429_are_retried(sse_server: SSEServer, status: int) -> None:
    sse_server.add(Reply(status), Stream(event("after")))
    async with EventSource(sse_server.url, **FAST) as source:
        assert [ev.data for ev in await collect(source)] == ["after"]


async def test_other_content_type_is_refused_saying_what_arrived(sse_server: SSEServer) -> None:
    sse_server.add(Reply(200, "<html>login page</html>", content_type="text/html"))
    async with EventSource(sse_server.url, **FAST) as source:
        with pytest.raises(ContentTypeError) as info:
            await collect(source)
    assert "text/html" in str(info.value) and "login page" in str(info.value)
    assert len(sse_server.requests) == 1


async def test_content_type_parameters_are_accepted(sse_server: SSEServer) -> None:
    sse_server.add(Stream(event("a"), content_type="Text/Event-Stream; charset=utf-8"))
    async with EventSource(sse_server.url, **FAST) as source:
        assert [ev.data for ev in await collect(source)] == ["a"]


async def test_redirects_are_followed(sse_server: SSEServer) -> None:
    sse_server.add(Redirect("/moved"), Redirect("/final", status=307), Stream(event("here")))
    async with EventSource(sse_server.url, token="tok", **FAST) as source:
        assert [ev.data for ev in await collect(source)] == ["here"]
    assert [r.path for r in sse_server.requests[:3]] == ["/events", "/moved", "/final"]


async def test_post_survives_a_307_redirect(sse_server: SSEServer) -> None:
    sse_server.add(Redirect("/v2", status=307), Stream(event("ok")))
    async with EventSource(sse_server.url, method="POST", body="{}", **FAST) as source:
        await collect(source)
    assert [(r.method, r.body) for r in sse_server.requests[:2]] == [("POST", b"{}")] * 2


async def test_redirect_loops_are_bounded(sse_server: SSEServer) -> None:
    sse_server.default = Redirect("/again")
    async with EventSource(sse_server.url, **FAST) as source:
        with pytest.raises(HTTPStatusError, match="redirects"):
            await collect(source)
    assert len(sse_server.requests) == 11


async def test_request_headers(sse_server: SSEServer) -> None:
    sse_server.add(Stream(event("a")))
    async with EventSource(
        sse_server.url, headers='{"X-Client-Id": "laminar-consumer"}', **FAST
    ) as source:
        await collect(source)
    request = sse_server.requests[0]
    assert request.method == "GET"
    assert request.header("Accept") == "text/event-stream"
    assert request.header("Cache-Control") == "no-cache"
    assert request.header("X-Client-Id") == "laminar-consumer"
    assert request.header(
        "User-Agent",
    ).startswith("laminar")
    assert request.authorization is None
    assert request.last_event_id is None


async def test_bearer_token(sse_server: SSEServer) -> None:
    sse_server.add(Stream(event("a")))
    async with EventSource(sse_server.url, auth_type="bearer", token="abc", **FAST) as source:
        await collect(source)
    assert sse_server.requests[0].authorization == "Bearer abc"


@pytest.mark.parametrize(("header", "options"), [
    ("X-API-Key", {}),
    ("Api-Key", {"api_key_header": "Api-Key"}),
])  # fmt: skip
async def test_api_key(sse_server: SSEServer, header: str, options: dict[str, str]) -> None:
    sse_server.add(Stream(event("a")))
    async with EventSource(
        sse_server.url, auth_type="api_key", api_key="k-1", **options, **FAST
    ) as source:
        await collect(source)
    assert sse_server.requests[0].header(header) == "k-1"
    assert sse_server.requests[0].authorization is None


async def test_missing_variable_fails_naming_it(sse_server: SSEServer) -> None:
    async with EventSource(sse_server.url, env={}, token="${NOT_SET_TOKEN}") as source:
        with pytest.raises(ConfigError, match="NOT_SET_TOKEN") as info:
            await collect(source)
    assert info.value.option == "token"
    assert source.state == "failed"
    assert sse_server.requests == []


async def test_proxy(make_sse_server) -> None:  # type: ignore[no-untyped-def]
    proxy = await make_sse_server(Stream(event("via proxy")))
    async with EventSource("http://stream.invalid/events", proxy=proxy.base_url, **FAST) as source:
        assert [ev.data for ev in await collect(source)] == ["via proxy"]
    assert proxy.requests[0].url == "http://stream.invalid/events"  # absolute-form target


async def test_tls_with_ca_cert(make_sse_server) -> None:  # type: ignore[no-untyped-def]
    server = await make_sse_server(Stream(event("secure")), ssl=tls_server_context())
    assert server.url.startswith("https://")
    async with EventSource(server.url, ca_cert=TLS_CA, **FAST) as source:
        assert [ev.data for ev in await collect(source)] == ["secure"]


async def test_tls_verification_failure_names_the_options(make_sse_server) -> None:  # type: ignore[no-untyped-def]
    server = await make_sse_server(ssl=tls_server_context())
    async with EventSource(server.url, **FAST) as source:
        with pytest.raises(SourceError, match="ca_cert") as info:
            await collect(source)
    assert not isinstance(info.value, ReconnectExhaustedError)


async def test_tls_without_verification(make_sse_server) -> None:  # type: ignore[no-untyped-def]
    server = await make_sse_server(Stream(event("unverified")), ssl=tls_server_context())
    async with EventSource(server.url, verify_tls=False, **FAST) as source:
        assert [ev.data for ev in await collect(source)] == ["unverified"]


async def test_secrets_stay_out_of_logs_and_errors(sse_server: SSEServer) -> None:
    secret_path = "p4th-from-env"
    sse_server.default = Reply(503, f"echo: {secret_path} key-from-env-1")
    observer = RecordingObserver()
    async with EventSource(
        sse_server.url_for("/${SECRET_PATH}"),
        observer,
        env={"SECRET_PATH": secret_path, "KEY": "key-from-env-1"},
        api_key="${KEY}",
        max_reconnect_attempts=1,
        **FAST,
    ) as source:
        with pytest.raises(ReconnectExhaustedError) as info:
            await collect(source)
    assert sse_server.requests[0].path == f"/{secret_path}"
    assert sse_server.requests[0].header("X-API-Key") == "key-from-env-1"
    text = f"{info.value} {info.value.__cause__} {source.stats} {observer.text()} {source!r}"
    text += repr(source.options)
    assert secret_path not in text
    assert "key-from-env-1" not in text
