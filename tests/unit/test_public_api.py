"""The top-level package: every name in __all__ exists, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import laminar


def test_every_exported_name_resolves() -> None:
    for name in laminar.__all__:
        assert getattr(laminar, name) is not None, name


def test_exports_are_unique() -> None:
    assert len(set(laminar.__all__)) == len(laminar.__all__)


def test_import_laminar_loads_no_network_sql_or_arrow() -> None:
    code = (
        "import sys, laminar; "
        "print([m for m in ('aiohttp', 'duckdb', 'pyarrow', 'asyncio') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_names_are_the_real_objects() -> None:
    from laminar.api import connect
    from laminar.connectors.sse import EventSource
    from laminar.sse import SSEDecoder

    assert laminar.connect is connect
    assert laminar.EventSource is EventSource
    assert laminar.SSEDecoder is SSEDecoder
