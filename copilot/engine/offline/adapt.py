"""Adapts another customer's past agent reply to this customer (DESIGN §3, suggest stage).

A past reply is written to someone else: their name, their handle, their order number, the amount they were
charged, the other agent's initials. Each such token is replaced where this customer has a value of the same
kind (their name in the greeting, their order number after "order"), removed where the sentence reads without it
(a name in a greeting, a handle, a sign-off), and the sentence is dropped where it would not. A token is the
company's, not the customer's, when agents or customers of the tenant used it with at least two customers (the
brand, a product, a help-page link): `is_shared` says so.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from copilot.engine.schemas import Fact

DATA_FILE = Path(__file__).parent / "data" / "retrieve.json"
MENTION = re.compile(r"(?<![\w@])@\w+")
# Another agent's initials or first name closing a reply ("^HD", "*SR", "/RK", "- Jenn").
SIGN_OFF = re.compile(r"\s*(?:[\^*/~]\s?[A-Z][A-Za-z]{0,11}|\s[-–—]\s?[A-Z][a-z]{1,11}|\s[-–—]\s?[A-Z]{1,3})\.?\s*$")
LINK = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
PHONE = re.compile(r"(?<![\w$.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)\s?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}(?![\w-])")
MONEY = re.compile(r"(?:[$€£¥₹]\s?\d[\d.,]*|\b\d[\d.,]*\s?(?:[$€£¥₹]|usd|eur|gbp|dkk|sek|kr)\b)", re.IGNORECASE)
NUMERIC_DATE = re.compile(r"\b\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?\b")
WORD = re.compile(r"[^\W\d_][\w'’-]*")
TOKEN = re.compile(r"\S+")
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)|\n+")
PRONOUN_I = {"I", "I'm", "I'll", "I've", "I'd", "I’m", "I’ll", "I’ve", "I’d", "OK"}
STRIP = ".,!?;:()[]\"'“”‘’"


@lru_cache(maxsize=1)
def data() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _keywords() -> dict[str, str]:
    """keyword -> fact kind; the first kind listing a keyword wins."""
    out: dict[str, str] = {}
    for kind, words in data()["id_keywords"].items():
        for word in words:
            out.setdefault(word.lower(), kind)
    return out


def canonical_link(url: str) -> str:
    """One page, however it was linked: no scheme, `www.`, query, fragment, trailing slash or archive wrapper."""
    url = re.sub(r"^(?:https?://)?web\.archive\.org/web/\d+[a-z_]*/", "", url.strip(".,;:!?)\"'"), flags=re.I)
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.IGNORECASE)
    return re.split(r"[?#]", url, maxsplit=1)[0].rstrip("/").lower()


def display_link(url: str) -> str:
    """The link as an agent would paste it: the live page rather than an archive copy, no trailing punctuation."""
    url = url.strip(".,;:!?)\"'")
    return re.sub(r"^(?:https?://)?web\.archive\.org/web/\d+[a-z_]*/", "", url, flags=re.IGNORECASE)


def has_digits(token: str) -> bool:
    return any(ch.isdigit() for ch in token)


def is_identifying_number(token: str) -> bool:
    """Letters with digits ("A-10293", "QX7110") or a long number; quantities and times ("3", "24h") are not."""
    bare = token.strip(STRIP)
    digits = sum(ch.isdigit() for ch in bare)
    if not digits:
        return False
    letters = sum(ch.isalpha() for ch in bare)
    return digits >= 4 or (letters > 0 and digits >= 2 and not re.fullmatch(r"\d{1,3}(?:st|nd|rd|th|h|hrs?|am|pm|"
                                                                             r"min|mins|gb|mb|k|x|s|%)", bare.lower()))


def vocabulary_tokens(text: str) -> set[str]:
    """The tokens of a text that could identify someone (see `risky` in `adapt_reply`), lower-cased; the corpus
    counts how many customers each appears with, to tell the company's words from one customer's."""
    out = {"link:" + canonical_link(url) for url in LINK.findall(text)}
    rest = LINK.sub(" ", text)
    for raw in rest.split():
        token = raw.strip(STRIP)
        if token and (has_digits(token) or "@" in token):
            out.add(token.lower())
    for word in WORD.findall(rest):
        if word[0].isupper() or word.isupper():
            out.add(word.lower())
    return out


def name_parts(names: Sequence[str]) -> set[str]:
    parts: set[str] = set()
    for name in names:
        for part in re.split(r"[\s,._@-]+", name):
            part = part.strip(STRIP)
            if len(part) >= 2 and not part.isdigit():
                parts.add(part.lower())
    return parts


def _first_name(customer_name: str | None) -> str | None:
    if not customer_name:
        return None
    first = customer_name.strip().split()[0]
    return first if re.fullmatch(r"[^\W\d_][^\W\d_'’-]{1,30}", first) else None


def _kind_before(words: list[str], position: int) -> str | None:
    """The fact kind a keyword just before a value names ("order #A-1", "ticket number 55")."""
    keywords = _keywords()
    for back in range(1, 4):
        if position - back < 0:
            break
        word = words[position - back].strip(STRIP + "#:").lower()
        if word in keywords:
            return keywords[word]
    return None


def _clean(sentence: str) -> str:
    sentence = re.sub(r"\s+", " ", sentence)
    sentence = re.sub(r"\s+([,.;:!?…])", r"\1", sentence)
    sentence = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", sentence)
    sentence = re.sub(r",\s*([.!?])", r"\1", sentence)
    sentence = re.sub(r"\(\s*\)", "", sentence)
    return sentence.strip(" ,;:-–—").strip()


def _reads(sentence: str) -> bool:
    """Still a sentence after a token went: two words at least, and not ending on an article or a preposition."""
    words = WORD.findall(sentence)
    if len(words) < 2:
        return False
    last = sentence.rstrip(" .!?…").split()
    return bool(last) and last[-1].lower().strip(STRIP) not in set(data()["dangling_end"]) and not sentence.rstrip(
        ).endswith(":")


def adapt_reply(text: str, *, owner_names: Sequence[str], is_shared: Callable[[str], bool],
                facts: Sequence[Fact] = (), customer_name: str | None = None, known_text: str = "") -> str:
    """The reply with nothing of its first customer left, and this customer's values where it had theirs."""
    greetings = set(data()["greetings"])
    owners = name_parts(owner_names)
    first = _first_name(customer_name)
    known = known_text.lower()
    by_kind: dict[str, list[str]] = {}
    for fact in facts:
        if fact.value not in by_kind.setdefault(fact.kind, []):
            by_kind[fact.kind].append(fact.value)

    def ours(token: str) -> bool:
        low = token.lower().strip(STRIP)
        return bool(low) and (is_shared(low) or low in known)

    def fill(kind: str | None) -> str | None:
        values = by_kind.get(kind or "", [])
        return values[0] if len(values) == 1 else None

    text = MENTION.sub("", text)  # @handles address someone; the reply reads the same without them
    text = SIGN_OFF.sub("", text.rstrip())
    kept: list[str] = []
    for raw_sentence in SENTENCE_END.split(text):
        sentence = _adapt_sentence(raw_sentence.strip(), owners=owners, first=first, greetings=greetings,
                                   ours=ours, fill=fill, is_shared=is_shared)
        if sentence:
            kept.append(sentence)
    return " ".join(kept).strip()


