"""The event bus behind live pushes: in-process by default, Redis pub/sub across workers when configured.

Events are plain dicts with at least `type` and `tenant`; subscribers get every event published in
any worker and filter by tenant themselves (the WebSocket layer never forwards across tenants).
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
Event = dict[str, Any]
Subscriber = Callable[[Event], None]
CHANNEL = "omnicopilot:events"


class EventBus:
    """In-process fan-out; also the base of the Redis bus (which adds cross-process delivery)."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event: Event) -> None:
        self._deliver(event)

    def _deliver(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:  # one broken subscriber must not stop the others
                log.exception("event subscriber failed")

    def close(self) -> None:
        pass


class RedisEventBus(EventBus):
    """Publishes to a Redis channel; a listener thread delivers what any worker published."""

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis

        self._redis = redis.Redis.from_url(url)
        self._redis.ping()
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(CHANNEL)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="redis-events", daemon=True)
        self._thread.start()

    def publish(self, event: Event) -> None:
        self._redis.publish(CHANNEL, json.dumps(event, default=str))

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._pubsub.get_message(timeout=0.5)
            except Exception:
                log.exception("redis event listener failed; retrying")
                self._stop.wait(1.0)
                continue
            if message and message.get("type") == "message":
                try:
                    self._deliver(json.loads(message["data"]))
                except ValueError:
                    log.warning("ignoring a malformed event on %s", CHANNEL)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._pubsub.close()
        self._redis.close()


def make_bus(redis_url: str | None) -> EventBus:
    return RedisEventBus(redis_url) if redis_url else EventBus()
