"""The run folder, the same as the built-in trainer's (docs/protocol.md, "The run folder and replay").

::

    <runs>/<yyyymmdd-hhmmss>-<name>/
      config.json      what the run was started with
      events.ndjson    every message of the run, one per line (the live stream, no coalescing)
      summary.json     the final table (the same shape as done.summary)
      checkpoints/     one folder per checkpoint
      link.token, link.json, link.sock   only while listening

``gradcraft replay``, ``gradcraft summary`` and the Runs view read it, live or finished.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import datetime, timezone
from typing import Any

try:  # POSIX: a lock on the event log keeps a second process from writing the same run
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

FILES = {
    "config": "config.json",
    "events": "events.ndjson",
    "summary": "summary.json",
    "checkpoints": "checkpoints",
    "token": "link.token",
    "link_info": "link.json",
    "socket": "link.sock",
}


def run_dir_name(name: str, at: datetime | None = None) -> str:
    """``20260101-120000-my_run``: sortable by time, readable, safe on every file system."""
    at = at or datetime.now(timezone.utc)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:60] or "run"
    return f"{at.astimezone(timezone.utc):%Y%m%d-%H%M%S}-{safe}"


def create_run_dir(runs_root: str, name: str, at: datetime | None = None) -> str:
    """A fresh run folder (with ``checkpoints/``) under ``runs_root``; never an existing one."""
    os.makedirs(runs_root, exist_ok=True)
    base = run_dir_name(name, at)
    for attempt in range(1000):
        path = os.path.join(runs_root, base if attempt == 0 else f"{base}-{attempt + 1}")
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        os.mkdir(os.path.join(path, FILES["checkpoints"]))
        return os.path.abspath(path)
    raise FileExistsError(f"no free run folder name under {runs_root} for {base}")


def write_json(path: str, value: Any) -> None:
    """Writes through a temporary file and a rename: readers see the old file or the new one."""
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(value, file, indent=2, allow_nan=False)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; these files are for every reader
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class RunFolderBusy(RuntimeError):
    """Another process writes this run folder's event log."""


class EventLog:
    """Appends whole lines to ``events.ndjson``.

    Each message is one ``write`` of one complete line on an ``O_APPEND`` descriptor, so readers
    only ever see whole lines (or a torn last line if the process died inside that write, which
    readers skip and report). A log that ends in a torn line is cut back to its last newline
    first. Messages other than steps are flushed to disk (fsync) as they are written: those are
    the ones a crash must not lose. An exclusive lock keeps a second writer out.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.repaired_bytes = _cut_torn_tail(path)
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(self._fd)
                self._fd = None
                raise RunFolderBusy(
                    f"{path} is being written by another process: one run folder takes one trainer at a time"
                ) from None

    def append(self, line: str, important: bool = False) -> None:
        if self._fd is None:
            raise ValueError(f"event log {self.path} is closed")
        data = line.encode("utf-8")
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        if important:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            os.fsync(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None


def _cut_torn_tail(path: str) -> int:
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        return 0
    if size == 0:
        return 0
    with open(path, "r+b") as file:
        end = size
        while end > 0:
            start = max(0, end - 65536)
            file.seek(start)
            block = file.read(end - start)
            at = block.rfind(b"\n")
            if at >= 0:
                keep = start + at + 1
                if keep < size:
                    file.truncate(keep)
                return size - keep
            end = start
        file.truncate(0)
        return size
