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

from copilot.engine.injection import markers
from copilot.engine.offline.dates import find_dates, find_due
from copilot.engine.offline.extract import Mention
from copilot.engine.offline.kinds import ID_KINDS, FactKind
from copilot.engine.offline.segment import Turn, lexicon, rx
from copilot.engine.offline.text import split_sentences
from copilot.interactions.redact import luhn_valid

MASK = "[…]"
NOT_FOUND = re.compile(r"couldn'?t find|can'?t find|cannot find|could not find|not find|don'?t see that|doesn'?t exist|"
                       r"no such|belongs to a different|not (?:a )?valid|invalid|wasn'?t found|not found|"
                       r"no encontr|introuvable|nicht gefunden|n[ãa]o encontr", re.IGNORECASE)
BY_WORD = re.compile(r"\b(?:by|until|before|no later than|on|for|to|até|bis(?: zum)?|hasta(?: el)?|para el|d'ici le|"
                     r"avant le|el|le|am|zum|em|au)\s*$", re.IGNORECASE)


MOVED_TO = re.compile(r"\b(?:(?:re)?scheduled|moved|changed|postponed|pushed(?: back)?|delayed|rebooked|updated|"
                      r"reprogramad[oa]|pospuest[oa]|cambiad[oa]|report[ée]e?|décalée?|verschoben|verlegt|"
                      r"remarcad[oa]|adiad[oa])\b[^.;]{0,40}\b(?:to|for|until|al|para el|para|au|à|auf|zum|den|"
                      r"para o|para a)\s*$", re.IGNORECASE)


def aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


_FAMILY: dict[FactKind, str] = {k: "id" if k in ID_KINDS or k in {FactKind.PHONE, FactKind.LAST4,
                                                                    FactKind.MASKED_NUMBER} else k.value
                                 for k in FactKind}


def family(kind: FactKind) -> str:
    return _FAMILY[kind]  # a table: called for every mention pair, the enum set lookups were a hot spot


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
            # the grouped form ("9400 1118 2233") reads back better than the squashed one a chat log joined
            return max(forms, key=lambda v: (len(re.sub(r"[^0-9A-Za-z]", "", v)), bool(re.search(r"[-/]", v)),
                                             bool(re.search(r"\w \w", v)), forms[v]))
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
            score += 4.0 if luhn_valid(digits) else 0.0
        return score


def _transposed_or_close(a: str, b: str) -> tuple[bool, bool]:
    """(near, transposition): same length, one or two positions differ; a swap of characters is a transposition.
    One character left out or added ("I skipped one") is near too."""
    if a != b and min(len(a), len(b)) >= 5 and abs(len(a) - len(b)) == 1:
        short, long_ = sorted((a, b), key=len)
        return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_))), False
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
            for j in range(i + 1, len(later)):
                m2, v2 = later[j]
                if v2 is v or family(v2.kind) != family(v.kind) or v.kind == FactKind.DATE:
                    continue
                same_turn = m2.turn is m.turn
                between = m.turn.text[m.end:m2.start] if same_turn else m.turn.text[m.end:] + " " + \
                    m2.turn.text[:m2.start]
                if len(between) > 90:
                    break  # later pairs are further away still
                if not cue.search(between):
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
    kind: str  # promise | request | note (an internal note with a date: replaces, never shown)
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
    own_amounts: set[str] = field(default_factory=set)  # amounts of the sentence itself, not its context
    closed_by: str | None = None  # the sentence that fulfilled, replaced, cancelled or answered it


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


NUMBER = re.compile(r"\d[\d,.]{2,}\d|\d{3,}")
NON_DIGIT = re.compile(r"\D")


@lru_cache(maxsize=8192)
def _numbers(text: str) -> frozenset[str]:
    """Significant numbers in a sentence (quantities such as "3,500 points" tie a promise to its fulfilment)."""
    return frozenset(NON_DIGIT.sub("", n) for n in NUMBER.findall(text))


