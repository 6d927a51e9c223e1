"""Chooses the engine for a card or suggestions: the offline engine by default, the LLM engine when
configured, with the offline result as the fallback on any error, timeout or invalid output (DESIGN §3)."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import SecretStr

from copilot.engine import offline
from copilot.engine.schemas import CardInsights, HistoryItem, Snippet, SuggestedReply

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class EngineConfig:
    engine: str  # "offline" | "llm"
    api_key: SecretStr | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    timeout_s: float = 8.0


@dataclass
class EngineResult(Generic[T]):
    output: T
    engine: str  # "offline", "llm:<model>", or "offline (llm fallback: <reason>)"
    prompt_version: str | None
    dropped_identifiers: int = 0


def fallback_name(err: Exception) -> str:
    reason = type(err).__name__
    return f"offline (llm fallback: {reason})"


def build_insights(*, config: EngineConfig, items: Sequence[HistoryItem], now: datetime,
                   relevant_ids: Sequence[str] = ()) -> EngineResult[CardInsights]:
    offline_out = offline.analyse(items, now=now, relevant_ids=relevant_ids)
    if config.engine != "llm" or not items:
        return EngineResult(offline_out, "offline", offline.VERSION)
    from copilot.engine.llm import LLMEngine

    try:
        out, dropped, version = LLMEngine(config).insights(items=items, now=now, relevant_ids=relevant_ids,
                                                           offline=offline_out)
        return EngineResult(out, f"llm:{config.model}", version, dropped)
    except Exception as err:  # the agent always gets a card
        log.warning("llm engine failed for the card; using the offline engine: %r", err)
        return EngineResult(offline_out, fallback_name(err), offline.VERSION)


def build_suggestions(*, config: EngineConfig, items: Sequence[HistoryItem], insights: CardInsights,
                      message: str, channel: str, snippets: Sequence[Snippet],
                      customer_name: str | None) -> EngineResult[list[SuggestedReply]]:
    kwargs = dict(items=items, insights=insights, message=message, channel=channel, snippets=snippets,
                  customer_name=customer_name)
    if config.engine == "llm":
        from copilot.engine.llm import LLMEngine

        try:
            out, dropped, version = LLMEngine(config).suggest(**kwargs)
            if out:
                return EngineResult(out, f"llm:{config.model}", version, dropped)
            err: Exception = ValueError("no suggestion")
        except Exception as exc:
            err = exc
        log.warning("llm engine failed for suggestions; using the offline engine: %r", err)
        return EngineResult(offline.suggest(**kwargs), fallback_name(err), offline.VERSION)
    return EngineResult(offline.suggest(**kwargs), "offline", offline.VERSION)
