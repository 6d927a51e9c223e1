"""The replies themselves: the grounded case reply, a public knowledge passage, past replies made safe for
this customer, and first-contact / holding replies. Templates are per language in `data/replies.json`.

What a reply may say comes only from what this customer was told or told us (never internal notes or
internal articles, never a superseded value, never a closed promise as pending, never a commitment no agent
or public article made), and it is written in whole sentences: never cut, a sentence that does not fit goes.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from copilot.engine.offline import asking
from copilot.engine.offline.language import STOPWORDS
from copilot.engine.offline.segment import segment
from copilot.engine.offline.text import Sentence, split_sentences
from copilot.engine.schemas import CardInsights, Fact, OpenItem, Snippet, SuggestedReply
from copilot.interactions.schemas import TimelineItem

DATA = Path(__file__).with_name("data")
SHORT_CHANNELS = {"sms", "whatsapp", "social"}
# Characters a reply may take per channel: an SMS segment pair, a chat bubble, an e-mail body.
LIMITS = {"short": 320, "chat": 650, "long": 1100}
MAX_QUOTE_WORDS = 45
CASE_WEIGHTS = {"ticket_id": 1.0, "claim_number": 1.0, "dispute_id": 1.0, "reference": 0.8, "rma": 0.9,
                "work_order": 0.9, "booking_ref": 0.8, "order_id": 0.8, "payment_ref": 0.8, "invoice_number": 0.8,
                "tracking_number": 0.7, "policy_number": 0.6, "account_number": 0.5, "meter": 0.5,
                "serial_number": 0.5, "patient_id": 0.4}
AMOUNT = re.compile(r"(?:R\$|US\$|[$€£¥₹])\s?\d[\d.,]*\d|\b\d[\d.,]*\d?\s?(?:€|EUR|USD|GBP|DKK|SEK|NOK|CHF|kr\.?)(?!\w)"
                    r"|(?:R\$|[$€£¥₹])\s?\d")
NUMERIC_DATE = re.compile(r"\b\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?\b|\b(?:19|20)\d\d-[01]\d-[0-3]\d\b")
# Tokens mixing letters and 3+ digits ("A-10293", "QX7110") or long digit runs: identifiers ("4-hour" is not).
ID_LIKE = re.compile(r"(?<![\w-])(?=(?:[\w/-]*\d){3})(?=[\w/-]*[A-Za-z])[A-Za-z0-9]+(?:[-/][A-Za-z0-9]+)*(?![\w-])"
                     r"|(?<![\w$€£.,-])\d{5,}(?![\w.,]?\d)")
WORD = re.compile(r"[^\W\d_][\w'’-]*")


@lru_cache(maxsize=1)
def templates() -> dict[str, dict]:
    return json.loads((DATA / "replies.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def rules() -> dict:
    return json.loads((DATA / "replies_rules.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _commitment() -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in rules()["commitment"]) + r")\w*", re.IGNORECASE)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    words: set[str] = set(rules()["stopwords"])
    for stop in STOPWORDS.values():
        words |= stop
    return frozenset(words)


@lru_cache(maxsize=1)
def _month_date() -> re.Pattern[str]:
    names: set[str] = set()
    for t in templates().values():
        for month in t["months"]:
            names.add(month.lower())
            names.add(month.lower()[:3])
    alt = "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))
    return re.compile(rf"\b(?:{alt})[a-zäéû]*\.?\s+\d{{1,2}}\b|\b\d{{1,2}}(?:st|nd|rd|th|\.)?\s+(?:de\s+)?(?:{alt})",
                      re.IGNORECASE)


def has_date(text: str) -> bool:
    return bool(_month_date().search(text) or NUMERIC_DATE.search(text))


def stems(text: str) -> set[str]:
    """Topic words of a text, cut to a common stem ("refunded" and "refund" meet)."""
    stop = _stopwords()
    out: set[str] = set()
    for w in WORD.findall(text.lower()):
        w = w.strip("'’-")
        if len(w) >= 4 and w not in stop:
            out.add(w[:5])
    return out


def overlap(message_stems: set[str], message_words: set[str], text: str) -> int:
    """Topic words shared with the message; a long message word inside a compound counts too
    ("Karte" in "Kreditkarte", "refund" in "refunded")."""
    own = stems(text)
    shared = len(message_stems & own)
    low = text.lower()
    shared += sum(1 for w in message_words if len(w) >= 5 and w[:5] not in own and w in low)
    return shared


def topic_words(text: str) -> set[str]:
    stop = _stopwords()
    return {w for w in (x.strip("'’-") for x in WORD.findall(text.lower())) if len(w) >= 4 and w not in stop}


def numbers(text: str) -> set[str]:
    """Day numbers, amounts and counts as written ("19th", "3/19", "$25" give 19, 3, 25)."""
    return {n.lstrip("0") or "0" for n in re.findall(r"(?<![\w.,])\d{1,4}(?=st\b|nd\b|rd\b|th\b|\b)", text)}


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip().lower()


def squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@dataclass
class Context:
    """Everything the reply writer knows about this customer and this message."""

    items: list[TimelineItem]
    insights: CardInsights
    message: str
    channel: str
    lang: str
    name: str | None
    snippets: list[Snippet]
    t: dict = field(init=False)
    known: set[str] = field(init=False)
    latest: TimelineItem | None = field(init=False)
    history: list[TimelineItem] = field(init=False)
    public_text: str = field(init=False)
    agent_text: str = field(init=False)
    agent_stems: list[set[str]] = field(init=False)
    internal_stems: list[set[str]] = field(init=False)
    superseded: list[str] = field(init=False)
    message_stems: set[str] = field(init=False)
    message_words: set[str] = field(init=False)
    ref_time: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.t = templates()[self.lang]
        self.latest = _latest_customer_item(self.items, self.message)
        self.history = [i for i in self.items if self.latest is None or i.interaction_id != self.latest.interaction_id]
        public = [i for i in self.items if i.direction != "internal"]
        self.public_text = norm(" \n ".join((i.subject or "") + " " + i.text for i in public))
        public_kb = [s.text for s in self.snippets if s.source_type == "knowledge" and s.audience == "public"]
        self.agent_text = norm(" \n ".join([i.text for i in public if i.direction == "outbound"] + public_kb))
        self.agent_stems = [stems(x) for text in [i.text for i in public if i.direction == "outbound"] + public_kb
                            for x in split_sentences(text)]
        internal = [i.text for i in self.items if i.direction == "internal"]
        internal += [s.text for s in self.snippets if s.source_type == "knowledge" and s.audience == "internal"]
        self.internal_stems = [st for text in internal for s in split_sentences(text) if len(st := stems(s)) >= 3]
        self.superseded = [v for v in (norm(x) for x in self.insights.superseded) if len(v) >= 2]
        self.known = asking.known_things(self.insights, self.items, self.lang)
        self.message_stems = stems(self.message)
        self.message_words = topic_words(self.message)
        self.ref_time = _aware(self.latest.occurred_at if self.latest else max(
            (i.occurred_at for i in self.items), default=datetime.now(UTC)))

    # -- guards shared by every reply -------------------------------------------------------------------
    def holds_superseded(self, text: str) -> bool:
        low, flat = norm(text), squash(text)
        for old in self.superseded:
            if old in low:
                return True
            old_flat = squash(old)
            if len(old_flat) >= 5 and re.search(r"\d", old_flat) and old_flat in flat:
                return True
        return False

    def foreign_ids(self, text: str) -> bool:
        """An identifier this customer never saw nor gave may be someone else's."""
        return any(tok.lower() not in self.public_text for tok in ID_LIKE.findall(text))

    def echoes_internal(self, text: str) -> bool:
        """Internal guidance, even reworded a little, stays with the agent."""
        own = stems(text)
        if len(own) < 3:
            return False
        return any(len(own & st) >= max(3.0, 0.6 * len(own)) for st in self.internal_stems)

    def unpromised(self, text: str) -> bool:
        """A money or goodwill commitment no agent or public article made to this customer."""
        own = stems(text)
        for m in _commitment().finditer(text):
            # The same commitment: an agent or public article sentence with that word and what it is about.
            word = m.group()[:5].lower()
            if not any(word in made and len(own & made) >= 2 for made in self.agent_stems):
                return True
        # An amount nobody mentioned to this customer is someone else's or invented.
        return any(norm(a) not in self.public_text and norm(a) not in self.agent_text for a in AMOUNT.findall(text))

    def safe(self, sentence: str) -> bool:
        return not (self.holds_superseded(sentence) or self.echoes_internal(sentence))