def _due(sentence: str, ref: datetime) -> tuple[str | None, datetime | None]:
    """The date a promise is due (a written date ends with its last letter or digit, not a full stop)."""
    written, when = _due_raw(sentence, ref)
    if written:
        written = re.sub(r"(?<=[^\W\d_])\.$", "", written.strip())
    return written, when


def _due_raw(sentence: str, ref: datetime) -> tuple[str | None, datetime | None]:
    """The date a promise is due: the future date after "by/until/até/bis", else the last future date."""
    dates = [d for d in find_dates(sentence, ref) if d[1] is None or d[1].date() >= ref.date()]
    if dates:
        moved = [d for d in dates if MOVED_TO.search(sentence[:d[2]])]
        if moved:
            return moved[-1][0], moved[-1][1]  # "rescheduled from Tue, Mar 3 to Fri, Mar 6": the new date
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
    return ids | (_numbers(sentence) - {NON_DIGIT.sub("", a) for a in amounts}), amounts


ANAPHOR = re.compile(r"^(?:that|this|it|they|these|those|das|dies|es|cela|ça|ce|eso|esto|isso|isto)\b", re.I)


FIELD_LINE = re.compile(r"^\s*(?P<label>[^\W\d_][\w /&'-]{1,30}):\s+\S")


def _not_a_promise(sentence: str, turn: Turn, due_date: datetime | None, date_ctx: re.Pattern[str]) -> bool:
    """Statements that read like promises but are not ours to keep.

    A bill's due date ("Balance due: $48.10 by Jan 3", "your statement is available") is the customer's to pay;
    a record field ("Meter status: PENDING", "Address: ...") is a value, unless it schedules a dated event
    ("Visit booked: Tue, Mar 4"); a sentence opening on a condition ("If the claim is denied, ...") is a rule.
    """
    if rx("customer_obligation").search(sentence):
        return True
    field_ = FIELD_LINE.match(sentence)
    if field_ and not (due_date is not None and date_ctx.search(sentence)):
        return True
    return bool(rx("conditional_opening").match(sentence)) and due_date is None


def find_commitments(turns: list[Turn], mentions: list[Mention]) -> list[Commitment]:
    """Promises and requests of agents, bots and systems; internal notes that move a date come back as "note"."""
    promise, request, date_ctx = rx("promise"), rx("request"), rx("commitment_date_context")
    callback = rx("callback_words")
    acknowledgement = rx("acknowledgement")
    by_turn = _mention_index(mentions)
    out: list[Commitment] = []
    for turn in turns:
        if not turn.speaks or turn.role == "customer":
            continue
        ref = aware(turn.item.occurred_at)
        tm = by_turn.get(turn.index, [])
        for i, sentence in enumerate(turn.sentences):
            if len(sentence) < 8 or acknowledgement.match(sentence):
                continue
            if turn.internal:
                # a note never becomes an open item (it may not be quoted), but it moves dates ("target moved
                # to 07/10"): kept to replace the promise it changes
                due, due_date = _due(sentence, ref)
                if due_date is not None:
                    out.append(Commitment("note", sentence, turn, sentence, due, due_date,
                                          *_sentence_values(sentence, tm), set(_topics(sentence))))
                continue
            question = sentence.rstrip().endswith("?")
            prev = turn.sentences[i - 1] if i else ""
            context = sentence
            ids, amounts = _sentence_values(sentence, tm)
            own_amounts = set(amounts)
            if prev and (ANAPHOR.match(sentence) or (not ids and not amounts)):
                p_ids, p_amounts = _sentence_values(prev, tm)
                p_named = {m.key for m in tm if family(m.kind) == "id" and m.value in prev}
                ids |= p_ids
                amounts |= p_amounts
                if ANAPHOR.match(sentence) or (len(sentence.split()) < 12 and len(prev.split()) <= 25
                                               and re.search(r"[.!]$", prev) and (p_named or p_amounts)):
                    context = prev + " " + sentence
                    own_amounts |= p_amounts
            if request.search(sentence) and turn.role != "system" or (question and turn.role in {"agent", "bot"}
                                                                        and request.search(sentence)):
                out.append(Commitment("request", context, turn, sentence, ids=ids, amounts=amounts,
                                      topics=set(_topics(context)), objects=set(_objects(sentence))))
                continue
            if question or turn.role == "bot":
                continue
            due, due_date = _due(sentence, ref)
            future_date = due_date is not None and due_date.date() >= ref.date()
            if not (promise.search(sentence) or (future_date and date_ctx.search(sentence))):
                continue
            if _not_a_promise(sentence, turn, due_date, date_ctx):
                continue
            out.append(Commitment("promise", context, turn, sentence, due, due_date, ids, amounts,
                                  set(_topics(context)), callback=bool(callback.search(sentence)),
                                  own_amounts=own_amounts))
    return out


