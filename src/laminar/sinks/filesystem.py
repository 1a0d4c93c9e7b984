"""The filesystem sink: JSON lines or Parquet files in a directory, rolled by size or time.

Rows go to a hidden in-progress file (``.<name>.inprogress``). When it reaches
``rollover_size`` bytes or has been open ``rollover_interval_ms``, it is
flushed, fsync'ed and renamed to its final name (``<prefix>-<ns>-<seq>.jsonl``
or ``.parquet``) — one atomic rename, so a reader listing the directory sees
whole files only. ``flush`` answers True only when no rows are waiting in an
in-progress file: event ids are committed once their rows are in a final file.

In-progress names carry the writer's pid. On open, in-progress files of this
prefix left by a process that is gone are deleted (their rows were never
committed, so the source replays them); a live writer's are left alone. A
write that fails part-way discards the in-progress file and marks the sink
failed, so neither a torn line nor a lost row is ever committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from laminar.errors import PipelineError
from laminar.sinks.base import Sink

EXTENSIONS = {"json": "jsonl", "parquet": "parquet"}


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
        self.prefix = file_prefix or table
        self.files_written: list[Path] = []
        self._seq = 0
        self._current: Path | None = None
        self._handle: Any = None  # binary file (json) or ParquetWriter
        self._schema: pa.Schema | None = None
        self._opened_at = 0.0
        self._size = 0
        self._rolling: asyncio.Future[None] | None = None  # a roll running in a thread
        self._leftover = re.compile(
            rf"^\.{re.escape(self.prefix)}-(\d+)-\d{{19}}-\d{{5}}\.(jsonl|parquet)\.inprogress$"
        )

    async def open(self) -> None:
        await asyncio.to_thread(self._prepare)

    def _prepare(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PipelineError(
                f"sink {self.table}: cannot create directory {self.directory} ({exc.strerror}); "
                "check the path option"
            ) from exc
        for leftover in self.directory.glob(f".{self.prefix}-*.inprogress"):
            match = self._leftover.match(leftover.name)
            if match is None or _alive(int(match.group(1))):
                continue  # another sink's file, or a live writer's
            with contextlib.suppress(OSError):
                leftover.unlink()

    async def write(self, rows: Any) -> None:
        try:
            await asyncio.to_thread(self._write, rows)
        except (OSError, pa.ArrowException) as exc:
            self.failed = True
            await asyncio.to_thread(self._discard)
            raise PipelineError(
                f"sink {self.table}: writing to {self.directory} failed ({exc}); the rows not "
                "yet in a final file are discarded and will be sent again on restart"
            ) from exc

    def _discard(self) -> None:
        current, handle = self._current, self._handle
        self._current = self._handle = None
        if handle is not None:
            with contextlib.suppress(Exception):
                handle.close()
        if current is not None:
            with contextlib.suppress(OSError):
                current.unlink()

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
            data = ("\n".join(rows) + "\n").encode("utf-8")
            self._handle.write(data)
            self._size += len(data)
            self.rows_written += len(rows)
        if self._size >= self.rollover_size:
            self._roll()

    def _start(self) -> None:
        self._seq += 1
        name = f"{self.prefix}-{time.time_ns():019d}-{self._seq:05d}.{EXTENSIONS[self.format]}"
        pid_name = f"{self.prefix}-{os.getpid()}-{name[len(self.prefix) + 1 :]}"
        self._current = self.directory / f".{pid_name}.inprogress"
        self._handle = open(self._current, "wb") if self.format == "json" else None  # noqa: SIM115
        self._opened_at = time.monotonic()
        self._size = 0

    def _roll(self) -> None:
        """Finish the in-progress file: flush, fsync, rename into place, fsync the directory."""
        current, handle = self._current, self._handle
        if current is None:
            return
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
        final = current.with_name(self._final_name(current.name))
        os.rename(current, final)
        _fsync_dir(self.directory)
        self.files_written.append(final)

    def _final_name(self, inprogress: str) -> str:
        """``.PREFIX-PID-NS-SEQ.EXT.inprogress`` -> ``PREFIX-NS-SEQ.EXT``."""
        bare = inprogress[1 : -len(".inprogress")]
        rest = bare[len(self.prefix) + 1 :]
        return f"{self.prefix}-{rest.split('-', 1)[1]}"

    async def flush(self) -> bool:
        if self._current is None:
            return self._rolling is None or self._rolling.done()
        if time.monotonic() - self._opened_at >= self.rollover_interval:
            await self._roll_in_thread()
            return True
        return False

    async def _roll_in_thread(self) -> None:
        # Shielded and remembered: a cancelled caller (shutdown) must not let close()
        # and the commit run ahead of a rename still in progress.
        self._rolling = asyncio.ensure_future(asyncio.to_thread(self._roll))
        await asyncio.shield(self._rolling)

    async def close(self) -> None:
        if self._rolling is not None:
            await self._rolling
        if self.failed:
            await asyncio.to_thread(self._discard)
            return
        await self._roll_in_thread()


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


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