def _latest_customer_item(items: Sequence[TimelineItem], message: str) -> TimelineItem | None:
    same = [i for i in items if i.direction == "inbound" and norm(i.text) == norm(message)]
    return same[-1] if same else None


def join_values(values: list[str], t: dict) -> str:
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + f" {t['and']} " + values[-1]


def format_date(dt: datetime, t: dict) -> str:
    return t["date"].format(day=dt.day, month=t["months"][dt.month - 1])


def whole(sentence: str) -> str:
    """A sentence as it should end: with its own punctuation."""
    s = sentence.strip().strip("\u201c\u201d\"").strip()
    s = re.sub(r"(?:(?<=[.:;!?])|^)\s*(?:\d{1,2}[.)]|[-•*])\s*$", "", s).rstrip(" ,;:-")  # a stray "1." or bullet
    if s and s[-1] not in ".!?…":
        s += "."
    return s


def fit(parts: list[tuple[int, str]], limit: int) -> list[str]:
    """Whole sentences in their order, dropping the least important (highest number) until they fit."""
    chosen = list(parts)
    while len(chosen) > 1 and len(" ".join(p for _, p in chosen)) > limit:
        worst = max(range(len(chosen)), key=lambda n: (chosen[n][0], n))
        chosen.pop(worst)
    return [p for _, p in chosen]


