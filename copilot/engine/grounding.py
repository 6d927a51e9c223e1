"""Grounding check for model output (DESIGN §3): an identifier the customer's history never mentions is a
hallucination.

Identifier-like tokens are emails, phone numbers, money amounts and anything with digits in an id shape
(order, account, booking, tracking, claim, RMA numbers, device models). Dates, times, ordinals, years and
small quantities ("11 weeks", "36h") are not identifiers: models legitimately reformat them.

The same state the engines track is checked too: a value the history corrected or replaced (superseded) must
never be repeated, and a reply must never paste internal guidance (internal articles, agent notes).

Prompt injection (`copilot.engine.injection`): output is checked as a reader sees it (look-alike letters and
invisible characters folded), a sentence that obeys or repeats an attack (an override, a fake role turn, a leaked
prompt, a fake internal note) is dropped, and so is one that echoes a passage of customer text carrying an attack.
A commitment (refund, credit, approval, ...) counts only when an agent or a policy made it; in a card, a sentence
may report the customer's demand for one but never state it as done.

Matching is on a "compact" form of the text (lower case, spaces, dashes and similar separators removed) so
`Q-40718`, `q 40718` and `#Q40718` are the same id, with a digit boundary so `Q-4071` does not match inside
`Q-40718`. Phones compare on their last ten digits, amounts on their numeric value.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from copilot.engine.injection import OUTPUT_FAMILIES, fold, markers, reports_demand

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# Dates and times first: they are removed before any other pattern sees them.
DATE_RES = [
    re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"),
    re.compile(r"\b\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?\b"),
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?", re.IGNORECASE),
]
AMOUNT_RE = re.compile(
    r"(?:(?:[$€£]|\b(?:USD|EUR|GBP)\s?)\s?\d[\d,]*(?:\.\d{1,2})?|\b\d[\d,]*(?:\.\d{1,2})?\s?(?:USD|EUR|GBP|dollars|euros|pounds)\b)",
    re.IGNORECASE,
)
# Phone: digit groups separated by spaces, dots or dashes, optionally a "+" country code or "(area)".
PHONE_RE = re.compile(r"(?<![\w\-/])\+?\(?\d{1,4}\)?(?:[ .\-]\(?\d{2,4}\)?){2,4}(?![\w\-/])")
TOKEN_RE = re.compile(r"#?[A-Za-z0-9][A-Za-z0-9_\-/.]*[A-Za-z0-9]|\b\d\b")
UNIT_RE = re.compile(
    r"^\d{1,3}(?:st|nd|rd|th|h|hr|hrs|hour|hours|min|mins|m|d|day|days|wk|wks|am|pm|g|k|gb|mb|tb|x|p|fps|hz)$"
)
YEAR_RE = re.compile(r"^(?:19|20)\d{2}s?$")
# Characters that carry no identity inside an identifier: "Q-40 718", "(212) 555.0148", "#q40718".
SEPARATORS_RE = re.compile(r"[\s\-‐-―_.,/()#:+'\"]+")
BOUNDARY_RE = re.compile(r"[\s,;:!?]+")
SEPARATORS_IN_ID_RE = re.compile(r"[\-‐-―_./()#+'\"]+")
PHONE_CHARS_RE = re.compile(r"[\d\s().\-+]+")
# Digit groups that belong together (long tracking numbers printed in blocks), longer than a phone.
NUMBER_GROUPS_RE = re.compile(r"(?<![\w\-/])\d{2,}(?:[ .\-]\d{2,}){2,}(?![\w\-/])")
# A sentence ends at ., ! or ? followed by white space (so "v9.4" and "B.12" stay whole), or at a line break.
SENTENCE_RE = re.compile(r"[^\n]*?(?:[.!?]+(?=\s|$)|\n+|$)")

# Commitments an agent or a policy must have made before a suggestion may repeat them.
COMMITMENT_RE = re.compile(
    r"\b(refund\w*|reimburs\w*|compensat\w*|credit(?:ed)?|voucher|coupon|discount\w*|waiv\w*|free of charge|"
    r"goodwill|replacement|exchange|upgrade|approv\w*|authori[sz]\w*)\b",
    re.IGNORECASE,
)
NEGATION_RE = re.compile(r"\b(not|no|never|cannot|can't|can’t|unable|won't|won’t|isn't|aren't|don't|unfortunately)\b",
                         re.IGNORECASE)
STOPWORDS = frozenset({
    "the", "and", "for", "with", "that", "this", "from", "have", "has", "had", "was", "were", "are", "you", "your",
    "they", "them", "their", "there", "what", "when", "which", "would", "could", "should", "about", "into", "over",
    "after", "before", "been", "being", "than", "then", "also", "just", "only", "some", "more", "most", "very",
    "customer", "agent", "said", "says", "asked", "already", "again", "still",
})


def compact(text: str) -> str:
    """Lower-case and drop separators, so the same identifier written differently compares equal."""
    return SEPARATORS_RE.sub("", text.lower())


def _amount_value(text: str) -> Decimal | None:
    digits = re.sub(r"[^\d.]", "", text.replace(",", ""))
    try:
        return Decimal(digits).normalize()
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class Identifier:
    kind: str  # "email" | "phone" | "amount" | "id"
    text: str  # as written


def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def extract_identifiers(text: str) -> list[Identifier]:
    """Identifier-like tokens of a text, in order of kind (emails, phones, amounts, ids)."""
    found: list[Identifier] = []
    # Amounts before dates: "$45.00" is money, while "10.22" alone is a date.
    for pattern, kind in ((EMAIL_RE, "email"), (AMOUNT_RE, "amount"), *((p, "date") for p in DATE_RES)):
        spans = []
        for m in pattern.finditer(text):
            spans.append(m.span())
            if kind != "date":
                found.append(Identifier(kind, m.group(0)))
        text = _mask(text, spans)
    spans = []
    for m in PHONE_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 7 <= len(digits) <= 15:
            spans.append(m.span())
            found.append(Identifier("phone", m.group(0)))
    text = _mask(text, spans)
    spans = []
    for m in NUMBER_GROUPS_RE.finditer(text):
        spans.append(m.span())
        found.append(Identifier("id", m.group(0)))
    text = _mask(text, spans)
    for m in TOKEN_RE.finditer(text):
        token = m.group(0).lstrip("#").strip("./-_")
        if _is_id_like(token):
            found.append(Identifier("id", token))
    return found


def _is_id_like(token: str) -> bool:
    low = token.lower()
    digits = sum(c.isdigit() for c in low)
    if digits == 0 or UNIT_RE.match(low) or YEAR_RE.match(low):
        return False
    letters = sum(c.isalpha() for c in low)
    # Three digits or more ("10293", "SM-G991B"), or letters mixed with digits in a longer token ("X1Z9").
    return digits >= 3 or (letters > 0 and len(compact(low)) >= 4)


# Pasted, not paraphrased: this many consecutive words shared with internal guidance.
PASTE_WORDS = 7
INJECTED_WORDS = 5
WORD_RE = re.compile(r"\w+")


def _shingles(text: str, size: int = PASTE_WORDS) -> set[tuple[str, ...]]:
    words = WORD_RE.findall(text.lower())
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


class Grounding:
    """The texts model output may draw identifiers and commitments from, and the checks against them.

    `superseded`: values the history corrected or replaced; output repeating one is wrong however grounded.
    `internal`: agent guidance (internal articles and notes); `public` text that shares a passage with it
    (a public article, an agent's message to the customer) makes that passage quotable after all."""

    def __init__(self, texts: Iterable[str], commitment_texts: Iterable[str] = (), *,
                 superseded: Iterable[str] = (), internal: Iterable[str] = (), public: Iterable[str] = (),
                 injected: Iterable[str] = ()) -> None:
        texts = [t for t in texts if t]
        # Customer passages carrying an attack: echoed, they would carry it out (a shorter run than a paste).
        self._injected = set().union(*(_shingles(t, INJECTED_WORDS) for t in injected if t))
        # Two characters or fewer ("2") would match everywhere: such values cannot be told apart in text.
        self._superseded = {v.strip(): compact(v) for v in superseded if len(compact(v)) >= 3}
        allowed = set().union(*(_shingles(t) for t in public if t)) if public else set()
        self._internal = set().union(*(_shingles(t) for t in internal if t)) - allowed if internal else set()
        self._compact = "\n".join(compact(t) for t in texts)
        # The compact form glues neighbouring numbers ("ref KT-04, 6 nights" -> "kt046nights"), which would fail the
        # digit boundary; this second form keeps a boundary where the text had white space or punctuation.
        self._spaced = "\n".join(_spaced(t) for t in texts)
        self._words = {w for t in texts for w in re.findall(r"[a-z0-9]{4,}", t.lower())}
        self._amounts: set[Decimal] = set()
        for t in texts:
            for m in AMOUNT_RE.finditer(t):
                value = _amount_value(m.group(0))
                if value is not None:
                    self._amounts.add(value)
        self._commitments = {m.group(1).lower()[:6] for t in commitment_texts for m in COMMITMENT_RE.finditer(t)}

    def knows(self, ident: Identifier) -> bool:
        if ident.kind == "amount":
            value = _amount_value(ident.text)
            return value is not None and value in self._amounts
        digits = re.sub(r"\D", "", ident.text)
        if ident.kind == "phone" or (PHONE_CHARS_RE.fullmatch(ident.text) and 7 <= len(digits) <= 15):
            # A phone matches on its last ten digits: "+1 (503) 555-0149" is "503-555-0149" and "555-0149"
            return digits[-10:] in self._compact
        return self._contains(compact(ident.text))

    def _contains(self, needle: str) -> bool:
        """Substring of the history, not glued to more digits (so `a1029` is not in `a10293`)."""
        return not needle or _find_bounded(self._compact, needle) or _find_bounded(self._spaced, needle)

    def superseded_in(self, text: str) -> list[str]:
        """Superseded values the text repeats (written any way: "Q 40718" is "Q-40718")."""
        if not self._superseded:
            return []
        haystacks = (compact(text), _spaced(text))
        return [value for value, needle in self._superseded.items()
                if any(_find_bounded(h, needle) for h in haystacks)]

    def pastes_internal(self, text: str) -> bool:
        """The text copies a passage of internal guidance word for word."""
        return bool(self._internal) and not self._internal.isdisjoint(_shingles(text))

    def echoes_injection(self, text: str) -> bool:
        """The text repeats a passage of customer text that carries an attack."""
        return bool(self._injected) and not self._injected.isdisjoint(_shingles(text, INJECTED_WORDS))

    def unknown_identifiers(self, text: str) -> list[Identifier]:
        return [ident for ident in extract_identifiers(text) if not self.knows(ident)]

    def unsupported_commitments(self, text: str) -> list[str]:
        """Commitments (refund, credit, ...) an affirmative sentence makes that no agent or policy made."""
        out = []
        for sentence in split_sentences(text):
            if NEGATION_RE.search(sentence):
                continue  # "we can't offer a refund" promises nothing
            out += [m.group(1) for m in COMMITMENT_RE.finditer(sentence)
                    if m.group(1).lower()[:6] not in self._commitments]
        return out

    def unsupported_claims(self, text: str) -> list[str]:
        """For the card: commitments a sentence states as made or done that no agent or policy made. A sentence
        reporting the customer's demand ("she asks for a refund") is fine."""
        return [word for sentence in split_sentences(text) if not reports_demand(sentence)
                for word in self.unsupported_commitments(sentence)]

    def value_is_grounded(self, value: str) -> tuple[bool, int]:
        """A fact value is grounded when it repeats no superseded value, all its identifiers are known and, if it
        has none, when at least one of its content words appears in the history (a paraphrase is fine, an
        invention is not). Returns (grounded, number of unknown or superseded values)."""
        stale = self.superseded_in(value)
        if stale:
            return False, len(stale)
        idents = extract_identifiers(value)
        unknown = [i for i in idents if not self.knows(i)]
        if unknown:
            return False, len(unknown)
        if idents or self._contains(compact(value)):
            return True, 0
        for pattern in DATE_RES:  # a date the model reformatted ("2031-03-09" for "Mar 9") is not an invention
            value = pattern.sub(" ", value)
        words = [w for w in re.findall(r"[a-z0-9]{4,}", value.lower()) if w not in STOPWORDS]
        if not words or any(w in self._words for w in words):
            return True, 0
        return False, 1


def _spaced(text: str) -> str:
    return SEPARATORS_IN_ID_RE.sub("", BOUNDARY_RE.sub("|", text.lower()))


def _find_bounded(haystack: str, needle: str) -> bool:
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        before_ok = start == 0 or not (needle[0].isdigit() and haystack[start - 1].isdigit())
        after_ok = end == len(haystack) or not (needle[-1].isdigit() and haystack[end].isdigit())
        if before_ok and after_ok:
            return True
        start = haystack.find(needle, start + 1)
    return False


def split_sentences(text: str) -> list[str]:
    return [m.group(0) for m in SENTENCE_RE.finditer(text) if m.group(0).strip()]


@dataclass
class Cleaned:
    text: str
    dropped: int = 0
    removed: list[str] = field(default_factory=list)


def sentence_problems(sentence: str, grounding: Grounding, *, check_commitments: bool = False,
                      check_claims: bool = False) -> list[str]:
    """What is wrong with one sentence of model output: unknown identifiers, superseded values, pasted internal
    guidance, an obeyed or echoed attack and (for replies) commitments nobody made, (for the card) commitments
    stated as made. Checked as a reader sees it: look-alike letters cannot hide a word. Empty when it may be shown."""
    sentence = fold(sentence)
    bad: list[str] = [i.text for i in grounding.unknown_identifiers(sentence)]
    bad += grounding.superseded_in(sentence)
    if grounding.pastes_internal(sentence):
        bad.append("internal guidance")
    bad += [f"injection ({family})" for family in markers(sentence, OUTPUT_FAMILIES)]
    if grounding.echoes_injection(sentence):
        bad.append("injected text")
    if check_commitments:
        bad += grounding.unsupported_commitments(sentence)
    elif check_claims and not bad:  # one reason is enough to drop a card sentence; the count stays per value
        bad += grounding.unsupported_claims(sentence)
    return bad


def clean_text(text: str, grounding: Grounding, *, check_commitments: bool = False,
               check_claims: bool = False) -> Cleaned:
    """Remove each sentence holding an unknown identifier, a superseded value, pasted internal guidance or an
    attack (or, for replies, an unsupported commitment; for the card, a commitment stated as made)."""
    kept: list[str] = []
    out = Cleaned(text="")
    for sentence in split_sentences(text):
        bad = sentence_problems(sentence, grounding, check_commitments=check_commitments, check_claims=check_claims)
        if bad:
            out.dropped += len(bad)
            out.removed += bad
        else:
            kept.append(sentence)
    out.text = "".join(kept).strip()
    return out
