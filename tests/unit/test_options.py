"""Connection options: defaults, parsing from SQL-ish values, validation, ${VAR}, redaction."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest

from laminar.connectors.sse import ConnectionOptions
from laminar.connectors.sse.options import SPECS, redact_headers, redact_url
from laminar.errors import ConfigError

URL = "https://stream.example.com/events"


def opts(**options: object) -> ConnectionOptions:
    return ConnectionOptions.from_options({"endpoint": URL, **options}, env={})


def config_error(**options: object) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        ConnectionOptions.from_options({"endpoint": URL, **options}, env={})
    return info.value


# -- defaults and names ---------------------------------------------------------------


def test_defaults() -> None:
    o = opts()
    assert o.endpoint == URL
    assert o.headers == {}
    assert o.auth_type == "none"
    assert o.api_key_header == "X-API-Key"
    assert o.timeout_ms == 60000
    assert o.keepalive_timeout_ms == 0
    assert o.ignore_comments is True
    assert o.comment_prefix == ":"
    assert o.reconnect_interval_ms == 3000
    assert o.reconnect_backoff_ms is None
    assert o.reconnect_multiplier == 2.0
    assert o.max_reconnect_interval_ms == 60000
    assert o.max_reconnect_attempts is None
    assert o.last_event_id == ""
    assert o.persist_event_id is False
    assert o.decompress_response is True
    assert o.method == "GET"
    assert o.body is None
    assert o.proxy is None
    assert o.ca_cert is None
    assert o.verify_tls is True
    assert o.max_event_size == 16 << 20  # LaunchDarkly's contract tests send 14 MB events
    assert o.secret_headers == ()
    assert o.end_of_stream_data is None
    assert o.max_decompression_ratio == 200


def test_option_names_cover_the_product_document() -> None:
    documented = {
        "endpoint", "headers", "reconnect_interval_ms", "timeout_ms", "auth_type", "token",
        "api_key", "api_key_header", "last_event_id", "persist_event_id",
        "keepalive_timeout_ms", "ignore_comments", "comment_prefix", "max_reconnect_attempts",
        "reconnect_backoff_ms", "reconnect_multiplier", "max_reconnect_interval_ms",
        "decompress_response",
    }  # fmt: skip
    extras = {
        "token_file", "method", "body", "proxy", "ca_cert", "verify_tls", "max_event_size",
        "secret_headers", "end_of_stream_data", "max_decompression_ratio",
    }  # fmt: skip
    assert documented | extras == ConnectionOptions.OPTION_NAMES
    assert isinstance(ConnectionOptions.OPTION_NAMES, frozenset)
    assert set(SPECS) == ConnectionOptions.OPTION_NAMES


def test_endpoint_is_required() -> None:
    with pytest.raises(ConfigError, match="endpoint is required") as info:
        ConnectionOptions.from_options({})
    assert info.value.option == "endpoint"


def test_keyword_construction_and_case_insensitive_names() -> None:
    assert ConnectionOptions(endpoint=URL, timeout_ms=5) == opts(TIMEOUT_MS="5")


def test_unknown_option_suggests_the_closest_name() -> None:
    error = config_error(reconect_interval_ms=5)
    assert "did you mean 'reconnect_interval_ms'" in str(error)
    assert error.option == "reconect_interval_ms"
    assert "known options" in str(config_error(zzz=1))


# -- values as SQL gives them ------------------------------------------------------------


def test_values_from_strings() -> None:
    o = opts(
        reconnect_interval_ms="5000",
        reconnect_multiplier="1.5",
        max_reconnect_attempts="10",
        ignore_comments="false",
        persist_event_id="TRUE",
        verify_tls="off",
        max_event_size="2MiB",
        method="post",
        body="{}",
        auth_type="BEARER",
        token="t",
    )
    assert o.reconnect_interval_ms == 5000
    assert o.reconnect_multiplier == 1.5
    assert o.max_reconnect_attempts == 10
    assert o.ignore_comments is False
    assert o.persist_event_id is True
    assert o.verify_tls is False
    assert o.max_event_size == 2 << 20
    assert o.method == "POST"
    assert o.auth_type == "bearer"


def test_values_from_python_types() -> None:
    o = opts(reconnect_interval_ms=5000.0, reconnect_multiplier=2, ignore_comments=0)
    assert o.reconnect_interval_ms == 5000
    assert o.reconnect_multiplier == 2.0
    assert o.ignore_comments is False
    assert opts(max_event_size="64 KiB").max_event_size == 65536


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("timeout_ms", "soon", "expected a whole number"),
        ("timeout_ms", True, "expected a whole number"),
        ("timeout_ms", 1.5, "expected a whole number"),
        ("timeout_ms", -1, "between 0 and"),
        ("reconnect_interval_ms", "${X}", "resolved in string options only"),
        ("reconnect_multiplier", "0.5", "between 1 and 100"),
        ("reconnect_multiplier", "nan", "expected a number"),
        ("max_reconnect_attempts", -3, "between 0 and"),
        ("ignore_comments", "maybe", "expected true or false"),
        ("max_event_size", "lots", "number of bytes"),
        ("max_event_size", 8, "between 16 and"),
        ("method", "GE T", "expected an HTTP method"),
        ("auth_type", "oauth", "expected one of none, bearer, api_key"),
        ("endpoint", "ftp://x/y", "http:// or https://"),
        ("endpoint", "stream.example.com", "http:// or https://"),
        ("endpoint", "", "must not be empty"),
        ("proxy", "socks5://p:1080", "http:// or https://"),
        ("comment_prefix", "", "must not be empty"),
        ("api_key_header", "X Key", "not a valid header name"),
        ("last_event_id", "a\nb", "line breaks"),
        ("token", "${BROKEN", "malformed environment reference"),
    ],
)
def test_bad_values_name_the_option(option: str, value: object, fragment: str) -> None:
    extra = {"token": "t"} if option == "api_key_header" else {}
    with pytest.raises(ConfigError) as info:
        ConnectionOptions.from_options({"endpoint": URL, **extra, option: value}, env={})
    assert fragment in str(info.value)
    assert info.value.option == option
    assert str(info.value).startswith(f"option {option}")


def test_misspelt_choice_suggests() -> None:
    assert "did you mean 'bearer'" in str(config_error(auth_type="baerer", token="t"))


# -- headers -----------------------------------------------------------------------


def test_headers_as_json_mapping_or_legacy_list() -> None:
    expected = {"X-Client-Id": "laminar", "X-Trace": "1"}
    assert opts(headers='{"X-Client-Id": "laminar", "X-Trace": 1}').headers == expected
    assert opts(headers={"X-Client-Id": "laminar", "X-Trace": "1"}).headers == expected
    assert opts(headers="X-Client-Id: laminar, X-Trace: 1").headers == expected
    assert opts(headers="").headers == {}


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ('{"X-A": ', "not valid JSON"),
        ('{"X-A": {"nested": 1}}', "expected a string value"),
        ('{"Bad Name": "v"}', "not a valid header name"),
        ("[1, 2]", "expected a JSON object"),
        ("just text", "expected a JSON object"),
        (42, "expected a JSON object"),
    ],
)
def test_bad_headers(value: object, fragment: str) -> None:
    error = config_error(headers=value)
    assert fragment in str(error)
    assert error.option == "headers"


# -- auth -----------------------------------------------------------------------


def test_auth_type_is_inferred_from_the_credentials() -> None:
    assert opts(token="t").auth_type == "bearer"
    assert opts(token_file="/tmp/x").auth_type == "bearer"
    assert opts(api_key="k").auth_type == "api_key"
    assert "choose one" in str(config_error(token="t", api_key="k"))


def test_auth_combinations_are_checked() -> None:
    assert config_error(auth_type="bearer").option == "token"
    assert config_error(auth_type="api_key").option == "api_key"
    assert "auth_type is 'none'" in str(config_error(auth_type="none", token="t"))
    assert config_error(token="t", token_file="/tmp/f").option == "token"


def test_other_combinations_are_checked() -> None:
    assert "method = 'POST'" in str(config_error(body="{}"))
    assert config_error(ca_cert="/x.pem", verify_tls=False).option == "ca_cert"


# -- resolution -----------------------------------------------------------------------


def test_var_references_stay_unresolved_until_resolve() -> None:
    env = {"SSE_TOKEN": "s3cr3t-token", "HOST": "stream.example.com"}
    o = ConnectionOptions.from_options(
        {"endpoint": "https://${HOST}/events", "token": "${SSE_TOKEN}"}, env=env
    )
    assert o.endpoint == "https://${HOST}/events"
    assert o.token == "${SSE_TOKEN}"
    request = o.resolve()
    assert request.url == "https://stream.example.com/events"
    assert request.headers["Authorization"] == "Bearer s3cr3t-token"
    env["SSE_TOKEN"] = "rotated-token"  # resolved afresh at every connection
    assert o.resolve().headers["Authorization"] == "Bearer rotated-token"


def test_missing_variable_names_variable_and_option() -> None:
    o = ConnectionOptions.from_options({"endpoint": URL, "token": "${SSE_TOKEN}"}, env={})
    with pytest.raises(ConfigError) as info:
        o.resolve()
    assert "SSE_TOKEN" in str(info.value)
    assert info.value.option == "token"


def test_variable_default() -> None:
    o = ConnectionOptions.from_options(
        {"endpoint": URL, "last_event_id": "${LAST_PROCESSED_ID:-}"}, env={}
    )
    assert "Last-Event-ID" not in o.resolve().headers
    o = o.with_overrides({"last_event_id": "${LAST_PROCESSED_ID:-42}"})
    assert o.resolve().headers["Last-Event-ID"] == "42"


def test_env_none_means_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    o = ConnectionOptions.from_options({"endpoint": URL, "api_key": "${LAMINAR_TEST_KEY}"})
    monkeypatch.setenv("LAMINAR_TEST_KEY", "from-the-environment")
    assert o.resolve().headers["X-API-Key"] == "from-the-environment"


def test_resolved_request_headers() -> None:
    o = opts(
        headers={"X-Client-Id": "c", "accept": "text/event-stream, */*"},
        api_key="k3y",
        api_key_header="X-Custom-Key",
        last_event_id="7",
    )
    headers = o.resolve().headers
    assert headers["X-Custom-Key"] == "k3y"
    assert headers["Last-Event-ID"] == "7"
    assert headers["X-Client-Id"] == "c"
    assert headers["accept"] == "text/event-stream, */*"  # the user's header wins
    assert "Accept" not in headers
    assert headers["Accept-Encoding"] == "gzip, deflate"
    assert opts(decompress_response=False).resolve().headers["Accept-Encoding"] == "identity"
    assert "Last-Event-ID" not in o.resolve(last_event_id="").headers  # the server reset it
    assert o.resolve(last_event_id="9").headers["Last-Event-ID"] == "9"


def test_body_and_its_content_type() -> None:
    request = opts(method="POST", body='{"stream": true}').resolve()
    assert request.body == b'{"stream": true}'
    assert request.headers["Content-Type"] == "application/json"
    request = opts(method="POST", body="q=1", headers={"Content-Type": "x/y"}).resolve()
    assert request.headers["Content-Type"] == "x/y"
    assert opts(method="PUT", body="plain").resolve().headers["Content-Type"].startswith("text/")


def test_token_file_is_read_at_each_resolve(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("first-token\n")
    o = opts(token_file=str(token_file))
    assert o.resolve().headers["Authorization"] == "Bearer first-token"
    token_file.write_text("second-token")
    assert o.resolve().headers["Authorization"] == "Bearer second-token"
    token_file.write_text("  ")
    with pytest.raises(ConfigError, match="empty"):
        o.resolve()
    token_file.unlink()
    with pytest.raises(ConfigError, match="cannot read") as info:
        o.resolve()
    assert info.value.option == "token_file"


def test_tls_settings(tmp_path: Path) -> None:
    assert opts().resolve().ssl is True
    assert opts(verify_tls=False).resolve().ssl is False
    ca = Path(__file__).parents[1] / "support" / "tls" / "ca.pem"
    assert isinstance(opts(ca_cert=str(ca)).resolve().ssl, ssl.SSLContext)
    with pytest.raises(ConfigError) as info:
        opts(ca_cert=str(tmp_path / "missing.pem")).resolve()
    assert info.value.option == "ca_cert"


def test_resolved_values_are_validated() -> None:
    o = ConnectionOptions.from_options({"endpoint": "${URL}"}, env={"URL": "ftp://x/y"})
    with pytest.raises(ConfigError, match="http:// or https://"):
        o.resolve()
    o = opts(headers={"X-A": "${V}"}).with_overrides({})
    o = ConnectionOptions.from_options(
        {"endpoint": URL, "headers": {"X-A": "${V}"}}, env={"V": "a\r\nInjected: yes"}
    )
    with pytest.raises(ConfigError, match="line break"):
        o.resolve()


# -- secrets -----------------------------------------------------------------------


def test_redacted_hides_every_secret() -> None:
    o = ConnectionOptions.from_options(
        {
            "endpoint": "https://stream.example.com/events?access_token=qwerty&x=1",
            "token": "literal-token",
            "headers": {"Authorization": "Basic Zm9v", "X-Session": "abc", "X-Client": "c"},
            "proxy": "http://proxyuser:proxypass@proxy:3128",
        },
        env={},
    )
    shown = o.redacted()
    text = json.dumps(shown) + repr(o)
    for secret in ("qwerty", "literal-token", "Zm9v", "abc", "proxypass"):
        assert secret not in text
    assert shown["token"] == "***"
    assert json.loads(shown["headers"]) == {
        "Authorization": "***",
        "X-Session": "***",
        "X-Client": "c",
    }
    assert shown["endpoint"] == "https://stream.example.com/events?access_token=***&x=1"
    with_userinfo = ConnectionOptions({"endpoint": "https://user:pa55word@h/events"}).redacted()
    assert with_userinfo["endpoint"] == "https://***@h/events"
    assert shown["reconnect_interval_ms"] == "3000"
    assert shown["ignore_comments"] == "true"
    assert "reconnect_backoff_ms" not in shown  # unset options are left out


def test_api_key_and_its_header_are_hidden() -> None:
    o = opts(api_key="k-123456", api_key_header="X-Custom", headers={"X-Custom": "other"})
    assert o.redacted()["api_key"] == "***"
    assert json.loads(o.redacted()["headers"]) == {"X-Custom": "***"}


def test_scrub_hides_resolved_secrets_and_var_values() -> None:
    o = ConnectionOptions.from_options(
        {"endpoint": "https://example.com/${PATH_SECRET}", "token": "${T}"},
        env={"PATH_SECRET": "hidden-path", "T": "tok-999"},
    )
    request = o.resolve()
    message = f"failed {request.url} with Bearer tok-999"
    assert request.scrub(message) == "failed https://example.com/*** with ***"
    assert "tok-999" not in repr(request)


def test_redact_helpers() -> None:
    assert redact_url("http://a:b@h/p") == "http://***@h/p"
    assert redact_url("https://ghp_token@h/p") == "https://***@h/p"  # a token as the user
    assert redact_url("https://u:pa@ss@h/p") == "https://***@h/p"
    assert redact_url("http://h/p?api_key=1&sig=2&q=3") == "http://h/p?api_key=***&sig=***&q=3"
    assert redact_headers({"Set-Cookie": "a", "X-Api-Key": "k", "Date": "d"}) == {
        "Set-Cookie": "***",
        "X-Api-Key": "***",
        "Date": "d",
    }


# -- overrides -----------------------------------------------------------------------


def test_with_overrides_revalidates_and_keeps_env() -> None:
    base = ConnectionOptions.from_options(
        {"endpoint": URL, "token": "${T}", "reconnect_interval_ms": 5000}, env={"T": "x-token"}
    )
    derived = base.with_overrides({"reconnect_interval_ms": "100", "headers": '{"X-A": "1"}'})
    assert derived.reconnect_interval_ms == 100
    assert derived.token == "${T}"
    assert derived.resolve().headers["Authorization"] == "Bearer x-token"
    assert base.reconnect_interval_ms == 5000  # immutable
    with pytest.raises(ConfigError, match="did you mean"):
        base.with_overrides({"reconnect_intervall_ms": 1})
    with pytest.raises(AttributeError):
        base.timeout_ms = 1  # type: ignore[misc]


def test_public_names_of_the_package_exist() -> None:
    import laminar.connectors.sse as package

    for name in package.__all__:
        assert hasattr(package, name), name


def test_url_credentials_and_an_authorization_header_do_not_mix() -> None:
    with pytest.raises(ConfigError, match="keep one of them") as info:
        ConnectionOptions({"endpoint": "http://u:p@h/s", "token": "t"})
    assert info.value.option == "endpoint"
    assert "p@h" not in str(info.value)
    ConnectionOptions({"endpoint": "http://u:p@h/s"})  # alone, fine
