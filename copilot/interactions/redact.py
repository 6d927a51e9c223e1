"""The redact stage of ingest: secrets a customer types never reach storage, the index, a log, a model or a screen.

Detectors, each named and testable alone, find spans; the spans are replaced by typed placeholders
(`[card ••4111]`, `[password]`). What goes: payment card numbers in any written form (grouped, run together,
split across lines, spoken digit by digit in a call) with a Luhn check; a CVV and an expiry next to a card;
IBANs (mod-97), bank account and routing numbers; national ids (US SSN, and any number named as one);
passwords, PINs and one-time codes; API keys and tokens. What stays: order, tracking and phone numbers,
amounts and dates, which look alike but carry no checksum or no keyword that names them a secret.

Every pattern here is linear in the input: no nested quantifiers over overlapping classes.
"""
from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlencode

from stdnum import iban
from stdnum.us import rtn

from copilot.interactions.schemas import InteractionIn

# Spoken digits (calls are transcribed word by word); "oh" only inside a run.
DIGIT_WORDS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
               "six": "6", "seven": "7", "eight": "8", "nine": "9"}
MULTIPLIERS = {"double": 2, "triple": 3}
TOKEN = re.compile(r"\d+|[A-Za-z]+|\S")
RUN_SEPARATORS = {",", "-", "."}
MAX_GAP = 3  # characters of spacing or one separator between two parts of a run


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    placeholder: str


@dataclass(frozen=True)
class DigitRun:
    """Digits written as numerals or words, with separators between them: one candidate number."""

    start: int
    end: int
    digits: str
    parts: tuple[tuple[int, int, str], ...]  # (start, end, digits) of each token, to try shorter prefixes


@cache
def lexicon() -> dict[str, list[str]]:
    text = resources.files("copilot.interactions").joinpath("data/redaction.json").read_text(encoding="utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


@cache
def keyword_re(kind: str) -> re.Pattern[str]:
    words = sorted(lexicon()[kind], key=len, reverse=True)
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"[\s-]") for w in words)
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE)


@lru_cache(maxsize=8)  # every detector of one text reads the same runs
def digit_runs(text: str) -> tuple[DigitRun, ...]:
    """Every run of digits (numerals or spoken words) whose parts are at most a separator apart."""
    runs: list[DigitRun] = []
    parts: list[tuple[int, int, str]] = []
    last_end = -1
    multiplier = 1

    def close() -> None:
        if parts:
            runs.append(DigitRun(parts[0][0], parts[-1][1], "".join(p[2] for p in parts), tuple(parts)))
        parts.clear()

    for m in TOKEN.finditer(text):
        tok = m.group()
        low = tok.lower()
        gap = text[last_end:m.start()] if last_end >= 0 else ""
        joined = last_end >= 0 and len(gap) <= MAX_GAP and "\n\n" not in gap
        if tok in RUN_SEPARATORS and parts and m.start() - last_end <= 1:
            continue  # "4111-1111", "one, two": the separator belongs to the run
        if low in MULTIPLIERS and (not parts or joined):
            multiplier = MULTIPLIERS[low]
            last_end = m.end()
            continue
        digits = tok if tok.isdigit() else DIGIT_WORDS.get(low)
        if digits is None or (low in {"o", "oh"} and not parts):
            close()
            multiplier = 1
            last_end = m.end()
            continue
        if parts and not joined:
            close()
        parts.append((m.start(), m.end(), digits * multiplier if len(digits) == 1 else digits))
        multiplier = 1
        last_end = m.end()
    close()
    return tuple(runs)


def _near(pattern: re.Pattern[str], text: str, start: int, before: int = 40, after: int = 0) -> bool:
    return bool(pattern.search(text[max(0, start - before):start + after]))


def _last4(digits: str) -> str:
    return "••" + digits[-4:]