def _adapt_sentence(sentence: str, *, owners: set[str], first: str | None, greetings: set[str],
                    ours: Callable[[str], bool], fill: Callable[[str | None], str | None],
                    is_shared: Callable[[str], bool]) -> str | None:
    if not sentence:
        return None
    changed = False
    # Links: a help page the company sends to many customers stays; a one-off link (someone's order page) goes.
    for url in LINK.findall(sentence):
        if not is_shared("link:" + canonical_link(url)):
            sentence = sentence.replace(url, " ")
            changed = True
    # Emails and phone numbers: this customer's own where they have exactly one, else the sentence goes.
    for pattern, kind in ((EMAIL, "email"), (PHONE, "phone")):
        for found in pattern.findall(sentence):
            if ours(found):
                continue
            value = fill(kind)
            if value is None:
                return None
            sentence = sentence.replace(found, value)
    for pattern in (MONEY, NUMERIC_DATE):
        if any(not ours(found) for found in pattern.findall(sentence)):
            return None  # another customer's amount or date: true for them, not for this customer
    words = TOKEN.findall(sentence)
    out: list[str] = []
    position = 0
    for index, raw in enumerate(words):
        bare = raw.strip(STRIP)
        low = bare.lower()
        lead, trail = raw[:len(raw) - len(raw.lstrip(STRIP))], raw[len(raw.rstrip(STRIP)):]
        if not bare:
            out.append(raw)
            continue
        if low in owners or low.rstrip("'’s") in owners:
            previous = words[index - 1].strip(STRIP).lower() if index else ""
            vocative = previous in greetings or index == 0 or trail[:1] in {",", "!", "."} or (
                index > 0 and words[index - 1].endswith(","))
            if not vocative:
                return None  # a name inside a statement ("I spoke with Tamsin"): no way to say it without it
            if previous in greetings and first:
                out.append(lead + first + trail)
            else:
                out.append(trail if trail[:1] in {"!", "."} else "")
            changed = True
            continue
        if is_identifying_number(bare) and not ours(bare):
            value = fill(_kind_before(words, index))
            if value is None:
                return None  # "ticket KV-30517": without the id the sentence says nothing true
            out.append(lead + value + trail)
            changed = True
            continue
        word_match = WORD.fullmatch(bare)
        capitalised = (position > 0 and bare[0].isupper()) or (bare.isupper() and len(bare) > (1 if position else 2))
        previous = words[index - 1].strip(STRIP).lower() if index else ""
        if (word_match and capitalised and index <= 2 and previous in greetings and not ours(bare)
                and (trail[:1] in {",", "!", "."} or index == len(words) - 1)):
            # "Hi Ysolde," opens the reply by addressing its customer: the name goes (or becomes this customer's),
            # the greeting and the sentence stay.
            out.append(lead + first + trail if first else trail)
            changed = True
            position += 1
            continue
        before = words[index - 1] if index else ""
        if (word_match and capitalised and before.endswith(",") and not before.strip(STRIP)[:1].isupper()
                and not ours(bare) and (trail[:1] in {"!", ".", "?"} or index == len(words) - 1)):
            # "Sorry to hear that, Brannoc!": a name closing a clause addresses its customer; it goes with its comma.
            if out and out[-1].endswith(","):
                out[-1] = out[-1][:-1]
            out.append(trail)
            changed = True
            position += 1
            continue
        if word_match and bare not in PRONOUN_I and capitalised and not ours(bare):
            return None  # a name, a place or a merchant of the other customer's: nothing to put instead
        out.append(raw)
        position += 1
    result = _clean(" ".join(out))
    if changed and not _reads(result):
        return None
    return result or None
