"""Prompt injection (DESIGN §3, issue 10): customer text is data, for both engines.

A customer can write anything: "ignore previous instructions", a fake `SYSTEM:` or `Agent:` turn, a fake
internal note, a claimed supervisor, with look-alike letters (Cyrillic "а" for "a") or zero-width characters so
that no word list sees it. This module gives both engines one view of such text:

- `fold`: the text as a reader sees it. Ingest already folds compatibility forms and removes invisible
  characters (`copilot.interactions.redact.normalise_text`, reused here for text that did not pass ingest, such as
  model output); `fold` also maps look-alike letters to Latin, but only in words that mix alphabets or in lines
  written in Latin, so a message written in Cyrillic keeps its words.
- `markers`: the attack markers a text holds (override, fake role turn, leaked prompt, fake note, claimed
  authority, customer text speaking as the company), matched on the folded text.

Markers never decide what a customer gets (a customer quoting a rule is fine): they let the output check drop
model text that obeys or repeats an attack, and mark passages of customer text that must never be echoed.
"""
from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from pathlib import Path

from copilot.interactions.redact import normalise_text

DATA = Path(__file__).parent / "data" / "injection.json"
WORD = re.compile(r"[^\W\d_]+")
FAMILIES = ("override", "role_turn", "leak", "internal_note", "authority", "company_voice")
# What model output may never contain, whoever asked: these repeat or obey an attack.
OUTPUT_FAMILIES = ("override", "role_turn", "leak", "internal_note")


@cache
def _data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


@cache
def _confusables() -> dict[int, str]:
    return {ord(k): v for k, v in _data()["confusables"].items() if not k.startswith("_")}


@cache
def _patterns(family: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in _data()[family]), re.IGNORECASE | re.MULTILINE)


@cache
def _is_latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


def _fold_line(line: str, table: dict[int, str]) -> str:
    latin = other = 0
    for char in line:
        if char.isalpha():
            if _is_latin(char):
                latin += 1
            elif ord(char) not in table:
                other += 1
    latin_line = latin > other  # a look-alike counts for neither side: it is what is being decided

    def word(m: re.Match[str]) -> str:
        w = m.group(0)
        if not any(ord(c) in table for c in w):
            return w
        mixed = any(_is_latin(c) for c in w)
        only_lookalikes = all(_is_latin(c) or ord(c) in table for c in w)
        return w.translate(table) if only_lookalikes and (mixed or latin_line) else w

    return WORD.sub(word, line)


def fold(text: str) -> str:
    """Invisible characters removed, compatibility forms folded, look-alike letters mapped to Latin where they
    pose as Latin (a word mixing alphabets, or a line written in Latin letters)."""
    text = normalise_text(text)
    table = _confusables()
    if not any(ord(c) in table for c in text):
        return text
    return "\n".join(_fold_line(line, table) for line in text.split("\n"))


def markers(text: str, families: tuple[str, ...] = FAMILIES) -> list[str]:
    """The attack families the text shows (on its folded form), in the order of `families`."""
    folded = fold(text)
    return [family for family in families if _patterns(family).search(folded)]


def injected_passages(text: str) -> list[str]:
    """The lines of a text that carry an attack marker: customer text that must never be echoed to anyone."""
    return [line for line in fold(text).split("\n") if line.strip() and markers(line)]


def reports_demand(sentence: str) -> bool:
    """The sentence reports what the customer said or wants ("she asks for a refund") and states nothing as done
    or decided ("the agent approved the refund she asked for" is an action)."""
    folded = fold(sentence)
    return bool(_patterns("reported").search(folded)) and not _patterns("action").search(folded)
