"""Token-bucket rate limits: per API key, per client IP, and (much tighter) failed authentications per IP.

Each bucket holds up to a minute's allowance and refills continuously, so a short burst is fine and a sustained
flood is cut to the configured rate. In-process by default (one set of buckets per worker); on Redis when
`OMNICOPILOT_REDIS_URL` is set, so every worker draws from the same buckets. A Redis outage fails open: the
limiter protects the service, it must not take it down.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from typing import Protocol

log = logging.getLogger(__name__)
MAX_BUCKETS = 100_000  # in-process: beyond this many keys/IPs the idlest buckets are forgotten
REDIS_PREFIX = "omnicopilot:rl:"

# KEYS[1] bucket; ARGV: capacity, refill per second, cost. Returns 0 (allowed) or milliseconds to wait.
# The server's clock is used so workers on different hosts agree.
TOKEN_BUCKET_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then tokens = capacity; at = now end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens < 1 then
  wait = math.ceil((1 - tokens) / rate * 1000)
else
  tokens = tokens - cost
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return wait
"""


class Limiter(Protocol):
    def hit(self, bucket: str, *, per_minute: int, cost: int = 1) -> float | None:
        """Take `cost` tokens; None when allowed, else the seconds to wait. `cost=0` only looks."""
        ...

    def close(self) -> None: ...


def wait_seconds(tokens: float, rate_per_s: float) -> float:
    return max((1 - tokens) / rate_per_s, 0.001)


class InProcessLimiter:
    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # bucket -> (tokens, monotonic time)
        self._lock = threading.Lock()

    def hit(self, bucket: str, *, per_minute: int, cost: int = 1) -> float | None:
        capacity, rate = float(per_minute), per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(bucket, (capacity, now))
            tokens = min(capacity, tokens + (now - at) * rate)
            if tokens < 1:
                self._buckets[bucket] = (tokens, now)
                return wait_seconds(tokens, rate)
            self._buckets[bucket] = (tokens - cost, now)
            if len(self._buckets) > MAX_BUCKETS:
                self._forget_idlest()
            return None

    def _forget_idlest(self) -> None:
        # A full bucket carries no information; the oldest touched ones are the cheapest to lose.
        for bucket, _ in sorted(self._buckets.items(), key=lambda kv: kv[1][1])[:MAX_BUCKETS // 10]:
            del self._buckets[bucket]

    def close(self) -> None:
        self._buckets.clear()


class RedisLimiter:
    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._client.register_script(TOKEN_BUCKET_LUA)
        self._warned_at = 0.0

    def hit(self, bucket: str, *, per_minute: int, cost: int = 1) -> float | None:
        try:
            wait_ms = int(self._script(keys=[REDIS_PREFIX + bucket], args=[per_minute, per_minute / 60.0, cost]))
        except Exception as err:  # noqa: BLE001 - any Redis failure: fail open, say so now and then
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                log.warning("rate limits not enforced, Redis unreachable: %s", err)
            return None
        return wait_ms / 1000.0 if wait_ms > 0 else None

    def close(self) -> None:
        self._client.close()


def make_limiter(redis_url: str | None) -> Limiter:
    return RedisLimiter(redis_url) if redis_url else InProcessLimiter()


def retry_after_header(wait_s: float) -> str:
    """Whole seconds, at least 1 (RFC 9110 delay-seconds)."""
    return str(max(1, math.ceil(wait_s)))
