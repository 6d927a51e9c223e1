"""Long-lived connections end when their key does: one query every few seconds for every open connection.

    watcher = KeyWatcher(services.db).start()           # once, inside the running event loop
    forget = watcher.register(principal.key_id, close)  # per connection; `close` may be a coroutine function
    ...
    forget()                                            # when the connection ends
    watcher.stop()
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from copilot.auth.service import inactive_key_ids
from copilot.database.core import Database

log = logging.getLogger(__name__)
CHECK_EVERY_S = 2.0

OnInactive = Callable[[], Any]


class KeyWatcher:
    def __init__(self, db: Database, *, every_s: float = CHECK_EVERY_S) -> None:
        self.db = db
        self.every_s = every_s
        self._callbacks: dict[str, set[OnInactive]] = defaultdict(set)
        self._task: asyncio.Task | None = None

    def register(self, key_id: str, on_inactive: OnInactive) -> Callable[[], None]:
        """Call `on_inactive` once when the key is revoked or expires; returns the function that unregisters."""
        self._callbacks[key_id].add(on_inactive)

        def forget() -> None:
            found = self._callbacks.get(key_id)
            if found is not None:
                found.discard(on_inactive)
                if not found:
                    del self._callbacks[key_id]

        return forget

    def _inactive(self, key_ids: list[str]) -> set[str]:
        with self.db.session() as session:
            return inactive_key_ids(session, key_ids)

    async def check_now(self) -> int:
        """Call back for every registered key no longer active; returns how many callbacks ran."""
        if not self._callbacks:
            return 0
        loop = asyncio.get_running_loop()
        inactive = await loop.run_in_executor(None, self._inactive, list(self._callbacks))
        called = 0
        for key_id in inactive:
            for callback in self._callbacks.pop(key_id, set()):
                called += 1
                try:
                    result = callback()
                    if inspect.isawaitable(result):
                        await result
                except Exception:  # one connection failing to close must not spare the others
                    log.exception("closing a connection of revoked key %s failed", key_id)
        return called

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.check_now()
            except Exception:  # noqa: BLE001 - a database hiccup: try again at the next tick
                log.warning("could not check keys of open connections", exc_info=True)

    def start(self) -> KeyWatcher:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def stop(self) -> None:
        if self._task is not None:
            with contextlib.suppress(RuntimeError):  # the loop may be closed already
                self._task.cancel()
            self._task = None
