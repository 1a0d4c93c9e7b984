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
  checkpoint (``commit`` / ``checkpoint``): the last event id whose rows were
  all handed to the sink, one opaque state entry per operator at that point
  (``states``: operator name -> bytes, in ``checkpoint_states``) and the sink's
  two-phase-commit transaction (``sink_txn``: JSON, what the sink publishes
  once the checkpoint is committed). All three are written in one transaction:
  after a crash a pipeline sees either the old checkpoint or the new one whole.
* Schema version 2 added ``checkpoint_states`` and ``sink_txn``; a version-1
  database is migrated on open, its dedup checkpoints becoming the ``dedup``
  state entry (same bytes as ``encode_dedup``).
* ``close()`` releases the lock. The store is used from the event loop's thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from laminar.errors import StateError

DEFAULT_STATE_DIR = ".laminar"
STATE_DIR_ENV = "LAMINAR_STATE_DIR"
DB_NAME = "state.db"
LOCK_NAME = "laminar.lock"
SCHEMA_VERSION = 2

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
    sink_txn TEXT,
    committed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoint_states (
    pipeline TEXT NOT NULL,
    operator TEXT NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (pipeline, operator)
);
"""


@dataclass(frozen=True)
class Checkpoint:
    """A pipeline's committed position."""

    pipeline: str
    source_table: str
    last_event_id: str
    states: dict[str, bytes]  # operator name -> its serialized state
    sink_txn: Any  # the sink's transaction (decoded JSON), None when it had none
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
        found = self._checkpoints("WHERE pipeline = ?", (pipeline,))
        return found[0] if found else None

    def checkpoints(self) -> list[Checkpoint]:
        return self._checkpoints("", ())

    def _checkpoints(self, where: str, args: tuple[Any, ...]) -> list[Checkpoint]:
        rows = self._db.execute(
            "SELECT pipeline, source_table, last_event_id, sink_txn, committed_at "
            f"FROM checkpoints {where} ORDER BY pipeline",
            args,
        ).fetchall()
        out = []
        for pipeline, table, event_id, txn, at in rows:
            states = {
                op: bytes(state)
                for op, state in self._db.execute(
                    "SELECT operator, state FROM checkpoint_states WHERE pipeline = ?",
                    (pipeline,),
                )
            }
            out.append(
                Checkpoint(pipeline, table, event_id, states, _decode_txn(txn), at)
            )
        return out

    def commit(
        self,
        pipeline: str,
        source_table: str,
        last_event_id: str,
        states: Mapping[str, bytes] | None = None,
        sink_txn: Any = None,
    ) -> None:
        """Record ``last_event_id``, every operator's state (replacing the previous
        entries) and the sink's transaction, in one SQLite transaction."""
        try:
            txn = None if sink_txn is None else json.dumps(sink_txn, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise StateError(
                f"pipeline {pipeline}: the sink's transaction is not JSON ({exc}); this is a "
                "bug in the sink"
            ) from exc
        with self._transaction() as db:
            db.execute(
                "INSERT INTO checkpoints (pipeline, source_table, last_event_id, sink_txn, "
                "committed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (pipeline) DO UPDATE SET "
                "source_table = excluded.source_table, last_event_id = excluded.last_event_id, "
                "sink_txn = excluded.sink_txn, committed_at = excluded.committed_at",
                (pipeline, source_table, last_event_id, txn, time.time()),
            )
            db.execute("DELETE FROM checkpoint_states WHERE pipeline = ?", (pipeline,))
            db.executemany(
                "INSERT INTO checkpoint_states (pipeline, operator, state) VALUES (?, ?, ?)",
                [(pipeline, op, bytes(state)) for op, state in (states or {}).items()],
            )
        self.commits += 1

    def forget_table(self, source_table: str) -> None:
        """Drop the checkpoints of every pipeline reading ``source_table`` (table replaced)."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM checkpoint_states WHERE pipeline IN "
                "(SELECT pipeline FROM checkpoints WHERE source_table = ?)",
                (source_table,),
            )
            db.execute("DELETE FROM checkpoints WHERE source_table = ?", (source_table,))

    def forget_pipeline(self, pipeline: str) -> None:
        """Drop one pipeline's checkpoint (a restart without state)."""
        with self._transaction() as db:
            db.execute("DELETE FROM checkpoint_states WHERE pipeline = ?", (pipeline,))
            db.execute("DELETE FROM checkpoints WHERE pipeline = ?", (pipeline,))

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
        return
    try:
        version = int(row[0])
    except (TypeError, ValueError):
        # Raised as sqlite3.Error so that the caller closes the store and explains.
        raise sqlite3.DatabaseError(
            f"its schema version {row[0]!r} is not a number (the file was edited or is not "
            "Laminar's)"
        ) from None
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"schema version {version} is newer than this Laminar's ({SCHEMA_VERSION}) — "
            "upgrade Laminar"
        )
    if version == 1:
        _migrate_v1(db)


def _migrate_v1(db: sqlite3.Connection) -> None:
    """v1 -> v2: dedup checkpoints become the "dedup" state entry; sink_txn added."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("ALTER TABLE checkpoints ADD COLUMN sink_txn TEXT")
        # The v1 dedup text is exactly what encode_dedup produces (the column stays, unused:
        # it is nullable, and dropping a column needs a table rebuild).
        db.execute(
            "INSERT OR REPLACE INTO checkpoint_states (pipeline, operator, state) "
            "SELECT pipeline, 'dedup', CAST(dedup AS BLOB) FROM checkpoints "
            "WHERE dedup IS NOT NULL AND dedup != '[]'"
        )
        db.execute("UPDATE checkpoints SET dedup = NULL")
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _read_pid(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        return os.pread(fd, 32, 0).decode().strip()
    return ""


def _decode_txn(text: str | None) -> Any:
    return None if text is None else json.loads(text)


# The "dedup" state entry. Keys keep their type across a restart (1 and "1" differ).
_TAGS: dict[type, str] = {str: "s", int: "i", float: "f", bool: "b"}
_UNTAG = {"s": str, "i": int, "f": float, "b": bool}


def encode_dedup(entries: Iterable[tuple[Hashable, int]]) -> bytes:
    """JSON [[tag, key, first_seen_ms], …]; keys of other types are not persisted."""
    out = []
    for key, ms in entries:
        tag = _TAGS.get(type(key))
        if tag is not None:
            out.append([tag, key, ms])
    return json.dumps(out, separators=(",", ":")).encode()


def decode_dedup(data: bytes) -> list[tuple[Hashable, int]]:
    return [(_UNTAG[tag](key), int(ms)) for tag, key, ms in json.loads(data)]


__all__ = [
    "DEFAULT_STATE_DIR",
    "STATE_DIR_ENV",
    "Checkpoint",
    "StateStore",
    "decode_dedup",
    "default_state_dir",
    "encode_dedup",
]
