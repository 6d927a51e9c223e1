"""Extractive summary: the open problem first, then what agents promised and did (with dates), what the
customer tried, then the identifiers. Plain text, at most 120 words, every sentence from the history."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from copilot.engine.offline.text import Sentence
from copilot.engine.schemas import Fact, HistoryItem

if TYPE_CHECKING:
    from copilot.engine.offline.analyse import MergedFact, ScoredSentence

SUMMARY_WORDS = 120


def _words(text: str) -> int:
    return len(text.split())


def _trim(text: str, max_words: int) -> str:
    words = text.split()
    if len(words) <= max_words:
        return text
    return " ".join(words[:max_words]).rstrip(",;:") + "…"


def _budget(items: list[HistoryItem]) -> int:
    total = sum(_words(i.text) for i in items)
    # short exchanges (a tweet thread) get a short summary; long multi-channel histories use all 120 words
    return max(30, min(SUMMARY_WORDS, int(total * 0.22)))


def build_summary(items: list[HistoryItem], sentences: list[Sentence], scored: list[ScoredSentence],
                  facts: list[Fact], merged: list[MergedFact], used_sentences: set[int],
                  relevant: dict[str, float]) -> str:
    from copilot.engine.offline.analyse import _display_name, _short_date, problem_score

    budget = _budget(items)
    parts: list[str] = []
    used = 0

    def take(text: str, limit: int | None = None) -> bool:
        nonlocal used
        room = budget - used
        if room <= 3:
            return False
        text = _trim(text, min(room, limit or room))
        parts.append(text)
        used += _words(text)
        return True

    customer = [s for s in scored if s.sentence.speaker == "customer" and s.kind in {"problem", "tried"}]
    latest_customer = next((i for i in reversed(items) if i.direction == "inbound"), None)
    first_customer = next((s for s in sentences if s.speaker == "customer" and _words(s.text) >= 4), None)
    channels = {i.channel for i in items}
    long_mode = len(channels) >= 2 or sum(_words(i.text) for i in items) > 400
    if not long_mode:
        if first_customer is not None:
            opening = [s for s in sentences if s.item is first_customer.item and s.speaker == "customer"]
            take("Customer: " + " ".join(s.text for s in opening[:2]), limit=30)
        agent_sentences = sorted((s for s in scored if s.kind in {"promise", "action"}), key=lambda s: -s.score)
        picks = sorted(agent_sentences[:2], key=lambda s: s.sentence.order)
        if picks:
            picks_text = [s.sentence.text for s in picks]
        else:
            picks_text = [s.text for s in sentences if s.speaker == "agent" and _words(s.text) >= 4][:2]
        if picks_text:
            take("Agent: " + " ".join(picks_text))
        return _finish(parts)

    budget = SUMMARY_WORDS
    # 1. the open problem, in the customer's latest words, and what they first reported
    if latest_customer is not None:
        latest = [s for s in customer if s.sentence.item is latest_customer]
        latest.sort(key=lambda s: -problem_score(s.sentence.text))
        if latest:
            take("Open: " + latest[0].sentence.text, limit=28)
    first_item = first_customer.item if first_customer else None
    if first_item is not None and first_item is not latest_customer:
        first = [s for s in customer if s.sentence.item is first_item and s.kind == "problem"]
        first.sort(key=lambda s: -problem_score(s.sentence.text))
        if first:
            take(f"First reported {_short_date(first_item.occurred_at)}: {first[0].sentence.text}", limit=24)
    # 2. identifiers, amounts, dates and names the facts list has no room for (kept for the end)
    fact_text = " ".join(f.value for f in facts).lower()
    refs: list[str] = []
    for m in merged:
        # An address written once is one the customer gave (a recipient, a new address); the customer's own
        # shows up again and again in forms and signatures and is on the card already.
        if (m.kind == "email" and m.mentions > 1) or m.strength < 0.3 or m.value.lower() in fact_text:
            continue
        if m.kind == "person" and any(w in (i.author_name or "") for i in items for w in m.value.split()[1:]):
            continue
        if m.value not in refs:
            refs.append(m.value)
    refs_text = "Also: " + "; ".join(refs) if refs else ""
    refs_words = min(_words(refs_text), 45)
    # 3. promises and actions not already in the facts, with who and when
    agent_sentences = sorted((s for s in scored if s.kind in {"promise", "action"}), key=lambda s: -s.score)
    fresh = [s for s in agent_sentences if s.sentence.order not in used_sentences]
    budget = SUMMARY_WORDS - refs_words
    for s in fresh:
        text = f"{_display_name(s.sentence)} ({_short_date(s.sentence.item.occurred_at)}): {s.sentence.text}"
        if _words(text) > budget - used:
            continue
        take(text, limit=34)
    tried = [s for s in scored if s.kind == "tried" and s.sentence.order not in used_sentences]
    tried.sort(key=lambda s: -s.score)
    if tried and _words(tried[0].sentence.text) + 1 <= budget - used:
        take("Tried: " + tried[0].sentence.text, limit=25)
    # 4. room left: more of what the customer told us (the details they should never have to repeat)
    told = [s for s in customer if s.kind == "problem" and _words(s.sentence.text) >= 6
            and s.sentence.text not in " ".join(parts)]
    told.sort(key=lambda s: -problem_score(s.sentence.text))
    for s in told:
        if budget - used < 8:
            break
        if _words(s.sentence.text) + 3 <= budget - used:
            take(f"Customer ({_short_date(s.sentence.item.occurred_at)}): {s.sentence.text}")
    budget = SUMMARY_WORDS
    if refs_text:
        take(refs_text)
    return _finish(parts)


def _finish(parts: list[str]) -> str:
    text = " ".join(p if re.search(r"[.!?…]$", p) else p + "." for p in parts)
    words = text.split()
    return " ".join(words[:SUMMARY_WORDS]) if words else "No previous interactions."
