"""Stage 4 of the card (DESIGN §3): a summary a person would write, in at most 120 words.

Who the customer is, the problem in their words, what was done, what is still open and the next step, each a
whole sentence with its speaker, from per-language templates (data/card_summary.json; English when the
history mixes languages or the language has no templates). Quoted sentences are whole, superseded values
masked; a sentence that does not fit is left out, never cut.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from copilot.engine.offline.segment import Turn, rx
from copilot.engine.offline.state import Commitment, problem_score
from copilot.engine.offline.text import split_sentences

SUMMARY_WORDS = 120
QUOTE_WORDS = 32
DATA = Path(__file__).parent / "data"
ACTION = re.compile(
    r"\b(?:i(?:'ve| have)|we(?:'ve| have)|has been|have been|was|were|is now|are now)\s+(?:also\s+|just\s+|already\s+|"
    r"now\s+)?(?:issued|submitted|added|opened|escalated|requested|scheduled|credited|refunded|waived|reserved|"
    r"applied|created|filed|placed|sent|set up|booked|extended|noted|flagged|reversed|processed|arranged|approved|"
    r"cancell?ed|updated|confirmed|removed|reactivated|restored|rebooked|moved|assigned|corrected|adjusted|"
    r"released|re-?opened|closed|denied|replaced|raised|verified|changed|transferred|forwarded|logged|ordered|"
    r"countersigned|attached|posted|received|found)\b"
    r"|\b(?:he |hemos |j'ai |nous avons |ich habe |wir haben |eu |nós |já )\w+",
    re.IGNORECASE)


@cache
def templates() -> dict[str, dict[str, Any]]:
    return json.loads((DATA / "card_summary.json").read_text(encoding="utf-8"))


def words(text: str) -> int:
    return len(text.split())


def short_date(dt: datetime, lang: str) -> str:
    if lang in {"es", "fr", "de", "pt"}:
        return f"{dt.day}/{dt.month:02d}" if lang != "de" else f"{dt.day}.{dt.month:02d}."
    return f"{dt.strftime('%b')} {dt.day}"


@dataclass
class SummaryInput:
    turns: list[Turn]
    promises_open: list[Commitment]
    requests_open: list[Commitment]
    waiting: Turn | None
    waiting_sentence: str | None
    customer_name: str | None
    lang: str
    mask: Callable[[str], str]
    references: list[str]
    fulfilled: list[Commitment] = field(default_factory=list)  # kept promises: what was done, in the record's words
    facts_text: str = ""  # the card's fact values: the summary spends its words on what they do not show


def _speaker(turn: Turn, t: dict[str, Any]) -> str:
    # an inbound item's author is the customer: an agent's line in it is named by its own label only
    own = turn.item.author_name if turn.item.direction != "inbound" else None
    name = re.sub(r"\s*\(.*?\)\s*", " ", turn.name or own or "").strip()
    if turn.internal:
        return t["internal"].format(name=name or "—")
    if turn.role == "system":
        return t["system"]
    if turn.role == "bot":
        return t["bot"]
    return t["agent"].format(name=name) if name else t["the_agent"]


def _quotable(text: str) -> bool:
    return 4 <= words(text) <= QUOTE_WORDS and not rx("acknowledgement").match(text)


def _join(values: list[str], t: dict[str, Any]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + f" {t['and']} " + values[-1]


def summarise(s: SummaryInput) -> str:
    t = templates().get(s.lang) or templates()["en"]
    lang = s.lang if s.lang in templates() else "en"
    body = [turn for turn in s.turns if turn.speaks and turn.sentences]
    customer_turns = [turn for turn in body if turn.role == "customer"]
    total_words = sum(words(turn.text) for turn in body)
    short = len({turn.item.channel for turn in body}) == 1 and total_words < 400 and len(s.turns) < 14
    parts: list[tuple[int, str] | tuple[int, str, str]] = []  # (priority, sentence[, group]), in order added

    def q(text: str) -> str:
        return s.mask(text).strip().rstrip()

    if short:
        first = next((turn for turn in customer_turns), None)
        if first is not None:
            opening = [x for x in first.sentences if _quotable(x)][:2] or first.sentences[:1]
            parts.append((0, t["customer_says"].format(text=q(" ".join(opening)))))
        agent = [turn for turn in body if turn.role == "agent"]
        scored: list[tuple[float, str]] = []
        for turn in agent:
            for x in turn.sentences:
                if not _quotable(x):
                    continue
                score = 1.0 + (1.0 if ACTION.search(x) or rx("promise").search(x) else 0.0) \
                    + 0.3 * (turn is agent[-1]) + (0.5 if re.search(r"\b(?:DM|call|contact|reach|visit|send)\b", x,
                                                                   re.I) else 0.0)
                scored.append((score, x))
        if scored:
            best = max(scored, key=lambda p: p[0])[1]
            key = "agent_asks" if best.rstrip().endswith("?") else "agent_says"
            parts.append((1, t[key].format(text=q(best))))
        return _finish([p[1] for p in parts])

    # who
    inbound = {turn.item.interaction_id for turn in customer_turns}
    channels = [t["channels"].get(c, c) for c in dict.fromkeys(turn.item.channel for turn in customer_turns)]
    if s.customer_name and customer_turns:
        key = "who" if len(inbound) > 1 else "who_short"
        parts.append((3, t[key].format(name=s.customer_name, n=len(inbound),
                                       date=short_date(customer_turns[0].item.occurred_at, lang),
                                       channels=_join(channels, t) if channels else "")))
    # the problem, in the customer's first words that state it
    # the problem: the customer's sentence that states a problem and shares the most with their latest need
    latest_words = _content(s.waiting_sentence or "") | _content(" ".join(c.text for c in s.promises_open))
    first_problem = None
    best = 0.0
    cue = rx("correction_cue")
    for turn in customer_turns:
        if s.waiting is not None and turn.item is s.waiting.item:
            continue
        for x in turn.sentences:
            if not _quotable(x) or cue.search(x) or problem_score(x) <= 0.5:
                continue
            score = problem_score(x) + 1.5 * len(_content(x) & latest_words) - 0.02 * turn.index
            if score > best:
                best, first_problem = score, (turn, x)
    if first_problem:
        turn, text = first_problem
        parts.append((2, t["customer_reported"].format(date=short_date(turn.item.occurred_at, lang), text=q(text))))
    # what was done: the agents' actions, most informative first, told to the customer (not notes)
    done: list[tuple[float, Turn, str]] = []
    for turn in body:
        if turn.role != "agent":
            continue
        for x in turn.sentences:
            # notes are written as "Replaced the splitter", "Opened ticket ...": a past verb first is an action
            action = ACTION.search(x) or (turn.internal and re.match(r"[A-Z][a-z]+ed\b", x))
            if _quotable(x) and action and not x.rstrip().endswith("?"):
                info = len(re.findall(r"\d", x)) ** 0.5 * 0.2 + (0.4 if re.search(r"[A-Z]{2,}-?\d", x) else 0)
                done.append((1.0 + info - (0.3 if turn.internal else 0.0), turn, x))
    # a kept promise is best told by the message that reported it ("Your refund of $40 has been issued")
    for c in s.fulfilled:
        by = c.closed_by or ""
        # a system notice may be a record line ("[App inbox] Your order has been delivered") with no sentences
        turn = next((x for x in s.turns if by and (by in x.sentences or by == x.text) and x.role in {"agent", "system"}
                     and not x.internal), None)
        if turn is not None and not _quotable(by):
            # a long record: its sentence that reports the thing done
            by = next((x for x in split_sentences(re.sub(r"^\s*\[[^\]]*\]\s*", "", by))
                       if _quotable(x) and rx("fulfilled").search(x)), by)
        if turn is not None and _quotable(by) and not by.rstrip().endswith("?"):
            info = len(re.findall(r"\d", by)) ** 0.5 * 0.2
            done.append((1.6 + info, turn, by))
    done.sort(key=lambda d: -d[0])
    done = [d for k, d in enumerate(done) if all(d[2] != e[2] for e in done[:k])]
    open_text = " ".join(c.text for c in s.promises_open)
    done = [d for d in done if d[2] not in open_text]  # told once, as the open promise it belongs to
    # what the facts list already shows (ids, amounts, "issued a $9 credit") is not told again
    done = [d for d in done if d[0] >= 1.6 or _covered(d[2], s.facts_text) < COVERED]
    for score, turn, x in sorted(done[:4], key=lambda d: d[1].index):
        # a kept promise (scored from 1.6) tells the current state: it outranks the older context
        parts.append((2 if score >= 1.6 else 4, t["agent_did"].format(date=short_date(turn.item.occurred_at, lang),
                                               agent=_speaker(turn, t), text=q(x))))
    # what only the team knows: the latest internal notes' most informative sentence (agent-facing, never a reply)
    notes = [turn for turn in body if turn.internal]
    for turn in notes[-2:]:
        candidates = [x for x in turn.sentences if _quotable(x) and not x.rstrip().endswith("?")
                      and _covered(x, s.facts_text) < COVERED]
        if candidates:
            best_note = max(candidates, key=_note_info)
            parts.append((3, t["note"].format(date=short_date(turn.item.occurred_at, lang), text=q(best_note))))
    # what is open
    for c in s.promises_open[-2:]:
        text = c.text if words(c.text) <= QUOTE_WORDS else c.sentence
        if words(text) > QUOTE_WORDS:
            continue
        sentence = t["open_promise"].format(agent=_speaker(c.turn, t),
                                            date=short_date(c.turn.item.occurred_at, lang), text=q(text))
        if c.due and c.due.lower() not in text.lower():
            sentence += " " + (t["open_overdue"] if _overdue(c) else t["open_due"]).format(due=c.due)
        parts.append((1, sentence))
    for c in s.requests_open[-1:]:
        obj = next(iter(sorted(c.objects)), "info")
        parts.append((5, t["open_request"].format(object=t["objects"].get(obj, obj))))
    # the latest need and the next step
    if s.waiting is not None and s.waiting_sentence:
        # with room, the latest message's other sentence that states the need ("it still says mismatch")
        others = [x for x in s.waiting.sentences if x != s.waiting_sentence and _quotable(x)
                  and problem_score(x) > 0.5 and words(x) + words(s.waiting_sentence) <= QUOTE_WORDS + 8]
        date = short_date(s.waiting.item.occurred_at, lang)
        if others:
            extra = max(others, key=problem_score)
            pair = [x for x in s.waiting.sentences if x in {extra, s.waiting_sentence}]
            parts.append((0, t["latest"].format(date=date, text=q(" ".join(pair))), "latest"))
        parts.append((0, t["latest"].format(date=date, text=q(s.waiting_sentence)), "latest"))
    overdue = [c for c in s.promises_open if _overdue(c)]
    if overdue:
        parts.append((2, t["next_overdue"]))
    elif s.requests_open:
        obj = next(iter(sorted(s.requests_open[-1].objects)), "info")
        parts.append((5, t["next_request"].format(object=t["objects"].get(obj, obj))))
    elif s.promises_open and s.promises_open[-1].due:
        parts.append((3, t["next_promise"].format(due=s.promises_open[-1].due)))
    elif s.waiting is not None:
        parts.append((4, t["next_answer"]))
    if s.references and not parts:
        parts.append((6, t["references"].format(values=", ".join(s.references[:6]))))
    # keep the most important sentences that fit, in the order written
    kept: list[int] = []
    groups: set[str] = set()
    budget = SUMMARY_WORDS
    for i in sorted(range(len(parts)), key=lambda i: parts[i][0]):
        n = words(parts[i][1])
        group = parts[i][2] if len(parts[i]) > 2 else None  # type: ignore[misc]
        if n <= budget and (group is None or group not in groups):
            kept.append(i)
            budget -= n
            if group:
                groups.add(group)
    return _finish([parts[i][1] for i in sorted(kept)])


def _note_info(text: str) -> float:
    """How much a note sentence tells: dates, ids and figures, a changed plan, what the customer was not told."""
    score = len(re.findall(r"\d", text)) ** 0.5 * 0.3 + 0.5 * len(re.findall(r"\b[A-Z]{2,}[-\w]*", text)) ** 0.5
    score += 1.0 if rx("replaced").search(text) or rx("negation").search(text) else 0.0
    return score - 0.02 * words(text)


COVERED = 0.6  # share of a sentence's content words the facts already show: above it, the sentence is a repeat


def _covered(text: str, facts_text: str) -> float:
    words_ = _content(text)
    if not words_ or not facts_text:
        return 0.0
    shown = _content(facts_text)
    return len(words_ & shown) / len(words_)


def _content(text: str) -> set[str]:
    return {w for w in re.findall(r"[^\W\d_]{4,}|\w*\d\w*", text.lower())}


def _overdue(c: Commitment) -> bool:
    return c.overdue


def _finish(parts: list[str]) -> str:
    text = " ".join(p if re.search(r"[.!?…”»“]$", p) else p + "." for p in parts if p)
    words_ = text.split()
    if len(words_) > SUMMARY_WORDS:  # never reached by construction; a hard stop at a sentence end
        text = " ".join(words_[:SUMMARY_WORDS])
        cut = max(text.rfind(". "), text.rfind("” "))
        text = text[:cut + 1] if cut > 0 else text
    return text or "No previous interactions."