class LuhnSums:
    """Luhn sums of any stretch of a run's digits in constant time, from prefix sums by position parity.

    A digit is doubled when it sits at an odd place counted from the stretch's last digit, so which digits are
    doubled depends only on the parity of the stretch's end: two prefix sums per parity answer every stretch.
    Checking every 13-19 digit stretch of a long run is then linear in the run (a call can spell thousands).
    """

    def __init__(self, digits: str) -> None:
        # plain[k][p] / doubled[k][p]: sums over positions < p with position parity k
        self.plain = [[0], [0]]
        self.doubled = [[0], [0]]
        for position, ch in enumerate(digits):
            d = ord(ch) - 48
            for k in (0, 1):
                mine = position % 2 == k
                self.plain[k].append(self.plain[k][-1] + (d if mine else 0))
                self.doubled[k].append(self.doubled[k][-1] + ((d * 2 - 9 if d > 4 else d * 2) if mine else 0))

    def valid(self, start: int, end: int) -> bool:
        """Does digits[start:end] pass the Luhn check? The last digit's parity is not doubled, the other is."""
        last = (end - 1) % 2
        other = 1 - last
        total = (self.plain[last][end] - self.plain[last][start]) + (self.doubled[other][end]
                                                                     - self.doubled[other][start])
        return total % 10 == 0


def luhn_valid(digits: str) -> bool:
    """The Luhn check of a string of digits (cards, IMEIs): the one implementation, here and in the engine."""
    return bool(digits) and LuhnSums(digits).valid(0, len(digits))


def _card_windows(run: DigitRun) -> Iterable[tuple[int, int, int, int]]:
    """Stretches of whole parts holding 13-19 digits, longest first from each part ("4111 1111 1111 1111 1227":
    the card without the expiry; a card inside a longer run of digits too), as (text start, text end, digit
    start, digit end). At most 19 parts from each start, so the work is linear in the run's length."""
    parts = run.parts
    offsets = [0]
    for part in parts:
        offsets.append(offsets[-1] + len(part[2]))
    for i in range(len(parts)):
        # the parts j whose stretch i..j holds 13 to 19 digits, found by bisection on the digit offsets
        shortest = bisect_left(offsets, offsets[i] + 13) - 1
        longest = min(bisect_right(offsets, offsets[i] + 19) - 1, i + 19) - 1
        for j in range(longest, max(shortest, i) - 1, -1):
            yield parts[i][0], parts[j][1], offsets[i], offsets[j + 1]


def _plausible_card(digits: str) -> bool:
    """Issuer prefixes and lengths of the card networks: an IMEI or a tracking number passing Luhn by chance is
    not a card."""
    n = len(digits)
    if digits[0] == "4":
        return n in (13, 16, 19)
    if digits[:2] in {"34", "37"}:
        return n == 15
    if digits[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(digits[:4]) <= 2720:
        return n == 16
    if digits[:2] in {"36", "38", "30"}:
        return n == 14
    if digits[:4] == "6011" or digits[:2] == "65" or digits[:3] in {"644", "645", "646", "647", "648", "649"}:
        return n in (16, 19)
    if digits[:2] == "35":
        return n in (16, 19)
    return False


def find_cards(text: str) -> list[Span]:
    out = []
    card_word = keyword_re("card")
    any_card_word = card_word.search(text) is not None
    for run in digit_runs(text):
        if len(run.digits) < 13:
            continue
        sums = LuhnSums(run.digits)
        taken_until = -1
        near: dict[int, bool] = {}  # a card word just before this start: looked for once per start, if needed
        for start, end, first, last in _card_windows(run):
            if start < taken_until or not sums.valid(first, last):
                continue
            digits = run.digits[first:last]
            if not _plausible_card(digits):
                if start not in near:
                    near[start] = any_card_word and _near(card_word, text, start)
                if not near[start]:
                    continue
            out.append(Span(start, end, f"[card {_last4(digits)}]"))
            taken_until = end
    return out


def _after_keyword(text: str, kind: str, lengths: range, placeholder: Callable[[str], str], window: int = 24
                   ) -> list[Span]:
    """A digit run of an allowed length within `window` characters after a word naming the secret."""
    out = []
    runs = digit_runs(text)
    starts = [run.start for run in runs]
    for m in keyword_re(kind).finditer(text):
        at = bisect_left(starts, m.end())  # the first run after the keyword
        if at < len(runs) and runs[at].start - m.end() <= window and len(runs[at].digits) in lengths:
            out.append(Span(runs[at].start, runs[at].end, placeholder(runs[at].digits)))
    return out


SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])")
IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
EXPIRY = re.compile(r"(?<![\d/])(?:0?[1-9]|1[0-2])\s?[/-]\s?(?:20)?\d{2}(?![\d/])")
SORT_CODE = re.compile(r"(?<!\d)\d{2}-\d{2}-\d{2}(?!\d)")
KNOWN_TOKEN = re.compile(
    r"(?<![\w-])(?:sk|rk|pk)[-_](?:live|test|proj)?[-_]?[A-Za-z0-9]{16,}|(?<!\w)gh[pousr]_[A-Za-z0-9]{30,}"
    r"|(?<!\w)xox[abposr]-[A-Za-z0-9-]{10,}|(?<!\w)AKIA[0-9A-Z]{16}(?!\w)|(?<!\w)AIza[0-9A-Za-z_-]{35}"
    r"|(?<!\w)eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}|(?<!\w)glpat-[\w-]{20,}")
