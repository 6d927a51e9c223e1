"""Layouts refused at start: more than one process on the embedded Chroma index.

Chroma's embedded `PersistentClient` is not process-safe: several processes writing one directory corrupt
it (`InternalError: Error finding id`). So with the embedded index exactly one process opens the data
directory: `serve` (one API process) or a one-shot CLI command, never both, never several. It holds an
advisory lock on a file in the data directory for as long as it runs; the operating system drops it when
the process dies, so a crash never leaves the directory taken. With a Chroma server none of this applies.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path
from typing import IO

from copilot.config import Settings

HOLD_FILE = "in-use.lock"
SERVER_HINT = ("run a Chroma server (`chroma run --path DIR --port 8001`) and set OMNICOPILOT_CHROMA_URL "
               "(plus OMNICOPILOT_DATABASE_URL for PostgreSQL when the processes are on several machines)")


class UnsafeLayout(Exception):
    """A process layout that would corrupt the index; the message says what to do instead."""


def check_layout(settings: Settings, *, api_processes: int = 1, worker: bool = False) -> None:
    if worker and settings.database_url and settings.secret_key is None:
        raise UnsafeLayout("`omnicopilot worker` on a shared database needs OMNICOPILOT_SECRET_KEY, the same in "
                           "every `serve` and worker: connector settings are encrypted with it, and without it "
                           "each data directory makes its own key, which the other processes cannot read.")
    if settings.chroma_url:
        return
    if worker:
        raise UnsafeLayout("`omnicopilot worker` needs a Chroma server: the embedded index in the data directory "
                           "is not process-safe, so only `serve` itself may write it. Either leave "
                           "OMNICOPILOT_BACKGROUND=inprocess and let `serve` do the background work, or "
                           f"{SERVER_HINT}.")
    if api_processes > 1:
        raise UnsafeLayout(f"`serve --workers {api_processes}` needs a Chroma server: the embedded index in the "
                           "data directory is not process-safe, so several API processes would corrupt it. "
                           f"Serve with one process, or {SERVER_HINT}.")
    if settings.background == "workers":
        raise UnsafeLayout("OMNICOPILOT_BACKGROUND=workers needs a Chroma server: `omnicopilot worker` cannot "
                           "share the embedded index with `serve`. Set OMNICOPILOT_BACKGROUND=inprocess, or "
                           f"{SERVER_HINT}.")


class _Hold:
    def __init__(self, handle: IO[str]) -> None:
        self.handle, self.count = handle, 1


_held: dict[Path, _Hold] = {}
_held_lock = threading.Lock()


def hold_data_dir(settings: Settings, *, role: str) -> bool:
    """Take the data directory for this process (re-entrant within it); False when there is nothing to
    hold (a Chroma server is configured). Raises UnsafeLayout when another process has it."""
    if settings.chroma_url:
        return False
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = (settings.data_dir / HOLD_FILE).resolve()
    with _held_lock:
        if path in _held:
            _held[path].count += 1
            return True
        handle = open(path, "a+")  # noqa: SIM115 - held open for as long as this process runs
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise UnsafeLayout(
                f"the data directory {settings.data_dir} is in use by {holder}, and its embedded index may be "
                "open in one process at a time. Go through the running server's API instead (POST "
                "/v1/interactions or /v1/imports to import, GET /v1/customers/{id}/context, POST "
                "/v1/customers/{id}/suggestions), or stop it first; to run both, "
                f"{SERVER_HINT}.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"`omnicopilot {role}` (pid {os.getpid()})\n")
        handle.flush()
        _held[path] = _Hold(handle)
        return True


def release_data_dir(settings: Settings) -> None:
    path = (settings.data_dir / HOLD_FILE).resolve()
    with _held_lock:
        hold = _held.get(path)
        if hold is None:
            return
        hold.count -= 1
        if hold.count == 0:
            del _held[path]
            with contextlib.suppress(OSError):
                fcntl.flock(hold.handle, fcntl.LOCK_UN)
            hold.handle.close()
