"""Stage 2b of the card (DESIGN §3): the key details people already gave, as short phrases.

Identifiers and amounts come from `extract`; what an agent also needs at a glance is how the customer
described the item or the problem and what it is called:
- `description`: a noun with the words that describe it (colour, material, size, damage), "light grey wool
  blanket", "cracked hinge", "caja abollada" (the noun first in Romance languages);
- `product`: a capitalised name of a product, plan, shop or place ("Lumo Fold 3", "Gold Saver Plan"), or a
  single capitalised word after a cue that makes it a place or a brand ("moving to Leeds", "brand Ostrava");
- `quantity`: a count with what it counts ("12 seats", "30 -> 34 licences");
- `condition`: what a person lives with or needs that changes how they are served ("hard of hearing", "uses a
  wheelchair", "needs a chaperone"), and `medication`: a medicine named with its dose ("ibuprofen 400 mg").
Word lists are in data/card_details.json. Internal notes count, weighted lower: the card is agent-facing (replies
quote only what the customer was told, compose.py checks that).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from copilot.engine.offline.kinds import FactKind
from copilot.engine.offline.segment import Turn

DATA = Path(__file__).parent / "data"
TOKEN = re.compile(r"[^\W\d_][\w'’-]*|\d[\w.,]*|->|→|[^\w\s]")
MAX_WORDS = 4
SOURCE_WEIGHT = {"customer": 1.0, "system": 0.7, "agent": 0.5, "bot": 0.3}
NOTE_WEIGHT = 0.4


@cache
def details_data() -> dict[str, Any]:
    return json.loads((DATA / "card_details.json").read_text(encoding="utf-8"))


@cache
def _lists() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    d = details_data()
    return (frozenset(w.lower() for w in d["modifiers"]["adj_noun"]),
            frozenset(w.lower() for w in d["modifiers"]["noun_adj"]),
            frozenset(w.lower() for w in d["stop"]), frozenset(d["name_stop"]))


@cache
def _quantity_re() -> re.Pattern[str]:
    units = "|".join(re.escape(u) for u in sorted(set(details_data()["units"]), key=len, reverse=True))
    return re.compile(rf"(?<![\w$€£¥.,])(?:(?P<from>\d{{1,5}})\s*(?:->|→|to)\s*)?(?P<n>\d{{1,5}})\s+"
                      rf"(?P<unit>{units})\b", re.IGNORECASE)


@cache
def _condition_re() -> re.Pattern[str]:
    free = re.escape("[a-z]+")
    alts = [re.escape(c).replace(free, "[a-z]+") for c in sorted(details_data()["conditions"], key=len, reverse=True)]
    alts += [f"(?:{p})" for p in details_data()["condition_patterns"]]
    return re.compile(rf"(?<!\w)(?:{'|'.join(alts)})(?!\w)", re.IGNORECASE)


@cache
def _dose_re() -> re.Pattern[str]:
    units = "|".join(re.escape(u) for u in sorted(details_data()["dose_units"], key=len, reverse=True))
    return re.compile(rf"\b(?P<name>[A-Za-z][a-z-]{{4,}})\s+(?P<dose>\d+(?:[.,]\d+)?\s?(?:{units}))(?!\w)")


@cache
def _cue_re() -> re.Pattern[str]:
    cues = "|".join(re.escape(c) for c in sorted(details_data()["name_cues"], key=len, reverse=True))
    # the cue in any case, the name capitalised ("brand new" is no brand)
    return re.compile(rf"\b(?i:{cues})\s+(?P<name>[A-Z][\w'’-]{{2,}})")


@dataclass
class Detail:
    kind: FactKind
    value: str
    turn: Turn
    evidence: str
    score: float


def _is_noun(token: str, stop: frozenset[str], mods: frozenset[str]) -> bool:
    low = token.lower()
    return len(low) >= 3 and token[0].isalpha() and low not in stop and low not in mods and "'" not in low


def _tidy(words: list[str]) -> str:
    # "a GREY lid" shouts the colour; the phrase is "grey lid"
    return " ".join(w.lower() if w.isupper() and len(w) > 2 else w for w in words)


def descriptions(sentence: str) -> list[str]:
    """Noun phrases of one sentence that carry a describing word."""
    adj_noun, noun_adj, stop, _ = _lists()
    copulas = _copulas()
    tokens = TOKEN.findall(sentence)
    low = [t.lower() for t in tokens]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if low[i] in adj_noun:
            j = i
            while j + 1 < len(tokens) and low[j + 1] in adj_noun and j + 1 - i < MAX_WORDS - 1:
                j += 1
            if j + 1 < len(tokens) and _is_noun(tokens[j + 1], stop, adj_noun | noun_adj):
                start = i - 1 if i and low[i - 1] in {"dark", "light", "pale", "bright"} else i
                end = j + 2
                if end < len(tokens) and re.fullmatch(r"\d{1,3}[a-z]?", tokens[end]):
                    end += 1  # "missing sheet 3", "cracked tile 4": the number says which one
                out.append(_tidy(tokens[start:end]))
            elif i >= 2 and low[i - 1] in copulas and _is_noun(tokens[i - 2], stop, adj_noun | noun_adj):
                out.append(_tidy(tokens[i - 2:i + 1]))  # "the hinge is bent": the thing and its state
            i = j + 1
            continue
        if low[i] in noun_adj and i and _is_noun(tokens[i - 1], stop, adj_noun | noun_adj):
            j = i
            while j + 1 < len(tokens) and low[j + 1] in noun_adj and j + 1 - i < MAX_WORDS - 2:
                j += 1
            out.append(_tidy(tokens[i - 1:j + 1]))
            i = j + 1
            continue
        i += 1
    return out


@cache
def _copulas() -> frozenset[str]:
    return frozenset(details_data()["copulas"])


CODE_TOKEN = re.compile(r"[A-Z]+\d+[A-Z]*")
MODEL_TOKEN = re.compile(r"\d{1,4}[A-Za-z]{0,3}|[A-Z]{1,3}\d{0,3}")


def _cap(token: str) -> bool:
    return token[:1].isupper() and not token.isupper() or bool(CODE_TOKEN.fullmatch(token))


def _model(token: str) -> bool:
    """A model or size token inside a name: "9", "G5", "XL", "Pro"."""
    return bool(MODEL_TOKEN.fullmatch(token))


def names(sentence: str, exclude: frozenset[str]) -> list[str]:
    """Capitalised multi-word names in a sentence (the first word of the sentence is not evidence of a name)."""
    _, _, _, name_stop = _lists()
    tokens = TOKEN.findall(sentence)
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        while run and _model(run[-1]) and not _cap(run[-1]):
            run.pop()  # "Combo Deluxe 20 pieces": the count is not part of the name
        caps = [w for w in run if _cap(w)]
        # a run sharing a word with a person's name ("Tilde Moen" beside "Ruth Moen") is a person
        if (len(caps) >= 2 or (caps and len(run) >= 2)) and not any(w in exclude for w in caps) and len(run) <= 5:
            out.append(" ".join(run))
        run.clear()

    for k, tok in enumerate(tokens):
        first = k == 0 or tokens[k - 1] in {".", "!", "?", ":", "\"", "“", "(", "[", "|", "-", "–"}
        if tok in name_stop or (first and not run):
            flush()
            continue
        if _cap(tok) or (run and _model(tok)):
            run.append(tok)
        else:
            flush()
    flush()
    return out


def _sources(turns: list[Turn]) -> list[tuple[Turn, str]]:
    out: list[tuple[Turn, str]] = []
    for t in turns:
        if t.role not in SOURCE_WEIGHT or t.part == "footer":
            continue
        if t.sentences:
            out.extend((t, s) for s in t.sentences)
        elif t.text:
            out.extend((t, line) for line in t.text.split("\n") if line.strip())
    return out


def find_details(turns: list[Turn], exclude_names: frozenset[str]) -> list[Detail]:
    """Descriptions, names and quantities of the history, each once, best first."""
    found: dict[tuple[FactKind, str], Detail] = {}
    seen_turns: dict[tuple[FactKind, str], set[int]] = {}

    def add(kind: FactKind, value: str, turn: Turn, sentence: str, base: float) -> None:
        value = value.strip(" .,;:-")
        if not value:
            return
        key = (kind, value.lower())
        weight = (NOTE_WEIGHT if turn.internal else SOURCE_WEIGHT.get(turn.role, 0.3)) + base
        if key not in found or found[key].score < weight:
            prev = seen_turns.get(key, set())
            found[key] = Detail(kind, value, turn, sentence, weight)
            seen_turns[key] = prev
        seen_turns[key].add(turn.index)

    cue = _cue_re()
    for turn, sentence in _sources(turns):
        for phrase in descriptions(sentence):
            # "the lid is cracked" states a problem; "cracked grey lid" also says which thing: worth more
            add(FactKind.DESCRIPTION, phrase, turn, sentence, 0.0 if f" {phrase.split()[1]} " in
                f" {' '.join(_copulas())} " and len(phrase.split()) == 3 else 0.2)
        for name in names(sentence, exclude_names):
            add(FactKind.PRODUCT, name, turn, sentence, 0.0)
        for m in cue.finditer(sentence):
            if m.group("name") not in exclude_names and m.group("name") not in _lists()[3]:
                add(FactKind.PRODUCT, m.group("name"), turn, sentence, -0.1)
        for m in _condition_re().finditer(sentence):
            # "pt needs a chaperone": the need, without who the note says has it
            value = re.sub(r"^.*?\b(?=(?:needs|requires)\b)", "", m.group()) or m.group()
            add(FactKind.CONDITION, value, turn, sentence, 0.6)
        for m in _dose_re().finditer(sentence):
            if m.group("name").lower() not in _lists()[2]:
                add(FactKind.MEDICATION, f"{m.group('name')} {m.group('dose')}", turn, sentence, 0.6)
        for m in _quantity_re().finditer(sentence):
            value = m.group()
            add(FactKind.QUANTITY, value, turn, sentence, 0.1)
    out = list(found.values())
    for d in out:
        d.score += 0.25 * min(len(seen_turns[(d.kind, d.value.lower())]) - 1, 3)
    # a phrase inside a longer one of the same kind ("grey blanket" in "light grey blanket") is the longer one
    keep = [d for d in out if not any(o is not d and o.kind == d.kind and d.value.lower() in o.value.lower()
                                      and o.score >= d.score - 0.3 for o in out)]
    return sorted(keep, key=lambda d: -d.score)