SECRET_VALUE = re.compile(r"[\"'“‘]?(?P<value>[^\s\"'”’]{3,64})[\"'”’]?")
LONG_TOKEN = re.compile(r"(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{16,200}")
CODE_VALUE = re.compile(r"(?<![\w-])(?=[A-Z0-9-]*\d)[A-Z0-9]{1,3}-?\d{4,8}(?![\w-])|(?<![\w-])\d{4,8}(?![\w-])")


def find_ssn(text: str) -> list[Span]:
    out = [Span(m.start(), m.end(), "[ssn]") for m in SSN.finditer(text)]
    out += _after_keyword(text, "national_id", range(6, 16), lambda _d: "[national id]")
    return out


def find_national_id_tokens(text: str) -> list[Span]:
    """Ids that mix letters and digits ("AB123456C", "12345678Z") right after a word naming a national id."""
    out = []
    for m in keyword_re("national_id").finditer(text):
        tail = text[m.end():m.end() + 30]
        found = re.match(r"\W{0,4}(?:(?:number|no\.?|is|was|:)\s*){0,3}(?P<v>(?=[\w-]*\d)[A-Za-z0-9-]{6,20})(?!\w)",
                         tail, re.IGNORECASE)
        if found:
            start = m.end() + found.start("v")
            out.append(Span(start, start + len(found.group("v")), "[national id]"))
    return out


def find_cvv(text: str) -> list[Span]:
    return _after_keyword(text, "cvv", range(3, 5), lambda _d: "[cvv]", window=16)


def find_expiry(text: str, cards: list[Span]) -> list[Span]:
    """An expiry is a secret next to a card or a word naming it; a lone "12/27" is a date."""
    out = []
    expiry_word = keyword_re("expiry")
    for m in EXPIRY.finditer(text):
        near_card = any(0 <= m.start() - c.end <= 40 for c in cards)
        if near_card or _near(expiry_word, text, m.start(), before=16):
            out.append(Span(m.start(), m.end(), "[expiry]"))
    return out


def find_bank(text: str) -> list[Span]:
    out = []
    bank_word = keyword_re("bank")
    for m in IBAN.finditer(text):
        compact = m.group().replace(" ", "")
        if iban.is_valid(compact):
            out.append(Span(m.start(), m.end(), f"[iban {_last4(compact)}]"))
    sort_codes = [m for m in SORT_CODE.finditer(text) if _near(bank_word, text, m.start(), before=30)]
    out += [Span(m.start(), m.end(), "[sort code]") for m in sort_codes]
    for run in digit_runs(text):
        if not _near(bank_word, text, run.start, before=60) or any(m.start() <= run.start < m.end()
                                                                    for m in sort_codes):
            continue
        if len(run.digits) == 9 and rtn.is_valid(run.digits):
            out.append(Span(run.start, run.end, "[routing number]"))
        elif 6 <= len(run.digits) <= 17:
            out.append(Span(run.start, run.end, f"[bank account {_last4(run.digits)}]"))
    return out


@cache
def _not_a_secret() -> frozenset[str]:
    return frozenset(w.lower() for w in lexicon()["not_secret_words"])


