"""Requests come before background indexing in one process.

On a small machine the indexer's embedding takes every core, and an agent's card or replies (which embed too)
would wait behind whole batches of it: measured here, a suggestion took 1 to 5 s while a fresh history of
4,400 records was being indexed, against 0.1 s after. So the API marks each request it is serving, and the
indexer embeds in small chunks and, before each one, waits until no request is in flight. It never waits
longer than `max_wait_s` at a time, so a steady stream of requests slows indexing but cannot stop it.
A `worker` process serves no requests: its gate is always open.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class ForegroundGate:
    def __init__(self, max_wait_s: float = 1.0) -> None:
        self.max_wait_s = max_wait_s
        self._in_flight = 0
        self._idle = threading.Condition()

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Around a request: background work holds back until it is answered."""
        with self._idle:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                if not self._in_flight:
                    self._idle.notify_all()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def wait_idle(self) -> bool:
        """Blocks while requests are in flight, at most `max_wait_s`; True if it found the process idle."""
        deadline = time.monotonic() + self.max_wait_s
        with self._idle:
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True
