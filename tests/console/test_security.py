"""Every access rule of the console, against a real server on 127.0.0.1."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession, CookieJar

from laminar.console.app import Console, start_console
from laminar.console.auth import cookie_name
from laminar.errors import ConfigError
from laminar.observability.access import tokens_equal
from laminar.sql.engine import Engine
from tests.console.conftest import TOKEN

ROUTES = ["/", "/api/v1/pipelines", "/api/v1/openapi.json", "/api/v1/catalog"]


async def test_no_token_no_entry(console: Console) -> None:
    async with ClientSession() as session:
        for path in ROUTES:
            async with session.get(console.url + path) as resp:
                assert resp.status == 401, path
                body = await resp.json()
                assert set(body) == {"error", "line", "column"}
                assert TOKEN not in await resp.text()
            async with session.get(
                console.url + path, headers={"Authorization": "Bearer wrong"}
            ) as resp:
                assert resp.status == 401, path


async def test_first_load_sets_the_cookie_and_drops_the_token(console: Console) -> None:
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as session:  # an IP host
        async with session.get(console.url + "/?token=wrong", allow_redirects=False) as resp:
            assert resp.status == 401
        async with session.get(console.login_url, allow_redirects=False) as resp:
            assert resp.status == 302
            assert resp.headers["Location"] == "/"
            cookie = resp.headers["Set-Cookie"]
        port = int(console.url.rsplit(":", 1)[1])
        assert cookie.startswith(f"{cookie_name(port)}={TOKEN}")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        async with session.get(console.url + "/") as resp:  # the cookie authenticates
            assert resp.status == 200
            assert "text/html" in resp.headers["Content-Type"]
        async with session.get(console.url + "/api/v1/pipelines") as resp:
            assert resp.status == 200


async def test_cookie_writes_need_same_origin_and_json(console: Console) -> None:
    port = int(console.url.rsplit(":", 1)[1])
    cookies = {cookie_name(port): TOKEN}
    body = '{"sql": "SHOW TABLES"}'
    async with ClientSession(cookies=cookies) as session:
        url = console.url + "/api/v1/sql"
        json_type = {"Content-Type": "application/json"}
        async with session.post(url, data=body, headers=json_type) as resp:
            assert resp.status == 403  # no Origin
        async with session.post(
            url, data=body, headers={**json_type, "Origin": "http://evil.example"}
        ) as resp:
            assert resp.status == 403
        async with session.post(
            url, data=body, headers={"Content-Type": "text/plain", "Origin": console.url}
        ) as resp:
            assert resp.status == 415  # a form post cannot set application/json
        async with session.post(url, data=body, headers={**json_type, "Origin": console.url}) as r:
            assert r.status == 200, await r.text()
    # a bearer token (curl) needs neither
    async with ClientSession() as session, session.post(
        console.url + "/api/v1/sql", data="SHOW TABLES",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain"},
    ) as resp:
        assert resp.status == 200


async def test_host_header_must_be_loopback(console: Console) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with ClientSession() as session:
        for host in ("evil.example", "evil.example:80", "10.0.0.1"):
            async with session.get(
                console.url + "/api/v1/pipelines", headers={**auth, "Host": host}
            ) as resp:
                assert resp.status == 421, host
        for host in ("localhost", "127.0.0.1:1234", "[::1]:80"):
            async with session.get(
                console.url + "/api/v1/pipelines", headers={**auth, "Host": host}
            ) as resp:
                assert resp.status == 200, host


async def test_csp_and_no_cors(console: Console) -> None:
    async with ClientSession() as session:
        for path in ("/", "/api/v1/pipelines", "/static/index.html"):
            async with session.get(
                console.url + path,
                headers={"Authorization": f"Bearer {TOKEN}", "Origin": "http://evil.example"},
            ) as resp:
                assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")
                assert "Access-Control-Allow-Origin" not in resp.headers
        async with session.options(
            console.url + "/api/v1/pipelines",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        ) as resp:
            assert resp.status >= 400
            assert "Access-Control-Allow-Origin" not in resp.headers


async def test_non_loopback_bind_needs_a_token() -> None:
    with pytest.raises(ConfigError, match="needs a token"):
        await start_console(Engine(), host="0.0.0.0", token="")
    # without a token, loopback is fine and open
    server = await start_console(Engine(), token="")
    try:
        async with ClientSession() as session, session.get(server.url + "/api/v1/health") as r:
            assert r.status == 200
    finally:
        await server.close()


def test_tokens_compare_whole_values() -> None:
    assert tokens_equal("abc", "abc")
    assert not tokens_equal("abc", "abcd") and not tokens_equal(None, "abc")
    assert not tokens_equal("", "abc")


async def test_monitoring_routes_are_served_behind_the_console_token(console: Console) -> None:
    async with ClientSession() as session:
        for path in ("/metrics", "/healthz", "/status"):
            async with session.get(console.url + path) as resp:
                assert resp.status == 401, path
            async with session.get(
                console.url + path, headers={"Authorization": f"Bearer {TOKEN}"}
            ) as resp:
                assert resp.status == 200, path
        async with session.post(
            console.url + "/sql", data="SELECT * FROM range(100000)",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as resp:
            assert resp.status == 400 and "rows" in (await resp.json())["error"]


async def test_console_token_is_validated() -> None:
    with pytest.raises(ConfigError, match="--console-token"):
        await start_console(Engine(), token="two words")
