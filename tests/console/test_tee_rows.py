"""Rows of an Arrow sink (parquet, blackhole) reach the console's tail as stdout's JSON."""

from __future__ import annotations

import json

import pyarrow as pa

from laminar.console.tee import _json_rows
from laminar.formats.columns import TYPE_METADATA_KEY


def test_arrow_rows_become_valid_json_with_json_columns_nested() -> None:
    schema = pa.schema([
        pa.field("price", pa.float64()),
        pa.field("meta", pa.string(), metadata={TYPE_METADATA_KEY: b"JSON"}),
    ])  # fmt: skip
    table = pa.table({"price": [1.5, float("nan")], "meta": ['{"k": [1]}', None]}, schema=schema)
    lines = _json_rows(table)
    assert [json.loads(line) for line in lines] == [  # NaN would not parse in a browser
        {"price": 1.5, "meta": {"k": [1]}},
        {"price": None, "meta": None},
    ]
    assert "NaN" not in "".join(lines)
