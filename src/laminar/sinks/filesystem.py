"""The filesystem sink: JSON lines or Parquet files in a directory, exactly once.

Rows go to a hidden in-progress file (``.<prefix>-<owner>-<pid>-<ns>-<seq>.<ext>.inprogress``,
``owner`` a tag of the pipeline). A file is *rolled* when it reaches
``rollover_size`` bytes or has been open ``rollover_interval_ms``: closed and
fsync'ed, it is staged (still hidden). It becomes visible — renamed to
``<prefix>-<ns>-<seq>.<ext>``, one atomic rename, so a reader listing the
directory sees whole files only — only once a checkpoint covering its rows is
committed (the two-phase commit of ``laminar.sinks.base``):

* ``prepare`` fsyncs the open file and returns the transaction
  ``{"dir": absolute directory, "publish": [staged names],
  "resume": [open file name, length] | null}``.
  JSON lines are resumable: the open file stays open across checkpoints and the
  transaction records its committed length (Flink's row formats do the same).
  Parquet cannot be cut mid-file, so it rolls at every checkpoint, and
  checkpoints come at most every ``rollover_interval_ms`` (Flink's bulk
  formats roll on checkpoint).
* ``publish`` renames the staged files into place; a rename already done is
  skipped (idempotent).
* ``recover`` (on start, with the last committed transaction) publishes its
  staged files again, cuts its open file back to the committed length and
  publishes it, then deletes this pipeline's other hidden files: their rows
  were never committed, and the source sends them again.

So a file is published once, and every row is in exactly one published file
(for a stream whose events carry ids). An aged open file whose rows are all
committed is published by ``tick`` without waiting for more rows.

Any failed write, fsync, close or rename (a full disk) marks the sink failed
and raises a PipelineError: nothing is committed after it, and what is not
committed is sent again on restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa

from laminar.errors import PipelineError
from laminar.sinks.base import Sink, json_lines

EXTENSIONS = {"json": "jsonl", "parquet": "parquet"}
T = TypeVar("T")
logger = logging.getLogger("laminar.sinks")


class FilesystemSink(Sink):
    connector = "filesystem"

    def __init__(
        self,
        table: str,
        path: str,
        *,
        format: str = "json",
        rollover_size: int = 128 << 20,
        rollover_interval_ms: int = 10_000,
        file_prefix: str | None = None,
    ) -> None:
        super().__init__(table)
        self.kind = "arrow" if format == "parquet" else "json"  # type: ignore[misc]
        self.directory = Path(path)
        self.format = format
        self.rollover_size = rollover_size
        self.rollover_interval = rollover_interval_ms / 1000
        if format == "parquet":
            self.min_checkpoint_interval_s = self.rollover_interval
        self.prefix = file_prefix or table
        self.files_written: list[Path] = []  # published, in order
        self._staged: list[Path] = []  # rolled, fsync'ed, hidden until published
        self._seq = 0
        self._current: Path | None = None
        self._handle: Any = None  # binary file (json) or ParquetWriter
        self._schema: pa.Schema | None = None
        self._opened_at = 0.0
        self._size = 0
        self._committed = 0  # bytes of the open file covered by the last published txn
        self._busy: asyncio.Future[Any] | None = None  # file work running in a thread
        self._new_entries = False  # a file was created since the directory was last fsync'ed
        p = re.escape(self.prefix)
        self._hidden = re.compile(
            rf"^\.{p}-([0-9a-f]{{8}})-(\d+)-(\d{{19}}-\d{{5}}\.(?:jsonl|parquet))\.inprogress$"
        )
        # Before owner tags: ``.PREFIX-PID-NS-SEQ.EXT.inprogress``.
        self._legacy = re.compile(rf"^\.{p}-(\d+)-\d{{19}}-\d{{5}}\.(?:jsonl|parquet)\.inprogress$")

    @property
    def owner(self) -> str:
        """Tags this pipeline's hidden files, so that it recovers only its own."""
        return hashlib.sha1(self.pipeline.encode()).hexdigest()[:8]

    # -- thread work: one at a time, never torn by a cancelled caller -----------------

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._busy is not None and not self._busy.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(self._busy)
        self._busy = asyncio.ensure_future(asyncio.to_thread(fn, *args))
        return await asyncio.shield(self._busy)

    @contextlib.contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except PipelineError:
            self.failed = True
            self._drop_handle()
            raise
        except (OSError, pa.ArrowException) as exc:
            self.failed = True
            self._drop_handle()
            raise PipelineError(
                f"sink {self.table}: {what} in {self.directory} failed ({exc}); nothing more "
                "is committed, and the rows not committed are sent again on restart"
            ) from exc

    def _drop_handle(self) -> None:
        # The file stays: its committed part (if any) is published by recover().
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(Exception):
                handle.close()

    # -- the sink contract ----------------------------------------------------------

    async def open(self) -> None:
        await self._run(self._mkdir)

    def _mkdir(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PipelineError(
                f"sink {self.table}: cannot create directory {self.directory} ({exc.strerror}); "
                "check the path option"
            ) from exc

    async def recover(self, txn: Any) -> None:
        await self._run(self._recover, txn or {})

    def _recover(self, txn: dict[str, Any]) -> None:
        # Where the checkpoint's files are, even if ``path`` has changed since (a relative
        # path from another working directory).
        where = Path(txn.get("dir") or self.directory)
        with self._guard("recovering the files of the last checkpoint"):
            for name in txn.get("publish") or ():
                self._publish_file(where / name)
            resume = txn.get("resume")
            if resume:
                path, length = where / resume[0], int(resume[1])
                if path.exists():
                    # Its rows past the committed length were never committed: cut them.
                    with open(path, "r+b") as f:
                        f.truncate(length)
                        os.fsync(f.fileno())
                    if length:
                        self._publish_file(path)
                    else:
                        path.unlink()
                elif not path.with_name(_final_name(path.name)).exists():
                    self._missing(path)
            for leftover in self.directory.glob(f".{self.prefix}-*.inprogress"):
                if self._abandoned(leftover.name):
                    leftover.unlink()
            _fsync_dir(self.directory)

    def _abandoned(self, name: str) -> bool:
        """A hidden file of this pipeline (or a dead writer's, before owner tags)."""
        match = self._hidden.match(name)
        if match is not None:
            pid = int(match.group(2))
            # Ours: the same pipeline is not run twice at once (one state directory,
            # one process), and the rows of a file not in the committed txn are resent.
            return match.group(1) == self.owner and (pid == os.getpid() or not _alive(pid))
        match = self._legacy.match(name)
        return match is not None and not _alive(int(match.group(1)))

    async def write(self, rows: Any) -> None:
        await self._run(self._write_guarded, rows)

    def _write_guarded(self, rows: Any) -> None:
        if self.failed:
            raise PipelineError(f"sink {self.table}: failed earlier; not writing")
        with self._guard("writing"):
            self._write(rows)

    def _write(self, rows: Any) -> None:
        if self._current is None:
            self._start()
        if self.format == "parquet":
            table: pa.Table = rows
            if self._handle is None:
                import pyarrow.parquet as pq

                self._schema = table.schema
                self._handle = pq.ParquetWriter(str(self._current), table.schema)
            elif not table.schema.equals(self._schema):
                table = table.cast(self._schema)
            self._handle.write_table(table)
            self._size = self._current.stat().st_size  # type: ignore[union-attr]
            self.rows_written += table.num_rows
        else:
            for text in json_lines(rows):
                data = text.encode("utf-8")
                self._handle.write(data)
                self._size += len(data)
            self.rows_written += len(rows)
        if self._size >= self.rollover_size:
            self._roll()

    def _start(self) -> None:
        self._seq += 1
        rest = f"{time.time_ns():019d}-{self._seq:05d}.{EXTENSIONS[self.format]}"
        name = f".{self.prefix}-{self.owner}-{os.getpid()}-{rest}.inprogress"
        self._current = self.directory / name
        self._handle = open(self._current, "wb") if self.format == "json" else None  # noqa: SIM115
        self._new_entries = True
        self._opened_at = time.monotonic()
        self._size = self._committed = 0

    def _roll(self) -> None:
        """Close and fsync the open file; it is staged, published by the next checkpoint."""
        current = self._finish()
        if current is not None:
            self._staged.append(current)

    def _finish(self) -> Path | None:
        current, handle = self._current, self._handle
        if current is None:
            return None
        self._current = self._handle = None
        if handle is not None:
            handle.close()
        if not current.exists():
            raise PipelineError(
                f"sink {self.table}: the in-progress file {current.name} disappeared; is "
                "another process writing to the same path with the same file_prefix?"
            )
        with open(current, "rb") as f:
            os.fsync(f.fileno())
        return current

    def _due(self) -> bool:
        return time.monotonic() - self._opened_at >= self.rollover_interval

    async def prepare(self) -> Any:
        if self.failed:
            raise PipelineError(f"sink {self.table}: failed earlier; nothing is committed")
        return await self._run(self._prepare)

    def _prepare(self) -> Any:
        with self._guard("staging the files of a checkpoint"):
            if self._current is not None:
                if self.format == "parquet" or self._due() or self._size >= self.rollover_size:
                    self._roll()
                else:
                    self._handle.flush()
                    os.fsync(self._handle.fileno())
            if not self._staged and self._current is None:
                return None
            if self._new_entries:  # the new files' entries are durable too
                self._new_entries = False
                _fsync_dir(self.directory, strict=True)
            resume = [self._current.name, self._size] if self._current is not None else None
            return {
                "dir": str(self.directory.absolute()),
                "publish": [p.name for p in self._staged],
                "resume": resume,
            }

    async def publish(self, txn: Any) -> None:
        if txn:
            await self._run(self._publish, txn)

    def _publish(self, txn: dict[str, Any]) -> None:
        with self._guard("publishing the files of a committed checkpoint"):
            names = set(txn.get("publish") or ())
            for path in [p for p in self._staged if p.name in names]:
                self._publish_file(path)
                self._staged.remove(path)
            resume = txn.get("resume")
            if resume and self._current is not None and self._current.name == resume[0]:
                self._committed = int(resume[1])
            if names:
                _fsync_dir(self.directory, strict=True)

    def _publish_file(self, path: Path) -> None:
        final = path.with_name(_final_name(path.name))
        if path.exists():
            os.rename(path, final)
            self.files_written.append(final)
        elif not final.exists():
            self._missing(path)

    def _missing(self, path: Path) -> None:
        logger.warning(
            "sink %s: %s of the last checkpoint is gone from %s; its rows are lost",
            self.table,
            path.name,
            self.directory,
        )

    async def tick(self) -> None:
        # An aged open file whose rows are all committed needs no checkpoint to go out.
        if (
            not self.failed
            and self._current is not None
            and self.format == "json"
            and 0 < self._size == self._committed
            and self._due()
        ):
            await self._run(self._publish_committed)

    def _publish_committed(self) -> None:
        with self._guard("publishing a rolled file"):
            current = self._finish()
            if current is not None:
                self._publish_file(current)
                _fsync_dir(self.directory, strict=True)

    async def close(self) -> None:
        if self.failed:
            await self._run(self._drop_handle)
        else:
            await self._run(self._close)

    def _close(self) -> None:
        with self._guard("closing the last file"):
            self._roll()


# Any prefix (it may have changed since the checkpoint named the file): the tail is strict.
_HIDDEN = re.compile(r"^\.(.+)-[0-9a-f]{8}-\d+-(\d{19}-\d{5}\.(?:jsonl|parquet))\.inprogress$")


def _final_name(hidden: str) -> str:
    """``.PREFIX-OWNER-PID-NS-SEQ.EXT.inprogress`` -> ``PREFIX-NS-SEQ.EXT``."""
    match = _HIDDEN.match(hidden)
    if match is None:
        raise PipelineError(f"{hidden} is not the name of a filesystem sink's staged file")
    return f"{match.group(1)}-{match.group(2)}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _fsync_dir(path: Path, *, strict: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        if strict:
            raise