def _overlap(c: Commitment, ids: set[str], amounts: set[str], topics: set[str]) -> bool:
    if c.ids & ids:
        return True
    if c.amounts and amounts:
        return bool(c.amounts & amounts)
    return bool(c.topics & topics) or (not c.topics and not c.ids and not c.amounts)


def resolve(commitments: list[Commitment], turns: list[Turn], mentions: list[Mention],
            notes: list[Commitment] | None = None) -> None:
    """Close what later messages fulfilled, replaced, cancelled or answered."""
    fulfilled, replaced, cancelled = rx("fulfilled"), rx("replaced"), rx("cancelled")
    negation, attach, ack, future = rx("negation"), rx("attachment"), rx("acknowledge_receipt"), rx("future_intent")
    by_turn = _mention_index(mentions)
    promises = [c for c in commitments if c.kind == "promise"]
    _replace(promises, notes or [], replaced)
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
                    _close(c, "answered", turn.text)
                elif turn.role == "customer" and turn.speaks:
                    for s in turn.sentences:
                        if _objects(s) & c.objects and not negation.search(s) and not future.search(s):
                            _close(c, "answered", s)
                            break
                        if "number" in c.objects and any(family(m.kind) == "id" and m.value in s for m in tm) \
                                and not future.search(s):
                            _close(c, "answered", s)
                            break
                elif turn.role in {"agent", "system"}:
                    s = next((s for s in turn.sentences if ack.search(s) and (_objects(s) & c.objects
                                                                              or not c.objects)), None)
                    if s is not None:
                        _close(c, "answered", s)
                if c.status != "open":
                    break
                continue
            # promises
            if c.callback and turn.role == "agent" and turn.speaks and not turn.internal:
                _close(c, "fulfilled", turn.text)
                break
            for s in (turn.sentences or [turn.text]):
                ids, amounts = _sentence_values(s, tm)
                topics = _topics(s)
                if not _overlap(c, ids, amounts, topics):
                    continue
                if cancelled.search(s) and (c.ids & ids or c.amounts & amounts) and turn.role != "customer":
                    _close(c, "cancelled", s)
                    break
                if _fulfils(c, s, turn, fulfilled, negation, replaced):
                    _close(c, "fulfilled", s)
                    break
                if turn.role in {"agent", "system"} and attach.search(s) and "response" in c.topics & topics:
                    _close(c, "fulfilled", s)
                    break
            if c.status != "open":
                break


def _close(c: Commitment, status: str, by: str) -> None:
    c.status = status
    c.closed_by = by


CONDITION = re.compile(r"\b(?:if|when|once|si|wenn|se|sobald|lorsque|quand|cuando|assim que|en cuanto|dès que)\b", re.I)
REPORTED = re.compile(r"\b(?:said|told|says|would|was supposed|were supposed|promised|dijo|dijeron|a dit|m'a dit|"
                      r"hat gesagt|sagte|disse|falou)\b", re.I)


