"""Stage 3 of the card (DESIGN §3): what is true now, over the whole history.

- Values: mentions of one value merge into one fact; a corrected value ("sorry, it's X not Y", a transposed id
  that a read-back or the records contradict, a changed amount) is superseded everywhere, and `mask` blanks
  it out of any text shown again.
- Commitments: an agent's promise is open until fulfilled (a later message says it was done), replaced (a new
  date or plan for the same thing) or cancelled; a request to the customer closes when they send what was
  asked for. Statements ("I see the port completed") are neither.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache

from copilot.engine.offline.dates import find_dates, find_due
from copilot.engine.offline.extract import Mention, luhn_ok
from copilot.engine.offline.kinds import ID_KINDS, FactKind
from copilot.engine.offline.segment import Turn, lexicon, rx
from copilot.engine.offline.text import split_sentences

MASK = "[…]"
NOT_FOUND = re.compile(r"couldn'?t find|can'?t find|cannot find|could not find|not find|don'?t see that|doesn'?t exist|"
                       r"no such|belongs to a different|not (?:a )?valid|invalid|wasn'?t found|not found|"
                       r"no encontr|introuvable|nicht gefunden|n[ãa]o encontr", re.IGNORECASE)
BY_WORD = re.compile(r"\b(?:by|until|before|no later than|on|for|to|até|bis(?: zum)?|hasta(?: el)?|para el|d'ici le|"
                     r"avant le|el|le|am|zum|em|au)\s*$", re.IGNORECASE)


def aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def family(kind: FactKind) -> str:
    if kind in ID_KINDS or kind in {FactKind.PHONE, FactKind.LAST4, FactKind.MASKED_NUMBER}:
        return "id"
    return kind.value


# ---------------------------------------------------------------- values


@dataclass
class Value:
    """One value of the history, all its mentions merged."""

    kind: FactKind
    key: str
    mentions: list[Mention]
    superseded: bool = False

    @property
    def first(self) -> Mention:
        return self.mentions[0]

    @property
    def display(self) -> str:
        """The best written form: the most frequent, then the longest with separators ("8471-0032")."""
        forms: dict[str, int] = {}
        for m in self.mentions:
            forms[m.value] = forms.get(m.value, 0) + 1
        if self.kind == FactKind.AMOUNT:
            return max(forms, key=lambda v: (" " in v.strip() and not re.fullmatch(r"\S+ \w{3}", v),
                                             bool(re.search(r"[.,]\d\d\b", v)), forms[v], len(v)))
        if self.kind in ID_KINDS or self.kind == FactKind.REFERENCE:
            return max(forms, key=lambda v: (len(re.sub(r"[^0-9A-Za-z]", "", v)), bool(re.search(r"[-/]", v)),
                                             forms[v]))
        return max(forms, key=lambda v: (forms[v], len(v)))

    @property
    def best_kind(self) -> FactKind:
        labelled = [m.kind for m in self.mentions if m.labelled and m.kind != FactKind.REFERENCE]
        return max(set(labelled), key=labelled.count) if labelled else self.kind

    def confirmations(self) -> float:
        """How well the history backs this value: mentions, records and read-backs, checksums, not "not found"."""
        score = 0.0
        for m in self.mentions:
            score += 1.0
            if m.turn.role in {"agent", "system"}:
                score += 1.0
            if NOT_FOUND.search(m.evidence):
                score -= 3.0
            if m.negated:
                score -= 3.0
        digits = re.sub(r"\D", "", self.key)
        if len(digits) in (15, 16) and digits == self.key:
            score += 4.0 if luhn_ok(digits) else 0.0
        return score


def _transposed_or_close(a: str, b: str) -> tuple[bool, bool]:
    """(near, transposition): same length, one or two positions differ; a swap of characters is a transposition."""
    if a == b or len(a) != len(b) or len(a) < 4:
        return False, False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) > 2:
        return False, False
    return True, sorted(a) == sorted(b)


def merge_values(mentions: list[Mention]) -> list[Value]:
    groups: dict[tuple[str, str], Value] = {}
    order: list[tuple[str, str]] = []
    for m in mentions:
        fam = family(m.kind)
        key = (fam, m.key)
        if key not in groups:
            groups[key] = Value(m.kind, m.key, [])
            order.append(key)
        groups[key].mentions.append(m)
    values = [groups[k] for k in order]
    # "7730215" said alone is the "AB-7730215" of the records; "41-99120" is "41-99120/NYC"
    out: list[Value] = []
    for v in values:
        if family(v.kind) == "id" and len(v.key) >= 5:
            host = next((o for o in values if o is not v and family(o.kind) == "id" and len(o.key) > len(v.key)
                         and v.key in o.key and not o.key.startswith("last4")), None)
            if host is not None:
                host.mentions.extend(v.mentions)
                host.mentions.sort(key=lambda m: (m.turn.index, m.start))
                continue
        out.append(v)
    return out


def find_superseded(values: list[Value]) -> None:
    """Mark corrected values: explicit corrections in a turn, rejected values, transposed ids."""
    cue = rx("correction_cue")
    by_turn: dict[int, list[tuple[Mention, Value]]] = {}
    for v in values:
        for m in v.mentions:
            by_turn.setdefault(m.turn.index, []).append((m, v))
    for v in values:
        if all(m.negated for m in v.mentions) and any(o is not v and family(o.kind) == family(v.kind) and
                                                      o.first.turn.index <= v.mentions[-1].turn.index + 1
                                                      for o in values):
            v.superseded = True
    # "£530, sorry no, £350": a value followed, in the same turn or the same speaker's next one, by a
    # correction cue and a similar value of the same family
    turns = sorted(by_turn)
    for idx in turns:
        pairs = sorted(by_turn[idx], key=lambda p: p[0].start)
        nxt = [t for t in turns if idx < t <= idx + 2]
        later = pairs[:]
        for t in nxt:
            same = [p for p in by_turn[t] if p[0].turn.role == pairs[0][0].turn.role]
            later += sorted(same, key=lambda p: p[0].start)
        for i, (m, v) in enumerate(pairs):
            for m2, v2 in later[i + 1:]:
                if v2 is v or family(v2.kind) != family(v.kind) or v.kind == FactKind.DATE:
                    continue
                same_turn = m2.turn is m.turn
                between = m.turn.text[m.end:m2.start] if same_turn else m.turn.text[m.end:] + " " + \
                    m2.turn.text[:m2.start]
                if len(between) > 90 or not cue.search(between):
                    continue
                near, _swap = _transposed_or_close(v.key.replace(".", ""), v2.key.replace(".", ""))
                if near or (v.kind == v2.kind == FactKind.AMOUNT and len(between) < 40):
                    # the pair is a value and its correction: the one the history backs less is the mistake
                    # ("sorry, 4417 not 4471" backs the first; "I mistyped, the subject says 4471" the first too)
                    ca, cb = v.confirmations(), v2.confirmations()
                    (v2 if cb < ca else v).superseded = True
                break
    # ids: a transposition (or a one-character slip next to a correction) of a better-backed id is a mistake
    ids = [v for v in values if family(v.kind) == "id"]
    for a in ids:
        for b in ids:
            if a is b or a.superseded or b.superseded:
                continue
            pairs = [_transposed_or_close(ka, kb) for ka in {m.key for m in a.mentions} | {a.key}
                     for kb in {m.key for m in b.mentions} | {b.key}]
            near, swap = any(p[0] for p in pairs), any(p[1] for p in pairs)
            if not near:
                continue
            cue_near = any(cue.search(m.evidence) for m in a.mentions + b.mentions)
            if not (swap or cue_near):
                continue
            ca, cb = a.confirmations(), b.confirmations()
            if ca == cb:
                # a tie between records: the first record stands (a later copy was re-keyed); a tie in what
                # people typed: the later value is the correction
                records = all(m.turn.role in {"system", "agent"} for m in a.mentions + b.mentions)
                later = a.mentions[-1].turn.index > b.mentions[-1].turn.index
                ca += (-0.1 if later else 0.1) if records else (0.1 if later else -0.1)
            (b if ca > cb else a).superseded = True


def make_mask(superseded: list[Value]):  # noqa: ANN201 - returns a str -> str function
    patterns: list[re.Pattern[str]] = []
    for v in superseded:
        forms = {m.value for m in v.mentions}
        for form in sorted(forms, key=len, reverse=True):
            patterns.append(re.compile(rf"(?<![\w]){re.escape(form)}(?![\w])", re.IGNORECASE))
        chars = re.sub(r"[^0-9a-z]", "", v.key.replace("last4:", ""))
        if len(chars) >= 4 and v.kind != FactKind.AMOUNT:
            flexible = r"[\s-]?".join(re.escape(c) for c in chars)
            patterns.append(re.compile(rf"(?<![\w]){flexible}(?![\w])", re.IGNORECASE))

    def mask(text: str) -> str:
        for p in patterns:
            text = p.sub(MASK, text)
        return text

    return mask


# ---------------------------------------------------------------- commitments


@dataclass
class Commitment:
    kind: str  # promise | request
    text: str
    turn: Turn
    sentence: str
    due: str | None = None
    due_date: datetime | None = None
    ids: set[str] = field(default_factory=set)
    amounts: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)
    status: str = "open"
    callback: bool = False
    overdue: bool = False


@cache
def _topic_res() -> list[tuple[str, re.Pattern[str]]]:
    return [(name, re.compile(rf"(?<!\w)(?:{'|'.join(stems)})", re.IGNORECASE))
            for name, stems in lexicon()["topics"].items()]


@cache
def _object_res() -> list[tuple[str, re.Pattern[str]]]:
    return [(name, re.compile(rf"(?<!\w)(?:{'|'.join(words)})(?!\w)", re.IGNORECASE))
            for name, words in lexicon()["request_objects"].items()]


@lru_cache(maxsize=4096)
def _topics(text: str) -> frozenset[str]:
    return frozenset(name for name, p in _topic_res() if p.search(text))


@lru_cache(maxsize=4096)
def _objects(text: str) -> frozenset[str]:
    return frozenset(name for name, p in _object_res() if p.search(text))


def _numbers(text: str) -> set[str]:
    """Significant numbers in a sentence (quantities such as "3,500 points" tie a promise to its fulfilment)."""
    return {re.sub(r"\D", "", n) for n in re.findall(r"\d[\d,.]{2,}\d|\d{3,}", text)}


def _due(sentence: str, ref: datetime) -> tuple[str | None, datetime | None]:
    """The date a promise is due: the future date after "by/until/até/bis", else the last future date."""
    dates = [d for d in find_dates(sentence, ref) if d[1] is None or d[1].date() >= ref.date()]
    if dates:
        after_by = [d for d in dates if BY_WORD.search(sentence[:d[2]])]
        written, when, _s, _e = (after_by or dates)[-1] if not after_by else after_by[0]
        return written, when
    if find_dates(sentence, ref):
        return None, None
    return find_due(sentence, ref)


def _mention_index(mentions: list[Mention]) -> dict[int, list[Mention]]:
    out: dict[int, list[Mention]] = {}
    for m in mentions:
        out.setdefault(m.turn.index, []).append(m)
    return out


def _sentence_values(sentence: str, turn_mentions: list[Mention]) -> tuple[set[str], set[str]]:
    ids = {m.key for m in turn_mentions if family(m.kind) == "id" and m.value in sentence}
    amounts = {m.key for m in turn_mentions if m.kind == FactKind.AMOUNT and m.value in sentence}
    return ids | _numbers(sentence) - {re.sub(r"\D", "", a) for a in amounts}, amounts


ANAPHOR = re.compile(r"^(?:that|this|it|they|these|those|das|dies|es|cela|ça|ce|eso|esto|isso|isto)\b", re.I)


def find_commitments(turns: list[Turn], mentions: list[Mention]) -> list[Commitment]:
    promise, request, date_ctx = rx("promise"), rx("request"), rx("commitment_date_context")
    callback = rx("callback_words")
    by_turn = _mention_index(mentions)
    out: list[Commitment] = []
    for turn in turns:
        if not turn.speaks or turn.role == "customer" or turn.internal:
            continue
        ref = aware(turn.item.occurred_at)
        tm = by_turn.get(turn.index, [])
        for i, sentence in enumerate(turn.sentences):
            if len(sentence) < 8 or rx("acknowledgement").match(sentence):
                continue
            question = sentence.rstrip().endswith("?")
            prev = turn.sentences[i - 1] if i else ""
            context = sentence
            ids, amounts = _sentence_values(sentence, tm)
            if prev and (ANAPHOR.match(sentence) or (not ids and not amounts)):
                p_ids, p_amounts = _sentence_values(prev, tm)
                p_named = {m.key for m in tm if family(m.kind) == "id" and m.value in prev}
                ids |= p_ids
                amounts |= p_amounts
                if ANAPHOR.match(sentence) or (len(sentence.split()) < 12 and len(prev.split()) <= 25
                                               and re.search(r"[.!]$", prev) and (p_named or p_amounts)):
                    context = prev + " " + sentence
            if request.search(sentence) and turn.role != "system" or (question and turn.role in {"agent", "bot"}
                                                                        and request.search(sentence)):
                out.append(Commitment("request", context, turn, sentence, ids=ids, amounts=amounts,
                                      topics=set(_topics(context)), objects=set(_objects(sentence))))
                continue
            if question or turn.role == "bot":
                continue
            due, due_date = _due(sentence, ref)
            future_date = due_date is not None and due_date.date() >= ref.date()
            if promise.search(sentence) or (future_date and date_ctx.search(sentence)):
                out.append(Commitment("promise", context, turn, sentence, due, due_date, ids, amounts,
                                      set(_topics(context)), callback=bool(callback.search(sentence))))
    return out


def _overlap(c: Commitment, ids: set[str], amounts: set[str], topics: set[str]) -> bool:
    if c.ids & ids:
        return True
    if c.amounts and amounts:
        return bool(c.amounts & amounts)
    return bool(c.topics & topics) or (not c.topics and not c.ids and not c.amounts)


def resolve(commitments: list[Commitment], turns: list[Turn], mentions: list[Mention]) -> None:
    """Close what later messages fulfilled, replaced, cancelled or answered."""
    fulfilled, replaced, cancelled = rx("fulfilled"), rx("replaced"), rx("cancelled")
    negation, attach, ack, future = rx("negation"), rx("attachment"), rx("acknowledge_receipt"), rx("future_intent")
    by_turn = _mention_index(mentions)
    promises = [c for c in commitments if c.kind == "promise"]
    for c in promises:
        for q in promises:
            if q.turn.index <= c.turn.index or (c.amounts and not q.amounts) or (c.ids and q.ids and
                                                                                not c.ids & q.ids):
                continue  # a money promise is replaced only by another about money, an id's only about it
            if _overlap(c, q.ids, q.amounts, q.topics) and \
                    (q.due_date is not None or c.due_date is None or replaced.search(q.sentence)):
                c.status = "replaced"
                break
    for c in commitments:
        if c.status != "open":
            continue
        for turn in turns:
            if turn.index <= c.turn.index or turn.part in {"subject", "footer"}:
                continue
            tm = by_turn.get(turn.index, [])
            if c.kind == "request":
                quick = turn.item is c.turn.item and not c.objects - {"number"} and turn.speaks
                if turn.role == "customer" and (turn.attachment or quick):
                    c.status = "answered"
                elif turn.role == "customer" and turn.speaks:
                    for s in turn.sentences:
                        if _objects(s) & c.objects and not negation.search(s) and not future.search(s):
                            c.status = "answered"
                            break
                        if "number" in c.objects and any(family(m.kind) == "id" and m.value in s for m in tm) \
                                and not future.search(s):
                            c.status = "answered"
                            break
                elif turn.role in {"agent", "system"} and any(ack.search(s) and (_objects(s) & c.objects or not
                                                                                 c.objects) for s in turn.sentences):
                    c.status = "answered"
                if c.status != "open":
                    break
                continue
            # promises
            if c.callback and turn.role == "agent" and turn.speaks and not turn.internal:
                c.status = "fulfilled"
                break
            for s in (turn.sentences or [turn.text]):
                ids, amounts = _sentence_values(s, tm)
                topics = _topics(s)
                if not _overlap(c, ids, amounts, topics):
                    continue
                if cancelled.search(s) and (c.ids & ids or c.amounts & amounts) and turn.role != "customer":
                    c.status = "cancelled"
                    break
                if fulfilled.search(s) and not (turn.role == "customer" and negation.search(s)) \
                        and not re.search(r"\bif\b|\bwhen\b|\bonce\b|\bsi\b|\bwenn\b|\bse\b", s, re.I):
                    c.status = "fulfilled"
                    break
                if turn.role in {"agent", "system"} and attach.search(s) and "response" in c.topics & topics:
                    c.status = "fulfilled"
                    break
            if c.status != "open":
                break


@dataclass
class CardState:
    values: list[Value]
    superseded: list[Value]
    commitments: list[Commitment]
    mask: object

    def masked(self, text: str) -> str:
        return self.mask(text)  # type: ignore[operator]


def track(turns: list[Turn], mentions: list[Mention]) -> CardState:
    values = merge_values(mentions)
    find_superseded(values)
    superseded = [v for v in values if v.superseded]
    commitments = find_commitments(turns, mentions)
    resolve(commitments, turns, mentions)
    return CardState(values, superseded, commitments, make_mask(superseded))


def problem_score(text: str) -> float:
    """How much a customer sentence states the open need (a question, "still", a money word, digits)."""
    low = text.lower()
    score = 1.2 * len(rx("problem").findall(low))
    score += 1.0 if "?" in text else 0.0
    score += 0.3 * len(re.findall(r"\d", text)) ** 0.5
    if len(text.split()) < 5:
        score -= 2
    if rx("acknowledgement").match(text):
        score -= 3
    return score


def sentences_of(text: str) -> list[str]:
    return [s for line in text.split("\n") for s in split_sentences(line)]
