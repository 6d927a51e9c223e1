"""Chooses the engine for a card or suggestions: the offline engine by default, the LLM engine when
configured, with the offline result as the fallback on any error, timeout or invalid output (DESIGN §3).

The model never makes the agent wait. With `EngineConfig.background` (what the API uses), a call answers at
once with the offline engine's output and `pending="llm:<model>"`, and the model's version is computed by
`MODEL_JOBS`, a small bounded pool: one job per (history state, task), newest first, each bounded by the
client's timeout. The result (the model's version, or the offline one marked as a fallback) is kept, so the
next call with the same history answers with it, and every listener (the live hub) hears about it to push it
to the agents watching. Without `background` (the CLI, tests) the call waits for the model as before.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import SecretStr

from copilot.engine import offline
from copilot.engine.schemas import CardInsights, Snippet, SuggestedReply
from copilot.interactions.schemas import TimelineItem

log = logging.getLogger(__name__)
T = TypeVar("T")
Task = Literal["card", "suggestions"]
JOB_WORKERS = 2  # a local model server answers one request at a time anyway; a hosted one is the bottleneck
MAX_QUEUED = 16  # jobs waiting for a worker; beyond this the offline version stands ("busy")
RESULTS_KEPT = 1024
# Engine work on one customer is bounded by its input: the newest interactions, within a text budget. Every
# stage is linear in its input, so this bounds the time too, whatever a customer (or a bot loop) has sent.
ENGINE_MAX_ITEMS = 400
ENGINE_MAX_CHARS = 400_000


@dataclass(frozen=True)
class EngineConfig:
    engine: str  # "offline" | "llm"
    api_key: SecretStr | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    timeout_s: float = 8.0
    background: bool = False  # answer at once with the offline engine and compute the model's version later


@dataclass
class EngineResult(Generic[T]):
    output: T
    engine: str  # "offline", "llm:<model>", or "offline (llm fallback: <reason>)"
    prompt_version: str | None
    dropped_identifiers: int = 0
    pending: str | None = None  # "llm:<model>" while the model's version is being computed


@dataclass(frozen=True)
class JobDone:
    """What a listener hears when a model job ends (successfully or with a fallback)."""

    task: Task
    key: Hashable
    result: EngineResult[Any]
    items: Sequence[TimelineItem]  # the history the job read (its newest interaction names the customer)
    context: dict[str, Any] = field(default_factory=dict)  # for suggestions: message, channel, customer_name


Listener = Callable[[JobDone], None]


class ModelJobs:
    """Model calls off the request path: a bounded pool, one job per key, results kept by key."""

    def __init__(self, workers: int = JOB_WORKERS, max_queued: int = MAX_QUEUED) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm-job")
        self._max_queued = max_queued
        self._lock = threading.Lock()
        self._running: dict[Hashable, Future[EngineResult[Any]]] = {}
        self._queued_by_group: dict[Hashable, Hashable] = {}  # the group's newest queued job
        self._results: OrderedDict[Hashable, EngineResult[Any]] = OrderedDict()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def result(self, key: Hashable) -> EngineResult[Any] | None:
        with self._lock:
            found = self._results.get(key)
            if found is not None:
                self._results.move_to_end(key)
            return found

    def is_pending(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._running

    def submit(self, key: Hashable, group: Hashable, work: Callable[[], EngineResult[Any]],
               done: Callable[[EngineResult[Any]], JobDone]) -> bool:
        """Queue `work` unless the same key is already queued or done. A queued job of the same group (the same
        customer and task, an older history) is cancelled: nobody will read its answer. False when full."""
        with self._lock:
            if key in self._running or key in self._results:
                return True
            older = self._queued_by_group.get(group)
            if older is not None and older in self._running and self._running[older].cancel():
                del self._running[older]
            if len(self._running) >= self._max_queued:
                return False
            future = self._pool.submit(self._run, key, group, work, done)
            self._running[key] = future
            self._queued_by_group[group] = key
            return True

    def _run(self, key: Hashable, group: Hashable, work: Callable[[], EngineResult[Any]],
             done: Callable[[EngineResult[Any]], JobDone]) -> EngineResult[Any]:
        with self._lock:
            if self._queued_by_group.get(group) == key:
                del self._queued_by_group[group]  # started: no longer cancellable
        try:
            result = work()
        except Exception as err:  # work() already falls back; this is a bug guard, never a lost key
            log.exception("model job failed")
            result = done_fallback(err)
        with self._lock:
            self._results[key] = result
            self._results.move_to_end(key)
            while len(self._results) > RESULTS_KEPT:
                self._results.popitem(last=False)
            self._running.pop(key, None)
            listeners = list(self._listeners)
        if listeners:
            event = done(result)
            for listener in listeners:
                try:
                    listener(event)
                except Exception:  # one broken listener must not stop the others
                    log.exception("model job listener failed")
        return result

    def wait(self, key: Hashable, timeout_s: float) -> EngineResult[Any] | None:
        """The job's result once it ends (tests and the CLI; never the request path)."""
        with self._lock:
            future = self._running.get(key)
        if future is not None:
            try:
                future.result(timeout=timeout_s)
            except Exception:  # cancelled or timed out: whatever is kept is the answer
                log.debug("model job %r did not end in time", key)
        return self.result(key)

    def wait_idle(self, timeout_s: float) -> bool:
        """Until no job is queued or running (tests and shutdown; never the request path). False on timeout."""

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                futures = list(self._running.values())
            if not futures:
                return True
            for future in futures:
                try:
                    future.result(timeout=max(0.0, deadline - time.monotonic()))
                except Exception:  # cancelled or timed out: the loop looks again
                    log.debug("model job ended without a result")
        return False

    def clear(self) -> None:
        with self._lock:
            self._results.clear()


