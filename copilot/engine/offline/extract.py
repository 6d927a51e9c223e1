"""Stage 2 of the card (DESIGN §3): declared extractors, one per fact kind, each a pattern plus a validator.

Every extractor yields `Mention`s: the value alone ("$17.25", "Visa ending 5081", "ZX-1234"), its normalised
key, the turn (so the speaker) and the sentence it came from (the evidence). Kinds of identifiers come from
the words in front of them ("tracking", "claim", "Bestellung") or a conventional prefix ("RMA-", "INV-");
a carrier tracking-number shape is a tracking number whatever word is near. Phone numbers are validated
with `phonenumbers`, IMEIs and card-like numbers with the Luhn checksum.
"""
from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import phonenumbers

from copilot.engine.offline.dates import find_dates
from copilot.engine.offline.kinds import FactKind
from copilot.engine.offline.segment import Turn
from copilot.interactions.redact import luhn_valid

DATA = Path(__file__).parent / "data"


@cache
def patterns() -> dict[str, Any]:
    return json.loads((DATA / "extract_patterns.json").read_text(encoding="utf-8"))


@cache
def _keyword_res() -> list[tuple[re.Pattern[str], FactKind]]:
    return [(re.compile(p, re.IGNORECASE), FactKind(k)) for p, k in patterns()["id_keywords"]]


@cache
def _compiled(name: str) -> re.Pattern[str]:
    """Patterns built from the word lists, compiled once."""
    if name == "card":
        brands = _alternation(tuple(patterns()["card_brands"]))
        return re.compile(rf"(?:(?P<brand>\b(?:{brands}))\s+(?:\w+\s+)?)?(?P<kw>{ENDING_KW})\s*(?:[:#]\s*)?"
                          rf"(?P<digits>\d{{4}})\b", re.IGNORECASE)
    if name == "device":
        brands = _alternation(tuple(patterns()["device_brands"]))
        model = r"[A-Z][\w+-]*|\d[\w-]*|One|Pro|Max|Plus|Mini|Ultra|Air|Lite"
        return re.compile(rf"\b(?:{brands})(?!\w)(?:\s+(?:{model})){{0,3}}")
    suffixes = _alternation(tuple(patterns()["org_suffixes"]))
    prefixes = _alternation(tuple(patterns()["org_prefixes"]))
    word = r"[A-Z][\w&'-]{1,40}"  # bounded: linear on long runs
    return re.compile(rf"\b(?:{word}\s+){{1,3}}(?:{suffixes})\b|\b(?:{prefixes})\s+(?:{word})(?:\s+{word})?")


def _alternation(words: tuple[str, ...] | list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


EMAIL = re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}\b")  # bounded: linear on long runs
PHONE = re.compile(r"(?<![\w$.,/-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)\s?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}(?![\w-])"
                   r"|(?<![\w$.,/-])\+\d{2}(?:[\s.-]?\d{2,4}){3,5}(?![\w-])")
MASKED = re.compile(r"(?<!\w)(?:\*{2,}|[xX•]{2,})(?:[-\s*xX•]*)\d{2,4}\b")
ENDING_KW = (r"ending(?: in)?|ends in|last (?:4|four)(?: digits)?(?: of)?|slutter på|terminad[ao] en|que termina en|"
             r"terminant par|se terminant par|endend (?:auf|mit)|mit endung|terminado em|final")
CURRENCY = r"(?:US|CA|AU|NZ|R|S|HK|A|C)?[$€£¥₹]"
CODES = r"USD|EUR|GBP|DKK|SEK|NOK|CHF|MXN|BRL|CAD|AUD|JPY|INR|PLN"
NUMBER = r"\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
UNIT = r"(?:\s?(?:/|per\s|a\s|an\s|each\s)(?:mo|month|day|night|yr|year|week|hour|hr|min|seat|user|person|line)\b)?"
AMOUNT = re.compile(
    rf"(?:(?<![\w$€£])(?:{CURRENCY})\s?(?:{NUMBER})(?![\d])|\b(?:{CODES})\s?(?:{NUMBER})(?!\d)"
    rf"|(?<![\w.,])(?:{NUMBER})\s?(?:€|kr\.?|(?:{CODES})\b|euros?\b|dollars?\b|pesos\b|reais\b))" + UNIT)
