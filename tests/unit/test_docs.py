"""The README and docs/ stay true: links resolve, option and metric tables match the code,
and every SQL block parses.

The reference pages are what users copy from, so a renamed option, a new metric or a
moved section must show up here as a failure, not as a page that quietly went stale.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from laminar.connectors.sse.options import ConnectionOptions
from laminar.connectors.sse.table_options import TABLE_OPTION_NAMES
from laminar.sql.parser import parse_statements

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)
FIRST_CELL = re.compile(r"^\| `([a-z_]+)` \|", re.M)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.M)}


def _section(page: str, heading: str) -> str:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        where = (page.parent / path).resolve() if path else page
        assert where.exists(), f"{page.name}: link to {target}: no such file"
        if anchor and where.suffix == ".md":
            assert anchor in _anchors(where), f"{page.name}: link to {target}: no such heading"


def test_connection_options_table_lists_every_connection_option() -> None:
    documented = set(FIRST_CELL.findall(_section("sse-client.md", "Connection options")))
    assert documented == set(ConnectionOptions.OPTION_NAMES)


def test_table_options_table_lists_every_table_option() -> None:
    documented = set(FIRST_CELL.findall(_section("sql.md", "Table options")))
    # `events` is an alias kept for old pipelines; connector and connection are the WITH keys
    assert documented == (set(TABLE_OPTION_NAMES) - {"events"}) | {"connector", "connection"}


def test_metrics_table_lists_exactly_the_exported_metrics() -> None:
    from laminar.observability.hub import Observability

    exported = {
        metric.name + ("_total" if metric.type == "counter" else "")
        for metric in Observability().registry.collect()
    }
    rows = _section("monitoring.md", "Metrics")
    documented = set(re.findall(r"^\| `(laminar_[a-z_]+)(?:\{[a-z_, ]*\})?`", rows, re.M))
    assert documented == exported


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_sql_block_parses(page: Path) -> None:
    for block in SQL_BLOCK.findall(page.read_text(encoding="utf-8")):
        assert parse_statements(block), f"{page.name}: an empty SQL block"