def _fulfils(c: Commitment, s: str, turn: Turn, fulfilled: re.Pattern[str], negation: re.Pattern[str],
             replaced: re.Pattern[str]) -> bool:
    """A later sentence says the promised thing happened: done-wording, not conditional, not a new plan or date."""
    if not fulfilled.search(s) or CONDITION.search(s) or s.rstrip().endswith("?") or s.lstrip().startswith("¿"):
        return False  # "is it ready yet?" asks; it does not report
    if rx("in_progress").search(s):
        return False  # "is being reviewed": under way, not done
    if turn.role == "customer" and (negation.search(s) or REPORTED.search(s)):
        return False  # "it still hasn't arrived", "Ken said it would be paid": not done
    # "has been rescheduled to ...", "the new estimated date is ...": a new promise, not done
    return not (replaced.search(s) or rx("new_estimate").search(s))


def _same_day(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and a.date() == b.date()


def _replace(promises: list[Commitment], notes: list[Commitment], replaced: re.Pattern[str]) -> None:
    """A later promise (or an internal note moving the date) about the same thing replaces an earlier one.

    The same date restated is a confirmation: the earlier one closes as replaced, the confirmation stays open.
    Money promises are replaced only by money promises, an id's only by one about that id, and a date only by a
    statement about the same kind of event (a parcel's release is not replaced by its return to sender).
    """
    for c in promises:
        for q in sorted(promises + notes, key=lambda x: x.turn.index):
            if q is c or q.turn.index < c.turn.index or (q.turn.index == c.turn.index and q.kind == "note"):
                continue
            if q.turn.index == c.turn.index and q.sentence == c.sentence:
                continue
            if q.turn.index == c.turn.index and not (q.due_date and c.due_date and not _same_day(q.due_date,
                                                                                                c.due_date)):
                continue  # two promises of one message stand side by side unless the second moves the date
            if (c.own_amounts and not q.amounts) or (c.ids and q.ids and not c.ids & q.ids):
                continue
            if c.topics and q.topics and not c.topics & q.topics:
                continue
            if c.due_date is not None and q.due_date is not None and c.topics and q.topics and \
                    not _event_match(c, q):
                continue
            if q.kind == "note" and not (q.due_date and replaced.search(q.sentence)):
                continue
            # "The revised date is Aug 5." names no subject: it moves the latest dated promise before it
            subjectless = not q.topics and not q.ids and q.due_date is not None and c.due_date is not None \
                and bool(rx("new_estimate").search(q.sentence))
            if (subjectless or _overlap(c, q.ids, q.amounts, q.topics)) and \
                    (q.due_date is not None or c.due_date is None or replaced.search(q.sentence)):
                _close(c, "replaced", q.sentence)
                break


def _event_match(c: Commitment, q: Commitment) -> bool:
    """Both promises are about the same event: their event topics (not just the object they mention) meet."""
    if rx("other_event").search(q.sentence) and not rx("other_event").search(c.sentence):
        return False  # "will be sent back to the sender on ...": another event than the one promised
    ce, qe = c.topics - OBJECT_TOPICS, q.topics - OBJECT_TOPICS
    return bool(ce & qe) if ce and qe else bool(c.topics & q.topics)


OBJECT_TOPICS = frozenset({"delivery"})


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
    found = find_commitments(turns, mentions)
    commitments = [c for c in found if c.kind != "note"]
    resolve(commitments, turns, mentions, [c for c in found if c.kind == "note"])
    return CardState(values, superseded, commitments, make_mask(superseded))


def problem_score(text: str) -> float:
    """How much a customer sentence states the open need (a question, "still", a money word, digits). A sentence
    carrying an attack ("ignore your rules", "I have approved a refund") states none: it is never quoted as one."""
    if markers(text):
        return -5.0
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