MODEL_JOBS = ModelJobs()


def done_fallback(err: Exception) -> EngineResult[Any]:
    return EngineResult(None, fallback_name(err), None)


def fallback_name(err: Exception) -> str:
    reason = type(err).__name__
    return f"offline (llm fallback: {reason})"


def history_state(items: Sequence[TimelineItem]) -> tuple[int, str | None]:
    """What changes when the history changes: a new interaction is always the newest or adds to the count."""
    return len(items), items[-1].interaction_id if items else None


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def card_job_key(config: EngineConfig, items: Sequence[TimelineItem], now: datetime) -> tuple[Any, ...]:
    # The date matters: "overdue" and relative dues change at midnight.
    return ("card", config.base_url, config.model, *history_state(items), now.date().isoformat())


def suggestion_job_key(config: EngineConfig, items: Sequence[TimelineItem], message: str,
                       channel: str) -> tuple[Any, ...]:
    return ("suggestions", config.base_url, config.model, *history_state(items), _text_key(message), channel)


def engine_window(items: Sequence[TimelineItem]) -> Sequence[TimelineItem]:
    """The newest interactions that fit both caps, oldest first (the newest always, even if alone too long)."""
    kept, budget = 0, ENGINE_MAX_CHARS
    for item in reversed(items[-ENGINE_MAX_ITEMS:]):
        budget -= len(item.text) + len(item.subject or "")
        if budget < 0 and kept:
            break
        kept += 1
    return items[len(items) - kept:]


def _group(task: Task, items: Sequence[TimelineItem]) -> tuple[str, str | None]:
    # The oldest interaction stays the same as the history grows: it stands for the customer.
    return task, items[0].interaction_id if items else None


def _finished(result: EngineResult[Any], offline_out: Any) -> EngineResult[Any]:
    """A kept result with its output filled in (a fallback kept by `_run` has none)."""
    if result.output is None:
        return EngineResult(offline_out, result.engine, offline.VERSION)
    return result


def build_insights(*, config: EngineConfig, items: Sequence[TimelineItem], now: datetime,
                   relevant_ids: Sequence[str] = ()) -> EngineResult[CardInsights]:
    window = engine_window(items)  # what the engines read; the job keys stay those of the whole history
    offline_out = offline.analyse(window, now=now, relevant_ids=relevant_ids)
    if config.engine != "llm" or not items:
        return EngineResult(offline_out, "offline", offline.VERSION)

    def work() -> EngineResult[CardInsights]:
        from copilot.engine.llm import LLMEngine

        try:
            out, dropped, version = LLMEngine(config).insights(items=window, now=now, relevant_ids=relevant_ids,
                                                               offline=offline_out)
            return EngineResult(out, f"llm:{config.model}", version, dropped)
        except Exception as err:  # the agent always gets a card
            log.warning("llm engine failed for the card; the offline card stays: %r", err)
            return EngineResult(offline_out, fallback_name(err), offline.VERSION)

    if not config.background:
        return work()
    key = card_job_key(config, items, now)
    kept = MODEL_JOBS.result(key)
    if kept is not None:
        return _finished(kept, offline_out)
    queued = MODEL_JOBS.submit(key, _group("card", items), work,
                               lambda result: JobDone("card", key, _finished(result, offline_out), items))
    if not queued:
        return EngineResult(offline_out, "offline (llm fallback: busy)", offline.VERSION)
    return EngineResult(offline_out, "offline", offline.VERSION, pending=f"llm:{config.model}")


def build_suggestions(*, config: EngineConfig, items: Sequence[TimelineItem], insights: CardInsights,
                      message: str, channel: str, snippets: Sequence[Snippet],
                      customer_name: str | None) -> EngineResult[list[SuggestedReply]]:
    kwargs: dict[str, Any] = dict(items=engine_window(items), insights=insights, message=message, channel=channel,
                                  snippets=snippets, customer_name=customer_name)
    if config.engine != "llm":
        return EngineResult(offline.suggest(**kwargs), "offline", offline.VERSION)
    offline_out = offline.suggest(**kwargs)

    def work() -> EngineResult[list[SuggestedReply]]:
        from copilot.engine.llm import LLMEngine

        try:
            out, dropped, version = LLMEngine(config).suggest(**kwargs)
            if out:
                return EngineResult(out, f"llm:{config.model}", version, dropped)
            err: Exception = ValueError("no suggestion")
        except Exception as exc:
            err = exc
        log.warning("llm engine failed for suggestions; the offline replies stay: %r", err)
        return EngineResult(offline_out, fallback_name(err), offline.VERSION)

    if not config.background:
        return work()
    key = suggestion_job_key(config, items, message, channel)
    kept = MODEL_JOBS.result(key)
    if kept is not None:
        return _finished(kept, offline_out)
    context = {"message": message, "channel": channel, "customer_name": customer_name}
    queued = MODEL_JOBS.submit(key, _group("suggestions", items), work,
                               lambda result: JobDone("suggestions", key, _finished(result, offline_out), items,
                                                      context))
    if not queued:
        return EngineResult(offline_out, "offline (llm fallback: busy)", offline.VERSION)
    return EngineResult(offline_out, "offline", offline.VERSION, pending=f"llm:{config.model}")