def limit_for(channel: str) -> int:
    if channel in SHORT_CHANNELS:
        return LIMITS["short"]
    return LIMITS["chat"] if channel == "chat" else LIMITS["long"]


def frame(body: list[str], ctx: Context) -> str:
    """Greeting and sign-off as the channel expects them."""
    text = " ".join(b for b in body if b)
    t = ctx.t
    if ctx.channel in {"email", "ticket"}:
        greeting = t["hi"].format(name=ctx.name) if ctx.name else t["hi_anon"]
        return f"{greeting}\n\n{text}\n\n{t['sign']}"
    if ctx.channel == "chat" and ctx.name:
        return f"{t['hi'].format(name=ctx.name).rstrip(',:')}! {text}"
    return text


# -- the grounded case reply ----------------------------------------------------------------------------
@dataclass
class StateSentence:
    sentence: Sentence
    text: str
    score: float
    promise: OpenItem | None
    relevant: bool = True


def history_sentences(history: list[TimelineItem]) -> list[Sentence]:
    """The history's dialogue as attributed sentences, from the segment stage's turns (one segmenter for the
    whole engine)."""
    out: list[Sentence] = []
    for turn in segment(history):
        if not turn.speaks:
            continue
        for text in turn.sentences or split_sentences(turn.text):
            out.append(Sentence(text, turn.role, turn.name, turn.item, len(out), turn.internal))
    return out


def _merge_split_dates(sentences: list[Sentence]) -> list[Sentence]:
    """Rejoin a sentence the splitter cut after an ordinal day ("bis zum 14." + "März (14.03.)")."""
    months = _month_date()
    out: list[Sentence] = []
    for s in sentences:
        prev = out[-1] if out else None
        if (prev is not None and prev.item.interaction_id == s.item.interaction_id and prev.speaker == s.speaker
                and re.search(r"\b\d{1,2}\.$", prev.text) and months.match("1. " + s.text)):
            out[-1] = Sentence(prev.text + " " + s.text, prev.speaker, prev.speaker_name, prev.item, prev.order,
                               prev.internal)
            continue
        out.append(s)
    return out


def _matches(item: OpenItem, sentence: Sentence) -> bool:
    if item.interaction_id != sentence.item.interaction_id:
        return False
    a, b = norm(item.text).rstrip(".…"), norm(sentence.text).rstrip(".…")
    return bool(a) and (a[:60] in b or b[:60] in a)


def _values_in(text: str) -> list[str]:
    return [v for v in ID_LIKE.findall(text) + AMOUNT.findall(text)]


