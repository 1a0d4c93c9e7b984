"""Secrets: ``${VAR}`` resolution and every redaction or scrubbing of shown text.

Contract:

* ``Resolver(env)`` substitutes ``${VAR}`` / ``${VAR:-default}`` in option values and
  remembers the substituted values of secret options (``resolver.secrets``). ``$${``
  is an escape: it becomes a literal ``${`` and is never substituted.
* ``check_references(option, text)`` rejects a malformed ``${...}`` at parse time.
* ``redact_url``, ``is_secret_header`` and ``redact_headers`` hide credentials in
  configured values (SHOW, system tables, ``display_endpoint``).
* ``Scrubber(secrets)`` hides a request's own credentials in any text — raw,
  URL-encoded (``%xx`` and ``+``), base64 (``Basic`` of ``user:password``) — and the
  values of query parameters with secret-looking names (``api_key``, ``token``,
  ``sig``…) wherever they appear, so an echoed request in an error body is safe.

Every layer that shows text to people (connectors, sinks, observability) imports
these from here; nothing else decides what a secret looks like.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, unquote

from laminar.errors import ConfigError

REDACTED = "***"
DEFAULT_API_KEY_HEADER = "X-API-Key"
MIN_SECRET_LEN = 3  # shorter values would scrub ordinary words out of messages

# Header names whose values are always hidden (besides the configured api_key_header).
_SECRET_HEADER = re.compile(
    r"authorization|cookie|token|secret|password|passwd|api[-_]?key|apikey|auth|session"
    r"|signature|credential",
    re.IGNORECASE,
)
# name=value pairs whose name looks secret, anywhere in a text (a URL's query, an echoed
# form body, a log line): the name may be preceded by ?, &, ;, a space or a quote.
_SECRET_PARAM = re.compile(
    r"((?:^|(?<=[?&;\s\"'(,]))[A-Za-z0-9_.\-\[\]]*"
    r"(?:token|secret|password|passwd|pwd|key|auth|sig|signature|session|credential)"
    r"[A-Za-z0-9_.\-\[\]]*=)([^&#\s\"'<>]+)",
    re.IGNORECASE,
)
# Everything before the last "@" of the authority: a password, or a token used as user.
URL_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/?#]*)@")
# "$${" (an escaped literal "${") or a reference "${NAME}" / "${NAME:-default}".
_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


# -- ${VAR} ---------------------------------------------------------------------------


def check_references(option: str, text: str) -> None:
    """Reject a malformed ``${...}`` (the well-formed ones are resolved later)."""
    if "${" in _VAR.sub("", text):
        raise ConfigError(
            f"option {option}: malformed environment reference; write ${{NAME}} or "
            "${NAME:-default} (NAME: letters, digits and _), or $${ for a literal ${",
            option=option,
        )


def has_references(text: str) -> bool:
    """True when ``text`` holds a ``${VAR}`` reference (escapes do not count)."""
    return any(m.group(0) != "$${" for m in _VAR.finditer(text))


class Resolver:
    """Substitutes ``${VAR}`` from ``env``; remembers the values it put into secrets."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.secrets: set[str] = set()

    def __call__(self, option: str, text: str, *, secret: bool = True) -> str:
        """``text`` resolved; ``secret=False`` for options documented as shown."""
        if "${" not in text:
            return text

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name, default = match.group(1), match.group(2)
            value = self.env.get(name)
            if value is None:
                if default is None:
                    raise ConfigError(
                        f"option {option}: environment variable {name} is not set "
                        f"(referenced as ${{{name}}}); set it, or write ${{{name}:-default}}",
                        option=option,
                    )
                value = default
            if secret and len(value) >= MIN_SECRET_LEN:
                self.secrets.add(value)
            return value

        return _VAR.sub(substitute, text)


# -- redaction of configured values ----------------------------------------------------


def redact_url(url: str) -> str:
    """``url`` with its userinfo and secret-looking query values hidden."""
    url = URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", url)
    return _SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, url)


def is_secret_header(
    name: str,
    api_key_header: str = DEFAULT_API_KEY_HEADER,
    secret_headers: Iterable[str] = (),
) -> bool:
    """True for headers whose values must never be shown (Authorization, cookies, keys…)."""
    lowered = name.lower()
    if any(lowered == s.lower() for s in secret_headers):
        return True
    if lowered.endswith("-authenticate"):
        return False  # a challenge (WWW-Authenticate), not a credential
    return lowered == api_key_header.lower() or bool(_SECRET_HEADER.search(name))


def redact_headers(
    headers: Mapping[str, str] | Any,
    api_key_header: str = DEFAULT_API_KEY_HEADER,
    secret_headers: Iterable[str] = (),
) -> dict[str, str]:
    """A copy of ``headers`` (any mapping or multidict) with secret values replaced by '***'."""
    secret_headers = tuple(secret_headers)
    return {
        name: REDACTED if is_secret_header(name, api_key_header, secret_headers) else value
        for name, value in headers.items()
    }


def userinfo(url: str) -> tuple[str, str] | None:
    """The (user, password) of a URL's userinfo, percent-decoded, or None."""
    match = URL_USERINFO.match(url)
    if match is None:
        return None
    user, _, password = match.group(2).rpartition("@")[2].partition(":")
    return unquote(user), unquote(password)


def basic_credentials(user: str, password: str) -> str:
    """The value of an ``Authorization: Basic`` header."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


# -- scrubbing of any text -----------------------------------------------------------


def _forms(secret: str) -> set[str]:
    """The ways a secret may come back in text: raw, URL-encoded, base64."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    encoded = base64.b64encode(secret.encode()).decode("ascii")
    forms.add(encoded)
    forms.add(encoded.rstrip("="))
    return {f for f in forms if len(f) >= MIN_SECRET_LEN}


class Scrubber:
    """Hides a request's own credentials, in every form, in any text."""

    __slots__ = ("_forms",)

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LEN:
                forms |= _forms(secret)
        # Longest first, so a secret inside another is never half-replaced.
        self._forms = tuple(sorted(forms, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        text = URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
        text = re.sub(
            r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s@\"']*@",
            lambda m: f"{m.group(1)}{REDACTED}@",
            text,
        )
        return _SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, text)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with ``secrets`` (in every form) and secret-looking parameters hidden."""
    return Scrubber(secrets)(text)


__all__ = [
    "DEFAULT_API_KEY_HEADER",
    "REDACTED",
    "Resolver",
    "Scrubber",
    "basic_credentials",
    "check_references",
    "has_references",
    "is_secret_header",
    "redact_headers",
    "redact_url",
    "scrub",
    "userinfo",
]