CODE = re.compile(r"(?<![\w@./-])(?=[\w./-]*\d)(?=[\w./-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9_./-]*[A-Za-z0-9](?![\w@-])"
                  r"(?:/[A-Z]{2,4}\b)?")
RATE = re.compile(r"(?<![\w$€£.,/])\d[\d,.]*\s?(?:(?:req(?:uest)?s?|calls?|msgs?|messages?|units?|ops|jobs|"
                  r"events|orders|queries|GB|MB|kWh|km|mi)\s?)?(?:/|per\s)(?:min(?:ute)?|s|sec(?:ond)?|h|hr|hour|day)\b",
                  re.IGNORECASE)
HYPHEN_CAPS = re.compile(r"(?<![\w-])[A-Z]{2,6}(?:-[A-Z]{2,6})+(?![\w-])")
ACRONYM = re.compile(r"(?<![\w-])[A-Z]{3,5}(?![\w-])")
LETTER_CODE = re.compile(r"(?<![\w-])[A-Z]{5,8}(?![\w-])")
LONG_NUMBER = re.compile(r"(?<![\w$€£.,/-])\d{4,}(?:[- ]\d{2,})*(?![\w.,]?\d)"
                         r"|(?<![\w$€£.,/-])\d{2,6}(?:[- ]\d{2,6}){2,}(?![\w-])"
                         r"|(?<![\w$€£.,/-])\d{2,}-\d{3,}(?:/[A-Z]{2,4})?(?![\w-])")
ISO_DATE = re.compile(r"(?:19|20)\d\d-[01]\d-[0-3]\d")
VERSION = re.compile(r"(?<![\w.])v?\d{1,4}\.\d{1,2}(?:\.\d{1,3})+(?![\w.]?\d)")
FLIGHT = re.compile(r"(?<![\w-])[A-Z]{2}\s?\d{2,4}(?![\w-])")
UPS = re.compile(r"\b1Z[0-9A-Z]{16}\b")
ADDRESS = re.compile(r"\b\d{1,5}\s+(?:[NSEW]{1,2}\.?\s+)?(?:[A-Z][a-z]+\s+){1,3}(?:St|Street|Ave|Avenue|Rd|Road|Dr|"
                     r"Drive|Blvd|Boulevard|Ln|Lane|Ct|Court|Way|Pl|Place|Pkwy|Parkway|Ter|Terrace|Cir|Circle|Hwy|"
                     r"Highway|Loop|Trail|Sq|Square|Walk)\b\.?(?:,?\s*(?:Apt|Unit|Suite|Ste|#)\.?\s*\w+)?")