def state_sentences(ctx: Context) -> list[StateSentence]:
    """What agents told this customer that says where the case stands, best first."""
    history = ctx.history
    if not history:
        return []
    sentences = [s for s in _merge_split_dates(history_sentences(history))
                 if not s.internal and s.item.direction != "internal" and s.speaker in {"agent", "system"}]
    if not sentences:
        return []
    promises = [o for o in ctx.insights.open_items if o.kind == "promise"]
    closed = list(ctx.insights.closed_items)
    newest = max(s.order for s in sentences) or 1
    message = norm(ctx.message)
    out: list[StateSentence] = []
    for s in sentences:
        text = re.sub(r"\s+", " ", s.text).strip()
        words = len(text.split())
        if words < 4 or words > MAX_QUOTE_WORDS or asking.is_request(text, ctx.lang) or not ctx.safe(text):
            continue
        if any(_matches(c, s) for c in closed):
            continue  # fulfilled, replaced or cancelled: not where things stand now
        promise = next((p for p in promises if _matches(p, s)), None)
        shared = overlap(ctx.message_stems, ctx.message_words, text)
        values = _values_in(text)
        in_message = sum(1 for v in values if norm(v) in message)
        same_numbers = len(numbers(ctx.message) & numbers(text))
        score = shared + 2.0 * in_message + 1.5 * min(same_numbers, 2)
        score += 1.5 if has_date(text) else 0.0
        score += 1.0 if AMOUNT.search(text) else 0.0
        score += 0.5 if values else 0.0
        if promise is not None:  # what a person promised weighs more than a notice the system sent
            score += (2.0 + (1.0 if promise.due else 0.0)) if s.speaker == "agent" else 1.0
        score *= 1.0 if s.speaker == "agent" else 0.5  # automated notices say less than a person did
        score += s.order / newest  # the latest word on the case counts most
        # The message shares a topic word or a value with it, or asks where things stand and it is an open
        # promise or a dated statement.
        relevant = shared >= 1 or in_message or same_numbers or (
            (promise is not None or has_date(text)) and asking.status_question(ctx.message, ctx.lang))
        if relevant or promise is not None or values or has_date(text):
            out.append(StateSentence(s, text, score, promise, relevant))
    out.sort(key=lambda x: -x.score)
    return out


def evidence_of(ctx: Context, fact: Fact) -> str:
    """The sentence a fact came from; looked up in what the customer saw or wrote when the card gave none."""
    if fact.evidence:
        return fact.evidence
    for item in ctx.items:
        if item.direction != "internal" and fact.value in item.text:
            for sentence in split_sentences(item.text):
                if fact.value in sentence:
                    return sentence
    return ""


def _public_fact(ctx: Context, fact: Fact) -> bool:
    return norm(fact.value) in ctx.public_text and not ctx.holds_superseded(fact.value)


def case_ids(ctx: Context, shown: str, limit: int, quoted_items: set[str]) -> list[Fact]:
    """The identifiers the message is about, best first, not already in the quoted sentences."""
    message = norm(ctx.message)
    labels = ctx.t["labels"]
    scored: list[tuple[float, Fact]] = []
    newest = max((_aware(f.occurred_at) for f in ctx.insights.facts), default=ctx.ref_time)
    for f in ctx.insights.facts:
        if f.kind not in labels or not _public_fact(ctx, f) or norm(f.value) in norm(shown):
            continue
        score = CASE_WEIGHTS.get(f.kind, 0.3)
        score += 3.0 if norm(f.value) in message else 0.0
        score += 0.5 * len(ctx.message_stems & stems(evidence_of(ctx, f)))
        score += 0.5 if f.speaker in {"agent", "system"} else 0.0
        # The id written in the message we quote is the case that message is about.
        score += 1.5 if any(i.interaction_id in quoted_items and f.value in i.text for i in ctx.items) else 0.0
        score -= min(1.0, (newest - _aware(f.occurred_at)).days / 60)
        scored.append((score, f))
    scored.sort(key=lambda p: -p[0])
    seen: set[str] = set()
    out: list[Fact] = []
    for _, f in scored:
        if squash(f.value) not in seen:
            seen.add(squash(f.value))
            out.append(f)
    return out[:limit]


