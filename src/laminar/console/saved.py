"""The console's pipelines survive a restart: ``console-pipelines.json`` in the state dir.

Each pipeline created over the API is saved (id, name, statement, whether it should
run) whenever its life changes; ``laminar serve`` with the same ``--state-dir``
creates them again at start, and those that were running resume after their
committed checkpoints. Without a state store nothing is saved. The file is
written atomically (temporary file, fsync, rename), owner-only like the store.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

FILE_NAME = "console-pipelines.json"
logger = logging.getLogger("laminar.console")


def save(directory: Path, pipelines: list[dict[str, Any]]) -> None:
    path = directory / FILE_NAME
    temporary = path.with_suffix(".tmp")
    data = json.dumps({"version": 1, "pipelines": pipelines}, indent=1).encode()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def load(directory: Path) -> list[dict[str, Any]]:
    """The saved pipelines; [] when there are none or the file cannot be read (warned)."""
    path = directory / FILE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pipelines = data["pipelines"]
        if not isinstance(pipelines, list):
            raise TypeError("pipelines is not a list")
        return [p for p in pipelines if isinstance(p, dict) and isinstance(p.get("sql"), str)]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("%s is unreadable (%s); the console starts without saved pipelines",
                       path, exc)
        return []
