"""Asking: what a reply sentence asks the customer for, and whether that is already known.

A sentence asks for a thing when it holds a request cue ("could you", "please", "?") and names an askable
thing ("order number", "receipt") from the per-language lexicon in `data/asking.json`, unless it says the
thing is already given ("you already sent"). A thing is known when a fact of one of its kinds is in the
card, when a fact's evidence names it, or (documents, photos) when the customer said they sent it.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from copilot.engine.offline.text import split_sentences
from copilot.engine.schemas import CardInsights
from copilot.interactions.schemas import TimelineItem

DATA = Path(__file__).with_name("data") / "asking.json"
# How far a request cue may be from the thing it asks for (characters, same clause).
CUE_REACH = 60


@dataclass(frozen=True)
class Thing:
    name: str
    kinds: frozenset[str]
    phrases: dict[str, tuple[str, ...]]
    labels: dict[str, str]
    topics: dict[str, tuple[str, ...]]
    document: bool

    def patterns(self, lang: str) -> list[re.Pattern[str]]:
        return _phrase_patterns(self.name, lang)

    def label(self, lang: str) -> str:
        return self.labels.get(lang) or self.labels.get("en") or self.name.replace("_", " ")


@dataclass(frozen=True)
class Lexicon:
    request: dict[str, re.Pattern[str]]
    given: dict[str, re.Pattern[str]]
    sent: re.Pattern[str]
    status: dict[str, frozenset[str]]
    things: tuple[Thing, ...]


def _alternation(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!)", re.IGNORECASE)


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    things = tuple(Thing(name=t["name"], kinds=frozenset(t.get("kinds", [])),
                         phrases={lang: tuple(p) for lang, p in t.get("phrases", {}).items()},
                         labels=dict(t.get("label", {})),
                         topics={lang: tuple(w) for lang, w in t.get("topics", {}).items()},
                         document=bool(t.get("document")))
                   for t in raw["things"])
    return Lexicon(request={lang: _alternation(p) for lang, p in raw["request"].items()},
                   given={lang: _alternation(p) for lang, p in raw["given"].items()},
                   sent=re.compile(r"\b(?:" + "|".join(re.escape(w) for w in raw["sent"]) + r")\b", re.IGNORECASE),
                   status={lang: frozenset(w) for lang, w in raw["status"].items()},
                   things=things)


@lru_cache(maxsize=256)
def _phrase_patterns(name: str, lang: str) -> list[re.Pattern[str]]:
    thing = next(t for t in lexicon().things if t.name == name)
    # English names are understood everywhere (ids and "IMEI" are written the same in every language).
    phrases = set(thing.phrases.get(lang, ())) | set(thing.phrases.get("en", ()))
    return [re.compile(r"(?<!\w)" + re.escape(p).replace(r"\ ", r"\s+") + r"(?!\w)", re.IGNORECASE)
            for p in sorted(phrases, key=len, reverse=True)]


def _langs(lang: str) -> list[str]:
    return [lang, "en"] if lang != "en" else ["en"]


def is_request(sentence: str, lang: str) -> bool:
    lex = lexicon()
    return any(lex.request[code].search(sentence) for code in _langs(lang) if code in lex.request)


def _says_given(clause: str, lang: str) -> bool:
    lex = lexicon()
    return any(lex.given[code].search(clause) for code in _langs(lang) if code in lex.given)


def named_things(text: str, lang: str) -> list[tuple[Thing, int]]:
    """Things the text names, with where."""
    found: list[tuple[Thing, int]] = []
    for thing in lexicon().things:
        for pattern in thing.patterns(lang):
            m = pattern.search(text)
            if m:
                found.append((thing, m.start()))
                break
    return found


def asked_things(sentence: str, lang: str) -> list[Thing]:
    """The things this sentence asks the customer for (empty when it asks nothing or only states)."""
    if not is_request(sentence, lang):
        return []
    asked: list[Thing] = []
    lex = lexicon()
    cues = [m.start() for code in _langs(lang) if code in lex.request for m in lex.request[code].finditer(sentence)]
    for thing, pos in named_things(sentence, lang):
        # The value right after the name states it ("order number A-1 is ..."), it does not ask for it.
        after = sentence[pos:pos + 60]
        if re.search(r"^\D{0,30}?[:#]?\s*[A-Z]{0,6}[-_]?\d{3,}", after):
            continue
        clause = sentence[max(0, pos - CUE_REACH):pos + 40]
        near = any(abs(c - pos) <= CUE_REACH for c in cues) or "?" in sentence[pos:]
        if near and not _says_given(clause, lang):
            asked.append(thing)
    return asked


def known_things(insights: CardInsights, items: Sequence[TimelineItem], lang: str) -> set[str]:
    """Names of the things the customer (or an agent) already gave: never ask for them again."""
    kinds = {f.kind for f in insights.facts}
    evidence = " \n ".join(f"{f.evidence or ''} {f.value}" for f in insights.facts)
    known: set[str] = set()
    lex = lexicon()
    sent = {t.name for i in items if i.author_role == "customer" or i.direction == "inbound"
            for s in split_sentences(i.text) for t in sent_documents(s, lang)}
    for thing in lex.things:
        if thing.kinds & kinds:
            known.add(thing.name)
            continue
        patterns = thing.patterns(lang)
        if not thing.document and any(p.search(evidence) for p in patterns):
            known.add(thing.name)
            continue
        if thing.document and thing.name in sent:
            known.add(thing.name)
    return known


def sent_documents(sentence: str, lang: str) -> list[Thing]:
    """The documents and photos a customer sentence says were sent ("I emailed you the receipt",
    "[image: receipt.png]")."""
    lex = lexicon()
    if not lex.sent.search(sentence):
        return []
    return [t for t in lex.things if t.document and any(p.search(sentence) for p in t.patterns(lang))]


def drop_known_asks(text: str, known: set[str], lang: str) -> tuple[str, int]:
    """The text without the sentences that ask for something known; and how many went."""
    kept: list[str] = []
    dropped = 0
    for sentence in split_sentences(text):
        if any(t.name in known for t in asked_things(sentence, lang)):
            dropped += 1
            continue
        kept.append(sentence)
    return " ".join(kept), dropped


def status_question(message: str, lang: str) -> bool:
    """The customer asks where things stand ("is it still coming?", "any update?")."""
    words = set(re.findall(r"[^\W\d_]+", message.lower()))
    lex = lexicon()
    return "?" in message or any(words & lex.status.get(code, frozenset()) for code in _langs(lang))


def needed_things(message: str, lang: str, known: set[str]) -> list[Thing]:
    """Things the message's topic needs and nobody gave ("my order never came" and no order number)."""
    words = set(re.findall(r"[^\W\d_]+", message.lower()))
    needed: list[Thing] = []
    for thing in lexicon().things:
        topics = set(thing.topics.get(lang, ())) | set(thing.topics.get("en", ()))
        if thing.name not in known and words & topics:
            needed.append(thing)
    return needed
