"""Stage 2c of the card (DESIGN §3): what an agent did, as short phrases ("replaced the splitter", "waived the fee").

The `tried` facts say what the customer already did; `action` facts say what the company's side did, from agent
lines and internal notes (the card is agent-facing: notes inform the agent, they are never pasted into a reply).
An action is a past verb (or an action under way: "I'm waiving ...") with its object, at most five words, cut at
the clause boundary and ended on a content word: "I've also issued a $9 credit to your account" -> "issued a $9
credit". Notes are written without a subject ("Replaced hinge + new screws"): a past verb that opens a note's
sentence is an action too. Word lists: data/card_actions.json.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from copilot.engine.offline.segment import Turn

DATA = Path(__file__).parent / "data"
MAX_WORDS = 5
TOKEN = re.compile(r"[$€£]?[\w'’/.,-]*\w%?|[^\w\s]")
TRAILING = frozenset({"a", "an", "the", "to", "for", "in", "on", "at", "of", "with", "from", "by", "my", "your",
                      "our", "their", "his", "her", "its", "into", "onto", "per", "via", "as", "about", "over",
                      "under", "after", "before", "until", "through", "between", "within", "against", "across"})


@cache
def action_data() -> dict[str, Any]:
    return json.loads((DATA / "card_actions.json").read_text(encoding="utf-8"))


@cache
def _res() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    d = action_data()
    past = rf"(?:[a-z][a-z-]*[a-z]ed|{'|'.join(re.escape(w) for w in d['irregular'])})"
    subject = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(d["first_person"], key=len, reverse=True))
    adverb = r"(?:\s+(?:also|just|already|now|then|manually|personally|finally|since|\w+ly))*"
    first = re.compile(rf"\b(?:{subject}){adverb}\s+(?P<verb>{past})\b|\band{adverb}\s+(?P<verb2>{past})\b",
                       re.IGNORECASE)
    aux = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(d["passive"], key=len, reverse=True))
    passive = re.compile(rf"\b(?:{aux}){adverb}\s+(?P<verb>{past})\b", re.IGNORECASE)
    prog = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(d["progressive"], key=len, reverse=True))
    progressive = re.compile(rf"(?<!\w)(?:{prog}){adverb}\s+(?P<verb>[a-z]{{3,}}ing)\b", re.IGNORECASE)
    opening = re.compile(rf"^\s*(?P<verb>[A-Z](?:[a-z][a-z-]*[a-z]ed|{'|'.join(w[1:] for w in d['irregular'])}))\b"
                         r"(?!\s*:)")
    return first, passive, progressive, opening


NOT_UNDER_WAY = frozenset({"going", "trying", "looking", "seeing", "calling", "reaching", "writing", "following",
                           "getting", "having", "doing", "being", "working", "wondering", "hoping", "thinking",
                           "glad", "happy", "checking", "reviewing", "waiting", "asking", "showing", "pulling",
                           "bringing", "taking", "coming", "leaving", "afraid", "aware", "sorry"})


@dataclass
class Action:
    value: str
    turn: Turn
    sentence: str
    score: float


def _object(tokens: list[str]) -> list[str]:
    """The words after the verb up to the clause boundary, at most MAX_WORDS - 1, ending on a content word."""
    d = action_data()
    stop = set(d["stop"])
    out: list[str] = []
    for tok in tokens:
        if len(out) >= MAX_WORDS - 1 or tok.lower() in stop or re.fullmatch(r"[^\w$€£]", tok):
            break
        out.append(tok)
    while out and (out[-1].lower() in TRAILING or out[-1].lower() in AUXILIARIES):
        out.pop()
    return out


AUXILIARIES = frozenset({"is", "are", "was", "were", "be", "been", "has", "have", "had", "will", "would", "can",
                         "could", "should", "it's", "that's"})


def action_phrases(sentence: str, note: bool = False) -> list[str]:
    """Each action of one sentence, as "verb object" (at most five words)."""
    if sentence.rstrip().endswith("?") or re.match(r"\s*(?:if|when|once|unless)\b", sentence, re.IGNORECASE):
        return []
    first, passive, progressive, opening = _res()
    not_verbs = set(action_data()["not_verbs"])
    pronouns = set(action_data()["pronouns"])
    found: list[tuple[int, str]] = []
    matches = [(m, "verb2" if m.group("verb2") else "verb") for m in first.finditer(sentence)]
    matches += [(m, "verb") for m in passive.finditer(sentence)]
    matches += [(m, "verb") for m in progressive.finditer(sentence)
                if m.group("verb").lower() not in NOT_UNDER_WAY]
    if note:
        states = set(action_data()["states"])
        matches += [(m, "verb") for m in opening.finditer(sentence) if m.group("verb").lower() not in states]
    for m, group in matches:
        verb = m.group(group)
        if verb.lower() in not_verbs or re.search(r"\bnot\b|n't\b", sentence[max(0, m.start() - 12):m.start(group)]):
            continue
        rest = _object(TOKEN.findall(sentence[m.end(group):]))
        if not rest or (all(w.lower() in pronouns for w in rest) and len(rest) < 2) or \
                not any(re.search(r"[^\W\d_]{2,}", w) for w in rest):
            continue  # "I've corrected it", "Arrived 10:05": nothing to show at a glance
        found.append((m.start(group), " ".join([verb, *rest])))
    found.sort()
    return list(dict.fromkeys(p for _, p in found))


def find_actions(turns: list[Turn]) -> list[Action]:
    """Actions of agents and internal notes, best first: recent, precise (figures, codes), a note's own words."""
    out: list[Action] = []
    last = max((t.index for t in turns), default=1) or 1
    weak_verbs = frozenset(action_data()["weak"])
    seen: set[str] = set()
    for t in turns:
        if t.role != "agent" or not t.speaks:
            continue
        for s in t.sentences:
            for phrase in action_phrases(s, note=t.internal):
                key = phrase.lower()
                if key in seen:
                    continue
                seen.add(key)
                info = 0.3 if re.search(r"\d|[A-Z]{2,}", phrase[1:]) else 0.0
                weak = 0.6 if phrase.split()[0].lower() in weak_verbs else 0.0
                out.append(Action(phrase, t, s, 0.5 + 0.5 * t.index / last + info - weak))
    return sorted(out, key=lambda a: -a.score)