PERSON = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Prof|Sr|Sra|Mme|Herr|Frau)\.?\s+[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?")
CAPS_NAME = re.compile(r"\b[A-Z]{3,}(?:\s+[A-Z]{3,}){1,3}\b")
NOT_IDS = re.compile(r"^(?:\d+(?:am|pm|st|nd|rd|th|er|e|k|x|s|gb|mb|kb|tb|mbps|gbps|ghz|mhz|min|mins|hrs?|ms|sec|"
                     r"dbmv|db|lbs?|kg|mg|ft|in|mm|cm|km|mi|mph|kwh|kw|w|v|p|hz|yo|yr|yrs|mo|h|d|m|pcs?|gems?)|"
                     r"[a-z]+\d|mp3|mp4|4g|5g|3g|covid-19|wi-fi|2fa|24/7|b2b|p\d|t\d|\d+p|\d+-[a-z]+)$",
                     re.IGNORECASE)
FILE_NAME = re.compile(r"\.(jpe?g|png|gif|heic|pdf|docx?|csv|xlsx?|txt|mp4|mov|zip)$", re.IGNORECASE)
PHONE_WORDS = re.compile(r"phone|call|text|tel\b|mobile|cell|line|number on|tlf|teléfono|téléphone|telefon|celular",
                         re.IGNORECASE)


@dataclass
class Mention:
    kind: FactKind
    value: str
    key: str  # normalised for comparison: lower-case letters and digits
    turn: Turn
    evidence: str  # the sentence (or line) it came from
    start: int
    end: int
    strength: float  # how useful at a glance
    labelled: bool = False  # a keyword or prefix named its kind
    negated: bool = False  # "not X", "instead of X": the speaker rejects this value
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def speaker(self) -> str:
        return self.turn.role


def norm_key(value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.lower())


def amount_key(value: str) -> str:
    """"€93.00" and "93,00 €" and "EUR 93" share a key: currency-free number with two decimals."""
    num = re.search(NUMBER, value)
    if not num:
        return norm_key(value)
    raw = num.group().replace(" ", "")
    m = re.fullmatch(r"(.*?)[.,](\d{1,2})", raw)
    whole, cents = (m.group(1), m.group(2)) if m else (raw, "00")
    whole = re.sub(r"[.,]", "", whole)
    return f"{int(whole or 0)}.{cents.ljust(2, '0')}"


def _kind_before(text: str, start: int) -> FactKind | None:
    """The kind named by the nearest keyword before `start`, within the same clause."""
    window = text[max(0, start - 48):start]
    window = re.split(r"[.!?\n;]|\band\b|,\s(?=[A-Z])", window)[-1]
    best: tuple[int, FactKind] | None = None
    for pattern, kind in _keyword_res():
        for m in pattern.finditer(window):
            if best is None or m.end() > best[0]:
                best = (m.end(), kind)
    return best[1] if best else None


def _kind_of_prefix(value: str) -> FactKind | None:
    prefix = re.match(r"[A-Za-z]{1,5}(?=[-_]?\d)", value)
    if not prefix:
        return None
    kind = patterns()["prefix_kinds"].get(prefix.group().upper())
    return FactKind(kind) if kind else None


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - 16):start].lower()
    return bool(re.search(r"\b(?:not|instead of|rather than|n[ãa]o|nicht|pas|ikke|no es)\s*[,:-]?\s*"
                          r"(?:it'?s\s+|it is\s+|the\s+)?$", before))


def sentence_at(text: str, start: int) -> str:
    """The sentence of a turn's text around `start` (the evidence of a mention)."""
    lo = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start), text.rfind("! ", 0, start),
             text.rfind("? ", 0, start))
    hi_candidates = [i for i in (text.find(". ", start), text.find("\n", start), text.find("! ", start),
                                 text.find("? ", start)) if i != -1]
    hi = min(hi_candidates) + 1 if hi_candidates else len(text)
    return text[lo + 1 if lo >= 0 else 0:hi].strip()


# value, start, end, kind (None: from the context), strength, labelled
Found = tuple[str, int, int, FactKind | None, float, bool]


@dataclass(frozen=True)
class Extractor:
    """One declared extractor: what it finds (`find`) and the kind it yields when the context names none."""

    name: str
    default: FactKind
    find: Callable[[str], Iterator[Found]]


def _emails(text: str) -> Iterator[Found]:
    for m in EMAIL.finditer(text):
        yield m.group(), m.start(), m.end(), FactKind.EMAIL, 0.5, True


def _card_endings(text: str) -> Iterator[Found]:
    for m in _compiled("card").finditer(text):
        brand = m.group("brand")
        value = f"{brand} ending {m.group('digits')}" if brand else f"ending {m.group('digits')}"
        if brand and brand[0].islower() and brand.lower() in {"card", "account", "line"}:
            value = f"{brand} ending {m.group('digits')}"
        yield value, m.start(), m.end(), FactKind.LAST4, 0.8, True


def _masked(text: str) -> Iterator[Found]:
    for m in MASKED.finditer(text):
        yield m.group(), m.start(), m.end(), FactKind.MASKED_NUMBER, 0.6, True


def _imei(text: str) -> Iterator[Found]:
    for m in re.finditer(r"(?<!\d)\d{15}(?!\d)", text):
        near = text[max(0, m.start() - 30):m.start()]
        if luhn_valid(m.group()) or re.search(r"IMEI", near, re.IGNORECASE):
            yield m.group(), m.start(), m.end(), FactKind.IMEI, 1.0 if luhn_valid(m.group()) else 0.7, True


def _tracking_shapes(text: str) -> Iterator[Found]:
    for m in UPS.finditer(text):
        yield m.group(), m.start(), m.end(), FactKind.TRACKING_NUMBER, 1.0, True


