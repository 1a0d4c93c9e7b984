"""kill -9 of the whole driver process tree mid-stream, then a restart from the checkpoint:
every event exactly once in the parquet output (read through Spark's file-sink log)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.spark.feed import Feed

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 6000


def pyspark_at_least(major: int, minor: int) -> bool:
    import pyspark

    return tuple(int(p) for p in pyspark.__version__.split(".")[:2]) >= (major, minor)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the JVM, pyspark's daemon and its Python workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def is_python_worker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            command = handle.read()
        return b"pyspark" in command and b"java" not in command
    except OSError:
        return False


def kill_tree(proc: subprocess.Popen, spare_workers: bool = False) -> list[int]:
    """SIGKILL the driver and everything below it; with ``spare_workers``, pyspark's
    Python workers (where the readers run) survive as stragglers: their pids."""
    below = descendants(proc.pid)
    spared = [pid for pid in below if spare_workers and is_python_worker(pid)]
    for pid in [proc.pid, *below]:
        if pid not in spared:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    proc.wait(30)
    return spared


def start_driver(url: str, tmp: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.spark.eo_driver", url, str(tmp / "wal"),
         str(tmp / "ckpt"), str(tmp / "out")],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(tmp / "driver.log", "ab"),
        start_new_session=True,
    )


def committed_rows(spark, out: Path) -> list:  # type: ignore[no-untyped-def]
    if not (out / "_spark_metadata").exists():
        return []
    schema = "symbol STRING, seq BIGINT, price DECIMAL(18,3)"
    return spark.read.schema(schema).parquet(str(out)).select("seq").collect()


def wait_rows(spark, out: Path, at_least: int, timeout: float) -> list:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        rows = committed_rows(spark, out)
        if len(rows) >= at_least or time.monotonic() > deadline:
            return rows
        time.sleep(0.3)


@pytest.mark.timeout(240)
def test_kill_the_driver_tree_and_restart_exactly_once(spark, feeds, tmp_path):
    """Run 1 is killed mid-stream but its Python workers live on (stragglers); run 2 is
    killed whole, and its WAL is then deleted (lost storage); run 3 finishes. Every
    event exactly once, whatever the timing."""
    # Each run gets a third of the stream once it runs: every kill is mid-stream.
    feeds.feeds["eo"] = Feed(total=TOTAL, delay_every=10, released=TOTAL // 3)
    url = feeds.url("eo")
    seen = 0
    stragglers: list[int] = []
    for run in range(2):
        driver = start_driver(url, tmp_path)
        try:
            rows = wait_rows(spark, tmp_path / "out", seen + 1, 120)  # this run made progress
            feeds.feeds["eo"].released = TOTAL // 3 * (run + 2)
            assert len(rows) > seen, (tmp_path / "driver.log").read_text()[-3000:]
        finally:
            # Run 1 leaves its Python workers alive: the WAL's fencing must stop them.
            stragglers += kill_tree(driver, spare_workers=run == 0)
        seen = len(committed_rows(spark, tmp_path / "out"))  # batches up to the kill count
        log = (tmp_path / "driver.log").read_text()[-4000:]
        assert len(feeds.feeds["eo"].last_ids) == run + 1, log  # each run connected once
    if pyspark_at_least(4, 2):  # older ones do not give the source its start offset
        shutil.rmtree(tmp_path / "wal")  # lost: run 3 resumes from the server's committed id
    driver = start_driver(url, tmp_path)
    try:
        wait_rows(spark, tmp_path / "out", TOTAL, 150)
        time.sleep(1.0)  # a duplicate would show up in a later batch: give it the chance
        rows = committed_rows(spark, tmp_path / "out")
    finally:
        kill_tree(driver)
        for pid in stragglers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    seqs = sorted(r.seq for r in rows)
    log = (tmp_path / "driver.log").read_text()[-3000:]
    assert len(seqs) == TOTAL, (len(seqs), len(set(seqs)), log)
    assert seqs == list(range(1, TOTAL + 1))  # each exactly once
    last_ids = feeds.feeds["eo"].last_ids
    assert last_ids[0] == "" and all(last_ids[1:3]), last_ids  # restarts resumed by id
