"""The state store: one SQLite database under the state directory, owned by one process.

Contract:

* ``StateStore.open(directory)`` creates the directory, takes an exclusive
  ``fcntl.flock`` on ``<dir>/laminar.lock`` (a second process gets a StateError
  naming the directory and the holder's pid, never a shared database) and opens
  ``<dir>/state.db`` in WAL mode with ``synchronous=FULL``: a commit that has
  returned survives ``kill -9`` and power loss, and a crash mid-transaction
  leaves the previous state.
* It holds the catalog as statement texts (``record`` / ``forget`` /
  ``statements``, replayed in order on start), and per pipeline the committed
  checkpoint: the last event id whose rows were all handed to the sink and
  flushed, with the de-duplication state at that point (``commit`` /
  ``checkpoint``). A checkpoint and its dedup state are written in one
  transaction.
* ``close()`` releases the lock. The store is used from the event loop's thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from laminar.errors import StateError

DEFAULT_STATE_DIR = ".laminar"
STATE_DIR_ENV = "LAMINAR_STATE_DIR"
DB_NAME = "state.db"
LOCK_NAME = "laminar.lock"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS statements (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    sql TEXT NOT NULL,
    UNIQUE (kind, name)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    pipeline TEXT PRIMARY KEY,
    source_table TEXT NOT NULL,
    last_event_id TEXT NOT NULL,
    dedup TEXT,
    committed_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Checkpoint:
    """A pipeline's committed position."""

    pipeline: str
    source_table: str
    last_event_id: str
    dedup: list[tuple[Hashable, int]] | None
    committed_at: float


def default_state_dir() -> str:
    """``$LAMINAR_STATE_DIR`` when set, else ``./.laminar``."""
    return os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR


class StateStore:
    """See the module docstring."""

    def __init__(self, directory: Path, db: sqlite3.Connection, lock_fd: int) -> None:
        self.directory = directory
        self._db = db
        self._lock_fd: int | None = lock_fd
        self.commits = 0

    @classmethod
    def open(cls, directory: str | os.PathLike[str]) -> StateStore:
        path = Path(directory)
        try:
            # Owner-only: the catalog holds statements, and a literal token is part of one.
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
            # SQLite gives its -wal and -shm files the mode of the database file.
            os.close(os.open(path / DB_NAME, os.O_RDWR | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StateError(
                f"state directory {path}: cannot use it ({exc.strerror}); pass a writable "
                "directory with --state-dir"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise StateError(
                f"state directory {path} is in use by another Laminar process"
                f"{f' (pid {holder})' if holder else ''}; stop it, or give this one its own "
                "directory with --state-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            db = sqlite3.connect(path / DB_NAME, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=5000")
            db.executescript(_SCHEMA)
            _check_version(db, path)
        except sqlite3.Error as exc:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise StateError(
                f"state store {path / DB_NAME} is unreadable ({exc}); move it away to start "
                "afresh (the catalog and committed event ids are then lost)"
            ) from exc
        return cls(path, db, fd)

    # -- catalog ------------------------------------------------------------------

    def statements(self) -> list[tuple[str, str, str]]:
        """(kind, name, sql) of the catalog, in the order they were created."""
        rows = self._db.execute("SELECT kind, name, sql FROM statements ORDER BY seq")
        return [(k, n, s) for k, n, s in rows]

    def record(self, kind: str, name: str, sql: str) -> None:
        """Remember a CREATE (replacing an older definition of the same name, moved last)."""
        with self._transaction() as db:
            db.execute("DELETE FROM statements WHERE kind = ? AND name = ?", (kind, name))
            db.execute(
                "INSERT INTO statements (kind, name, sql) VALUES (?, ?, ?)", (kind, name, sql)
            )

    def forget(self, kind: str, name: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM statements WHERE kind = ? AND name = ?", (kind, name))

    # -- checkpoints ----------------------------------------------------------------

    def checkpoint(self, pipeline: str) -> Checkpoint | None:
        row = self._db.execute(
            "SELECT pipeline, source_table, last_event_id, dedup, committed_at "
            "FROM checkpoints WHERE pipeline = ?",
            (pipeline,),
        ).fetchone()
        if row is None:
            return None
        return Checkpoint(row[0], row[1], row[2], _decode_dedup(row[3]), row[4])

    def checkpoints(self) -> list[Checkpoint]:
        rows = self._db.execute(
            "SELECT pipeline, source_table, last_event_id, dedup, committed_at "
            "FROM checkpoints ORDER BY pipeline"
        )
        return [Checkpoint(r[0], r[1], r[2], _decode_dedup(r[3]), r[4]) for r in rows]

    def commit(
        self,
        pipeline: str,
        source_table: str,
        last_event_id: str,
        dedup: Iterable[tuple[Hashable, int]] | None = None,
    ) -> None:
        """Record ``last_event_id`` (and the dedup state) as durably processed."""
        encoded = _encode_dedup(dedup) if dedup is not None else None
        with self._transaction() as db:
            db.execute(
                "INSERT INTO checkpoints (pipeline, source_table, last_event_id, dedup, "
                "committed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (pipeline) DO UPDATE SET "
                "source_table = excluded.source_table, last_event_id = excluded.last_event_id, "
                "dedup = excluded.dedup, committed_at = excluded.committed_at",
                (pipeline, source_table, last_event_id, encoded, time.time()),
            )
        self.commits += 1

    def forget_table(self, source_table: str) -> None:
        """Drop the checkpoints of every pipeline reading ``source_table`` (table replaced)."""
        with self._transaction() as db:
            db.execute("DELETE FROM checkpoints WHERE source_table = ?", (source_table,))

    # -- life -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Any:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise StateError(f"state store {self.directory / DB_NAME}: {exc}") from exc
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self._lock_fd is None:
            return
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        fd, self._lock_fd = self._lock_fd, None
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<StateStore {self.directory}>"


def _check_version(db: sqlite3.Connection, path: Path) -> None:
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
    elif int(row[0]) > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"schema version {row[0]} is newer than this Laminar's ({SCHEMA_VERSION}) — "
            "upgrade Laminar"
        )


def _read_pid(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        return os.pread(fd, 32, 0).decode().strip()
    return ""


# Dedup keys keep their type across a restart (1 and "1" are different keys).
_TAGS: dict[type, str] = {str: "s", int: "i", float: "f", bool: "b"}
_UNTAG = {"s": str, "i": int, "f": float, "b": bool}


def _encode_dedup(entries: Iterable[tuple[Hashable, int]]) -> str:
    """JSON [[tag, key, first_seen_ms], …]; keys of other types are not persisted."""
    out = []
    for key, ms in entries:
        tag = _TAGS.get(type(key))
        if tag is not None:
            out.append([tag, key, ms])
    return json.dumps(out, separators=(",", ":"))


def _decode_dedup(text: str | None) -> list[tuple[Hashable, int]] | None:
    if text is None:
        return None
    return [(_UNTAG[tag](key), int(ms)) for tag, key, ms in json.loads(text)]


__all__ = ["DEFAULT_STATE_DIR", "STATE_DIR_ENV", "Checkpoint", "StateStore", "default_state_dir"]