def named_facts(ctx: Context) -> tuple[list[tuple[str, Fact]], list[str]]:
    """Values the customer's message names ("my meter number", "the file reference"): stated back, so nobody
    asks for them again; and documents named that we already have."""
    stated: list[tuple[str, Fact]] = []
    documents: list[str] = []
    msg_words = {w.lower() for w in WORD.findall(ctx.message)}
    for thing, pos in asking.named_things(ctx.message, ctx.lang):
        if thing.document:
            # "do I need to send the receipt again?", "I sent the photos": say we have it, in their words.
            around = next((x for x in split_sentences(ctx.message[max(0, pos - 80):pos + 80]) if x), "")
            said = next((m.group() for p in thing.patterns(ctx.lang) if (m := p.search(ctx.message))), "")
            if thing.name in ctx.known and said and asking.lexicon().sent.search(around):
                documents.append(said.lower())
            continue
        for f in ctx.insights.facts:
            if f.kind in thing.kinds and _public_fact(ctx, f):
                stated.append((thing.label(ctx.lang), f))
                break
    message = norm(ctx.message)
    for f in ctx.insights.facts:
        evidence = evidence_of(ctx, f)
        if not evidence or any(f is g for _, g in stated) or not _public_fact(ctx, f) or norm(f.value) in message:
            continue  # (a value the message itself gives needs no reading back)
        if not ID_LIKE.fullmatch(f.value.strip()):
            continue
        before = evidence.split(f.value)[0] if f.value in evidence else ""
        words = WORD.findall(before)[-3:]
        phrase: list[str] = []
        for w in reversed(words):  # the words right before the value that the message uses too
            if w.lower() not in msg_words:
                break
            phrase.insert(0, w.lower())
        if phrase and max(len(w) for w in phrase) >= 4 and not set(phrase) <= _stopwords():
            stated.append((" ".join(phrase), f))
    unique: dict[str, tuple[str, Fact]] = {}
    for what, f in stated:
        unique.setdefault(squash(f.value), (what, f))
    return list(unique.values())[:3], documents[:1]


def grounded_reply(ctx: Context) -> SuggestedReply | None:
    """The reply a competent agent would send: the case, where it stands (the open promise and its date, the
    amount), what the message asks, and the next step. None when the history holds nothing the message is
    about."""
    t = ctx.t
    short = ctx.channel in SHORT_CHANNELS
    candidates = state_sentences(ctx)
    states = [st for st in candidates if st.relevant]
    stated, documents = named_facts(ctx)
    message = norm(ctx.message)
    ids_in_message = [f for f in ctx.insights.facts if f.kind in t["labels"] and norm(f.value) in message
                      and _public_fact(ctx, f)]
    if not states and not stated and not documents and not ids_in_message:
        return None

    parts: list[tuple[int, str]] = []  # (priority: lower is kept longer, sentence)
    sources: list[str] = []
    quotes: list[StateSentence] = []
    if states:
        quotes.append(states[0])
        first = states[0]
        best: tuple[float, StateSentence] | None = None
        same_item = first.sentence.item.interaction_id
        for st in candidates:
            if st is first or not (st.relevant or st.sentence.item.interaction_id == same_item):
                continue
            if len(stems(st.text) & stems(first.text)) >= 0.6 * len(stems(st.text)):
                continue  # says what the first quote says
            new_values = set(map(norm, _values_in(st.text))) - set(map(norm, _values_in(first.text)))
            if not new_values and not has_date(st.text) and st.promise is None:
                continue
            # The sentences around the best one usually complete it ("... applied. Release expected by ...").
            score = st.score + (3.0 if st.sentence.item.interaction_id == same_item else 0.0)
            if score >= 0.5 * first.score and (best is None or score > best[0]):
                best = (score, st)
        if best is not None:
            quotes.append(best[1])
    rank = {id(q): n for n, q in enumerate(quotes)}
    quotes.sort(key=lambda q: q.sentence.order)
    overdue = any(q.promise and q.promise.due_date and _aware(q.promise.due_date).date() < ctx.ref_time.date()
                  for q in quotes)
    negative = ctx.insights.sentiment == "negative"
    parts.append((6, t["sorry"] if overdue or negative else t["thanks"]))

    shown = " ".join(q.text for q in quotes)
    ids = case_ids(ctx, shown + " " + " ".join(f.value for _, f in stated), 1 if short else 2,
                   {q.sentence.item.interaction_id for q in quotes})
    if ids:
        labelled = [f"{t['labels'].get(f.kind, '')} {f.value}".strip() for f in ids]
        parts.append((3, t["case"].format(ids=join_values(labelled, t))))
        sources.extend(f.interaction_id for f in ids)
    for q in quotes:
        quote = whole(q.text).replace("\u201c", "").replace("\u201d", "")
        parts.append((1 if rank[id(q)] == 0 else 4, t["said"].format(date=format_date(q.sentence.item.occurred_at, t),
                                                           quote=quote)))
        sources.append(q.sentence.item.interaction_id)
        if q.promise and q.promise.due_date:
            late = _aware(q.promise.due_date).date() < ctx.ref_time.date()
            if late:
                parts.append((2, t["passed"]))
            elif q.sentence.speaker == "agent":
                parts.append((5, t["stands"]))
    for what, f in stated:
        parts.append((2, t["on_file"].format(what=what, value=f.value)))
        sources.append(f.interaction_id)
    for what in documents:
        parts.append((3, t["have_it"].format(what=what)))
    has_promise = any(q.promise for q in quotes)
    parts.append((2, t["next_overdue"] if overdue else t["next_open"] if has_promise else t["next_none"]))
    body = fit(parts, limit_for(ctx.channel) - (40 if ctx.channel in {"email", "ticket", "chat"} else 0))
    return SuggestedReply(text=frame(body, ctx), sources=list(dict.fromkeys(s for s in sources if s)))