def _amounts(text: str) -> Iterator[Found]:
    for m in AMOUNT.finditer(text):
        value = m.group().strip()
        if not re.search(r"\d", value):
            continue
        before = text[max(0, m.start() - 1):m.start()]
        if before in {"#", "/"}:
            continue
        end = m.start() + len(m.group().rstrip())
        # "$12 setup fee", "$8 credit": up to three words after it when they end in what it is
        after = re.match(r"(?:\s+[^\W\d_][\w-]*){1,3}", text[end:end + 40])
        if after:
            words = after.group().split()
            nouns = set(patterns()["money_nouns"])
            last = max((i for i, w in enumerate(words) if w.lower() in nouns), default=-1)
            if last >= 0:
                value = value + " " + " ".join(words[:last + 1])
                end = end + len(" ".join(after.group().split()[:last + 1])) + 1
        start = m.start()
        # "your usual $95", "the remaining $80": the word in front says what the amount is
        role = re.search(r"\b([^\W\d_]+)\s$", text[max(0, start - 20):start])
        if role and role.group(1).lower() in _amount_roles():
            value = role.group(1) + " " + value
            start -= len(role.group())
        yield value, start, end, FactKind.AMOUNT, 0.75, True


@cache
def _amount_roles() -> frozenset[str]:
    return frozenset(w.lower() for w in patterns()["amount_roles"])


def _versions(text: str) -> Iterator[Found]:
    for m in VERSION.finditer(text):
        if re.search(r"\d{1,2}\.\d{1,2}\.\d{2,4}$", m.group()) and not re.search(r"version|v\d|ios|android|build",
                                                                               text[max(0, m.start() - 20):m.end()],
                                                                               re.IGNORECASE):
            continue  # a date written 1.12.2026
        yield m.group(), m.start(), m.end(), FactKind.VERSION, 0.55, True


