"""examples/spark_price_alerts.py against the embedded demo server, on the shared session."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spark_price_alerts.py"


@pytest.mark.timeout(150)
def test_price_alerts_example(spark, tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("spark_price_alerts", EXAMPLE)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    url, stop = example.start_demo_in_thread(rate=500)
    # The JVM's Python workers resolve ${LAMINAR_DEMO} in their own environment, fixed
    # when the session started: the example's DDL gets the URL directly here.
    monkeypatch.setattr(example, "DDL", example.DDL.replace("${LAMINAR_DEMO}", url))
    try:
        rows = example.run(spark, str(tmp_path), 1.0)
    finally:
        stop()
    assert rows
    assert all(r.price > 1000 or r.price < 10 for r in rows)
    assert {r.symbol for r in rows} <= {"BKNG", "SIRI"}
    assert os.path.isdir(tmp_path / "wal")