# -- knowledge, past replies, first contact and holding -------------------------------------------------
def knowledge_reply(ctx: Context) -> SuggestedReply | None:
    """Whole sentences of a PUBLIC article that answer the message; internal articles never."""
    context = ctx.message_stems | stems(" ".join(o.text for o in ctx.insights.open_items if o.kind == "waiting_for"))
    best: tuple[float, Snippet, list[str]] | None = None
    for snip in ctx.snippets:
        if snip.source_type != "knowledge" or snip.audience != "public":
            continue
        # Headings and table rows are not sentences to quote.
        body = "\n".join(line.lstrip("-*• ").strip() for line in snip.text.splitlines()
                         if line.strip() and not line.lstrip().startswith(("#", "|")))
        sentences = [whole(s) for s in split_sentences(body)]
        sentences = [s for s in sentences if len(s.split()) >= 4 and ctx.safe(s) and not ctx.foreign_ids(s)
                     and not any(th.name in ctx.known for th in asking.asked_things(s, ctx.lang))]
        # Greedy cover: each next sentence must answer a part of the message the others did not.
        covered: set[str] = set()
        top: list[int] = []
        for _ in range(2 if ctx.channel in SHORT_CHANNELS else 3):
            # New words count most; a sentence on the same words may still answer ("when" -> a duration).
            gains = [(2 * len((context & stems(x)) - covered) + 0.5 * len(context & stems(x)), -n, n)
                     for n, x in enumerate(sentences) if n not in top]
            if not gains or max(gains)[0] < 1:
                break
            _, _, pick = max(gains)
            top.append(pick)
            covered |= context & stems(sentences[pick])
        score = len(covered) + 2 * snip.score
        if top and len(covered) >= 2 and (best is None or score > best[0]):
            best = (score, snip, [sentences[n] for n in sorted(top)])
    if best is None:
        return None
    _, snip, chosen = best
    parts = [(1, ctx.t["kb"].format(text=chosen[0]))] + [(2, s) for s in chosen[1:]]
    body = fit(parts, limit_for(ctx.channel) - 40)
    return SuggestedReply(text=frame(body, ctx), sources=[snip.source_id], links=[snip.url] if snip.url else [])


def adapt_past_reply(ctx: Context, snip: Snippet) -> SuggestedReply | None:
    """A past reply as given, without the sentences that ask for what is known, hold a superseded value, an
    identifier or amount that is not this customer's, or a commitment no one made to this customer."""
    kept: list[str] = []
    for sentence in split_sentences(snip.text):
        if any(th.name in ctx.known for th in asking.asked_things(sentence, ctx.lang)):
            continue
        if not ctx.safe(sentence) or ctx.unpromised(sentence) or ctx.foreign_ids(sentence):
            continue
        kept.append(sentence)
    text = " ".join(kept).strip()
    if len(WORD.findall(text)) < 2:
        return None
    return SuggestedReply(text=text, sources=[snip.source_id], links=[snip.url] if snip.url else [])


def first_reply(ctx: Context) -> SuggestedReply:
    """A first-time customer: a welcome, and what we need to start when it is genuinely missing."""
    t = ctx.t
    body = [t["first"]]
    needed = asking.needed_things(ctx.message, ctx.lang, ctx.known)
    body.append(t["ask"].format(what=needed[0].label(ctx.lang)) if needed else t["next_none"])
    sources = [ctx.latest.interaction_id] if ctx.latest else [i.interaction_id for i in ctx.items[-1:]]
    return SuggestedReply(text=frame(body, ctx), sources=sources)


def holding_reply(ctx: Context) -> SuggestedReply:
    t = ctx.t
    text = t["holding"].format(comma_name=f", {ctx.name}" if ctx.name else "")
    sources = [ctx.latest.interaction_id] if ctx.latest else [i.interaction_id for i in ctx.items[-1:]]
    return SuggestedReply(text=frame([text], ctx), sources=sources)