def find_passwords(text: str) -> list[Span]:
    """The word after "password is" / "password:" (and the other languages'), unless it says something about the
    password ("is expired", "is not working") rather than being it."""
    out = []
    connectors = "|".join(re.escape(c) for c in sorted(lexicon()["connectors"], key=len, reverse=True))
    after = re.compile(rf"\s*(?:(?:{connectors})\s*)+")
    for kind, placeholder in (("password", "[password]"), ("pin", "[pin]")):
        for m in keyword_re(kind).finditer(text):
            link = after.match(text, m.end())
            if kind == "pin" and not (link and link.group().strip()):
                link = re.compile(r"\s+(?=\d{4,8}\b)").match(text, m.end())  # "pin 5521"
            elif not link or not link.group().strip():
                continue
            if not link:
                continue
            value = SECRET_VALUE.match(text, link.end())
            if not value:
                continue
            word = value.group("value").rstrip(".,;!?)")
            if not word or word.lower() in _not_a_secret():
                continue
            if kind == "pin" and not re.fullmatch(r"\d{4,8}", word):
                continue
            start = value.start("value")
            out.append(Span(start, start + len(word), placeholder))
    return out


def find_codes(text: str) -> list[Span]:
    """One-time and verification codes: a short number (or letters then a number) after a word naming one."""
    out = []
    runs = digit_runs(text)
    starts = [run.start for run in runs]
    for m in keyword_re("otp").finditer(text):
        found = CODE_VALUE.search(text, m.end(), m.end() + 28)
        at = bisect_left(starts, m.end())
        run = runs[at] if at < len(runs) and runs[at].start <= m.end() + 28 and 4 <= len(runs[at].digits) <= 8 \
            else None
        if run and (not found or run.start <= found.start()):
            out.append(Span(run.start, run.end, "[code]"))
        elif found:
            out.append(Span(found.start(), found.end(), "[code]"))
    return out


def find_tokens(text: str) -> list[Span]:
    out = [Span(m.start(), m.end(), "[token]") for m in KNOWN_TOKEN.finditer(text)]
    for m in keyword_re("token").finditer(text):
        found = LONG_TOKEN.search(text, m.end(), m.end() + 240)
        if found and found.start() - m.end() <= 16:
            out.append(Span(found.start(), found.end(), "[token]"))
    return out


def find_secrets(text: str) -> list[Span]:
    """All detectors; overlapping spans keep the earliest, then the longest."""
    cards = find_cards(text)
    found = cards + find_cvv(text) + find_expiry(text, cards) + find_bank(text) + find_ssn(text) \
        + find_national_id_tokens(text) + find_passwords(text) + find_codes(text) + find_tokens(text)
    kept: list[Span] = []
    for span in sorted(found, key=lambda s: (s.start, -(s.end - s.start))):
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept


def redact_text(text: str) -> str:
    spans = find_secrets(text)
    if not spans:
        return text
    out: list[str] = []
    pos = 0
    for span in spans:
        out.append(text[pos:span.start])
        out.append(span.placeholder)
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def redact_value(value: Any) -> Any:
    """Strings anywhere inside a JSON-like value (a record's metadata, a webhook body) redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    return value


# Zero-width and direction-control characters: invisible, they can split a card number so no pattern sees it,
# or hide an instruction inside a word.
INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def normalise_text(text: str) -> str:
    """Compatibility forms folded (full-width digits and letters, ligatures) and invisible characters removed,
    so the text stored is the text every later stage, and every agent, reads."""
    return unicodedata.normalize("NFKC", INVISIBLE.sub("", text))


def redact_record(record: InteractionIn) -> InteractionIn:
    """The record as it may be stored: text, subject and metadata without secrets (identifiers stay)."""
    return record.model_copy(update={
        "text": redact_text(normalise_text(record.text)),
        "subject": redact_text(normalise_text(record.subject)) if record.subject else record.subject,
        "metadata": redact_value(record.metadata),
    })


def redact_body(body: bytes, content_type: str | None) -> bytes:
    """A stored webhook body with its secrets redacted, still parseable the way its connector reads it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        pairs = parse_qsl(text, keep_blank_values=True)
        return urlencode([(k, redact_text(v)) for k, v in pairs]).encode()
    if kind.endswith("json") or text.lstrip()[:1] in {"{", "["}:
        try:
            return json.dumps(redact_value(json.loads(text)), ensure_ascii=False).encode()
        except ValueError:
            pass
    return redact_text(text).encode()