def _phones(text: str) -> Iterator[Found]:
    for m in PHONE.finditer(text):
        if re.match(r"[ .-]\d", text[m.end():m.end() + 2]) or \
                re.search(r"\d[ .-]$", text[max(0, m.start() - 2):m.start()]):
            continue  # three groups of a longer grouped number ("9400 1118 2233 4455"): not a phone
        kind = _kind_before(text, m.start())
        digits = re.sub(r"\D", "", m.group())
        if kind is not None and kind not in {FactKind.DEVICE}:
            yield m.group(), m.start(), m.end(), kind, 0.9, True
            continue
        ok = False
        for region in ("US", "GB", "DE", "FR", "ES", "PT", "BR", "DK"):
            try:
                parsed = phonenumbers.parse(m.group(), region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_possible_number(parsed) and (phonenumbers.is_valid_number(parsed)
                                                           or "555" in digits[-7:-4]):
                ok = True
                break
        if ok:
            yield m.group(), m.start(), m.end(), FactKind.PHONE, 0.5, True
        elif len(digits) >= 7:
            yield m.group(), m.start(), m.end(), None, 0.8, False


def _codes(text: str) -> Iterator[Found]:
    for m in CODE.finditer(text):
        value = m.group()
        if NOT_IDS.match(value) or len(value) < 4 or FILE_NAME.search(value):
            continue
        if re.search(r"\d(?:am|pm)\b", value, re.IGNORECASE) or re.fullmatch(r"[\d/.:-]+", value):
            continue
        if re.fullmatch(r"[a-z]{3,}\d{1,2}", value) or re.fullmatch(r"\d{1,2}[:.]\d{2}(?:am|pm)?", value, re.I):
            continue
        if m.start() and text[m.start() - 1] == "#" and not ("-" in value and re.search(r"[A-Z]", value)):
            continue  # "#help2day" is a hashtag; "#KD-3310" is a reference written with its number sign
        letters = sum(ch.isalpha() for ch in value)
        digits = sum(ch.isdigit() for ch in value)
        strength = 1.0 if ("-" in value or "_" in value or digits >= 4) else 0.8
        if value.lower() == value and "-" not in value and "_" not in value:
            strength = 0.5  # lower-case words with digits are rarely references
        if letters > 6 and digits <= 1:
            continue
        kind = _kind_of_prefix(value) or _kind_before(text, m.start())
        if kind is None and re.fullmatch(r"[A-Z]{1,3}\d{2,5}[A-Z]?", value) and digits >= 3:
            kind = FactKind.DEVICE  # model numbers: "QN7300", "XR500"
            strength = 0.6
        yield value, m.start(), m.end(), kind, strength, kind is not None


def _letter_codes(text: str) -> Iterator[Found]:
    """Letter-only codes count only right after a keyword that names them ("booking code QWERTZ")."""
    common = set(patterns()["common_caps"])
    for m in LETTER_CODE.finditer(text):
        kind = _kind_before(text, m.start())
        window = text[max(0, m.start() - 24):m.start()].lower()
        keyword = re.search(r"code|ref|locator|pnr|number|#|:", window)
        if kind in {FactKind.BOOKING_REF, FactKind.REFERENCE} and keyword and m.group() not in common:
            yield m.group(), m.start(), m.end(), kind, 0.9, True


def _rates(text: str) -> Iterator[Found]:
    for m in RATE.finditer(text):
        yield m.group(), m.start(), m.end(), FactKind.RATE, 0.6, True


@cache
def _code_keyword_re() -> re.Pattern[str]:
    words = _alternation(tuple(patterns()["code_keywords"]))
    return re.compile(rf"\b(?P<kw>{words})\s*[:#]?\s+(?P<code>[A-Z0-9][A-Z0-9-]{{1,9}})(?![\w-])")


def _keyword_codes(text: str) -> Iterator[Found]:
    """Short codes a keyword names ("reject code 7F", "queue ESC-PRI"): the keyword stays, it says what it is."""
    common = set(patterns()["common_caps"])
    for m in _code_keyword_re().finditer(text):
        code = m.group("code")
        if code in common or not re.search(r"[A-Z]", code) and len(code) < 3:
            continue
        yield f"{m.group('kw')} {code}", m.start(), m.end(), FactKind.CODE, 0.7, True
    for m in HYPHEN_CAPS.finditer(text):
        if not any(w in common for w in m.group().split("-")):
            yield m.group(), m.start(), m.end(), FactKind.CODE, 0.7, True


def acronyms(text: str) -> Iterator[Found]:
    """Uncommon acronyms ("an OFX export", "SSR WCHR"): not a value alone; the card keeps the ones that come back
    (analyse.py)."""
    common = set(patterns()["common_caps"])
    for m in ACRONYM.finditer(text):
        word = m.group()
        near = text[max(0, m.start() - 12):m.end() + 12]
        if word in common or re.search(r"[A-Z]{3,}\s+[A-Z]{3,}", near):
            continue  # a shouted phrase ("IT IS STILL DOWN") is not a term
        yield word, m.start(), m.end(), FactKind.CODE, 0.4, False


def _numbers(text: str) -> Iterator[Found]:
    for m in LONG_NUMBER.finditer(text):
        value = m.group().strip()
        if re.fullmatch(r"(19|20)\d\d", value) or ISO_DATE.fullmatch(value):
            continue
        state_code = re.search(r"\b[A-Z]{2}\s$", text[max(0, m.start() - 3):m.start()])
        if re.fullmatch(r"\d{5}(?:-\d{4})?", value) and state_code:
            continue  # a postcode after a state code ("CA 90210")
        digits = re.sub(r"\D", "", value)
        if len(digits) < 5 and not re.search(r"[-/]", value):
            continue
        after = text[m.end():m.end() + 6].lower()
        if re.match(r"\s?(kwh|kw|km|mi|miles|gb|mb|gems?|points|pts|pieces|pcs|items|mg|ml)\b", after):
            continue  # quantities, not ids
        kind = _kind_before(text, m.start())
        if kind is None and re.fullmatch(r"1?[2-9]\d\d[2-9]\d{6}", digits) and len(digits) in (10, 11):
            kind = FactKind.PHONE
        yield value, m.start(), m.end(), kind, 0.5 if kind == FactKind.PHONE else 0.9, kind is not None


def _flights(text: str) -> Iterator[Found]:
    for m in FLIGHT.finditer(text):
        if re.search(r"(flight|flying|vuelo|vol|flug|voo)\s*$", text[max(0, m.start() - 12):m.start()], re.I):
            yield m.group(), m.start(), m.end(), FactKind.FLIGHT, 0.7, True


def _addresses(text: str) -> Iterator[Found]:
    for m in ADDRESS.finditer(text):
        yield m.group(), m.start(), m.end(), FactKind.ADDRESS, 0.5, True


def _devices(text: str) -> Iterator[Found]:
    for m in _compiled("device").finditer(text):
        if len(m.group()) > 3:
            yield m.group(), m.start(), m.end(), FactKind.DEVICE, 0.55, True


def _people(text: str) -> Iterator[Found]:
    for m in PERSON.finditer(text):
        yield m.group(), m.start(), m.end(), FactKind.PERSON, 0.4, True


def _organisations(text: str) -> Iterator[Found]:
    for m in _compiled("org").finditer(text):
        yield m.group(), m.start(), m.end(), FactKind.ORGANISATION, 0.5, True
    common = set(patterns()["common_caps"])
    for m in CAPS_NAME.finditer(text):
        words = m.group().split()
        if any(w in common for w in words) or not all(re.search(r"[AEIOUY]", w) for w in words):
            continue
        yield m.group(), m.start(), m.end(), FactKind.ORGANISATION, 0.35, True


EXTRACTORS: list[Extractor] = [
    Extractor("email", FactKind.EMAIL, _emails),
    Extractor("card_ending", FactKind.LAST4, _card_endings),
    Extractor("masked", FactKind.MASKED_NUMBER, _masked),
    Extractor("imei", FactKind.IMEI, _imei),
    Extractor("tracking_shape", FactKind.TRACKING_NUMBER, _tracking_shapes),
    Extractor("amount", FactKind.AMOUNT, _amounts),
    Extractor("version", FactKind.VERSION, _versions),
    Extractor("phone", FactKind.PHONE, _phones),
    Extractor("rate", FactKind.RATE, _rates),
    Extractor("keyword_code", FactKind.CODE, _keyword_codes),
    Extractor("code", FactKind.REFERENCE, _codes),
    Extractor("letter_code", FactKind.BOOKING_REF, _letter_codes),
    Extractor("number", FactKind.REFERENCE, _numbers),
    Extractor("flight", FactKind.FLIGHT, _flights),
    Extractor("address", FactKind.ADDRESS, _addresses),
    Extractor("device", FactKind.DEVICE, _devices),
    Extractor("person", FactKind.PERSON, _people),
    Extractor("organisation", FactKind.ORGANISATION, _organisations),
]


class TakenSpans:
    """Non-overlapping spans already claimed, sorted, so each check is a binary search: a text with thousands of
    candidates costs n log n, not n squared."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        at = bisect_right(self.starts, start)
        if at and self.ends[at - 1] > start:
            return True
        return at < len(self.starts) and self.starts[at] < end

    def add(self, start: int, end: int) -> None:
        at = bisect_right(self.starts, start)
        self.starts.insert(at, start)
        self.ends.insert(at, end)


class _Span(NamedTuple):
    """A mention without its turn (what `_spans` keeps between analyses)."""

    kind: FactKind
    value: str
    key: str
    evidence: str
    start: int
    end: int
    strength: float
    labelled: bool
    negated: bool
    dated: bool = False  # a calendar date: `when` is its resolved day, or None
    when: datetime | None = None


def _spans(text: str, occurred_at: datetime) -> tuple[_Span, ...]:
    """Every value in one turn's text, the first extractor to claim a span wins: a pure function of the text
    and the time it was written (relative dates)."""
    out: list[_Span] = []
    taken = TakenSpans()
    for ex in EXTRACTORS:
        for value, start, end, kind, strength, labelled in ex.find(text):
            value = value.strip(" .,;:")
            if not value or len(value) > 120 or taken.overlaps(start, end):
                continue
            resolved = kind or ex.default
            key = amount_key(value) if resolved == FactKind.AMOUNT else norm_key(value)
            if resolved == FactKind.LAST4:
                key = "last4:" + key[-4:]
            out.append(_Span(resolved, value, key, sentence_at(text, start), start, end, strength, labelled,
                             _negated(text, start)))
            taken.add(start, end)
    for written, when, start, end in find_dates(text, occurred_at):
        if taken.overlaps(start, end):
            continue
        out.append(_Span(FactKind.DATE, written, norm_key(written), sentence_at(text, start), start, end, 0.3, True,
                         _negated(text, start), True, when))
    return tuple(sorted(out, key=lambda span: span.start))


# A history analysed again after a new message reuses the work on its older turns; long texts are not kept
# (at most 8,192 x 4,000 characters held).
CACHED_TEXT_CHARS = 4_000
_recent_spans = lru_cache(maxsize=8192)(_spans)


def extract_turn(turn: Turn) -> list[Mention]:
    """Every value in one turn, the first extractor to claim a span wins."""
    find = _recent_spans if len(turn.text) <= CACHED_TEXT_CHARS else _spans
    return [Mention(s.kind, s.value, s.key, turn, s.evidence, s.start, s.end, s.strength, s.labelled, s.negated,
                    {"when": s.when} if s.dated else {})
            for s in find(turn.text, turn.item.occurred_at)]


def extract(turns: list[Turn]) -> list[Mention]:
    out: list[Mention] = []
    for turn in turns:
        out.extend(extract_turn(turn))
    return out


def tried_phrase(sentence: str) -> str | None:
    """What the customer already did, as a short phrase ("restarted the router", "reinstalled the app")."""
    from copilot.engine.offline.segment import rx

    m = rx("tried").search(sentence)
    if not m or sentence.rstrip().endswith("?"):
        return None
    start = m.start()
    phrase = sentence[start:]
    lead = re.match(r"(?:i(?:'ve| have)?|we(?:'ve| have)?|already|also)\s+(?:(?:already|also|even|just)\s+)*", phrase,
                    re.IGNORECASE)
    if lead:
        phrase = phrase[lead.end():]
    phrase = re.split(r"[.;!?(]|,\s(?:but|and then|so|which)\b|\s(?:but|because|and still|and it|so)\s", phrase)[0]
    return _clause(phrase)


def tried_phrases(sentence: str) -> list[str]:
    """Every step of a list of what the customer did ("restarted it, did a reset and swapped the cable")."""
    first = tried_phrase(sentence)
    if not first:
        return []
    out = [first]
    at = sentence.find(first.split()[0])
    tail = re.split(r"[.;!?(]|\s(?:but|because|and still|and it|so)\s", sentence[at:])[0]
    for part in CLAUSE_BREAK.split(tail)[1:]:
        part = re.sub(r"^\s*(?:and|also|then|even)\s+", "", part.strip(), flags=re.IGNORECASE)
        head = part.split()[0].lower() if part.split() else ""
        # the same subject's next step starts on a past verb ("did a reset", "swapped the cable")
        if re.fullmatch(r"[a-z-]+ed|did|went|took|sent|made|put|got|gave|spoke|paid|tried", head):
            phrase = _clause(part)
            if phrase and len(phrase.split()) >= 2:
                out.append(phrase)
    return out


TRIED_MAX_WORDS = 6
# words a phrase may be cut before: a new clause, a list item, a preposition that starts a detail
CLAUSE_BREAK = re.compile(r",\s|\s(?:and|or|then|but|y|et|und|e)\s", re.IGNORECASE)
PHRASE_BREAK = frozenset({"for", "with", "from", "to", "at", "in", "on", "by", "since", "after", "before", "because",
                          "like", "about", "via", "when", "while", "until", "so", "that", "which", "who"})
FUNCTION_END = frozenset({"a", "an", "the", "my", "your", "our", "their", "his", "her", "its", "of", "to", "for",
                          "in", "on", "at", "with", "from", "by", "and", "or", "it's", "is", "was", "el", "la", "le",
                          "de", "der", "die", "das"})


def _clause(phrase: str) -> str | None:
    """The first clause of a phrase, at most TRIED_MAX_WORDS, cut at a phrase boundary, never mid-phrase."""
    phrase = CLAUSE_BREAK.split(phrase)[0]
    words = phrase.split()
    if len(words) > TRIED_MAX_WORDS:
        cut = max((i for i in range(2, TRIED_MAX_WORDS + 1) if words[i].lower() in PHRASE_BREAK), default=0)
        words = words[:cut or TRIED_MAX_WORDS]
    while words and words[-1].lower().strip(",") in FUNCTION_END:
        words.pop()
    return " ".join(words).strip(" ,") or None
