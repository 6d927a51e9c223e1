"""Builds the card insights (facts, open items, summary, language, sentiment) from one customer's history."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from copilot.engine.offline.dates import find_due
from copilot.engine.offline.extract import TRIED, RawFact, classify, extract_identifiers
from copilot.engine.offline.language import detect_language, detect_sentiment
from copilot.engine.offline.text import Sentence, all_sentences, searchable_text
from copilot.engine.schemas import CardInsights, Fact, HistoryItem, OpenItem

MAX_FACTS = 15
MAX_VALUE = 200
SUMMARY_WORDS = 120
ID_KINDS = {"order_id", "account_number", "booking_ref", "ticket_id", "tracking_number", "claim_number", "rma",
            "invoice_number", "meter", "policy_number", "reference", "serial_number", "work_order", "dispute_id",
            "patient_id", "payment_ref", "device", "flight", "version", "code", "seat", "last4", "masked_number"}
# Amount context words that make an amount worth showing ("$40 credit", "$35 activation fee").
MONEY_WORDS = re.compile(r"credit|refund|fee|charge|deposit|adjust|balance|owe|paid|bill|due|reimburs|"
                         r"compensat|voucher|total|usual|per|/", re.IGNORECASE)


@dataclass
class MergedFact:
    kind: str
    value: str
    item: HistoryItem
    strength: float
    mentions: int = 1
    agent_stated: bool = False
    keys: set[str] = field(default_factory=set)


@dataclass
class ScoredSentence:
    sentence: Sentence
    kind: str
    score: float
    due: str | None = None
    due_date: datetime | None = None


def words_of(text: str) -> int:
    return len(text.split())


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _similar(a: str, b: str) -> bool:
    """Same-length ids that differ by a transposition or one or two characters: a misread and its correction."""
    if a == b or len(a) != len(b) or len(a) < 4:
        return False
    diff = sum(1 for x, y in zip(a, b, strict=True) if x != y)
    return diff <= 2 and (sorted(a) == sorted(b) or diff == 1)


def _drop_corrected(raws: list[RawFact]) -> list[RawFact]:
    """Within one interaction, a near-identical id written later replaces the earlier one; "not X" drops X."""
    kept = [r for r in raws if not r.rejected]
    rejected_keys = {r.key for r in raws if r.rejected}
    result: list[RawFact] = []
    for r in kept:
        if r.key in rejected_keys and r.kind not in {"amount", "date"}:
            continue
        later = [o for o in kept if o.item.interaction_id == r.item.interaction_id and o.pos > r.pos
                 and o.kind not in {"amount", "date"} and _similar(o.key, r.key)]
        if later and r.kind not in {"amount", "date"}:
            continue
        result.append(r)
    return result


def _display_name(sentence: Sentence) -> str:
    # The item's author names only lines of their own role: in a call logged under the customer's
    # name, an unnamed "Agent:" line is not the customer's.
    own_line = sentence.item.author_role == sentence.speaker or sentence.internal
    name = sentence.speaker_name or (sentence.item.author_name if own_line else None) or ""
    name = re.sub(r"\s*\(.*?\)\s*", " ", name).strip()
    if sentence.internal:
        return f"{name} note" if name else "Internal note"
    if sentence.speaker == "customer":
        return "Customer"
    return name or sentence.speaker.capitalize()


def _short_date(dt: datetime) -> str:
    return f"{dt.strftime('%b')} {dt.day}"


def merge_facts(raws: list[RawFact]) -> list[MergedFact]:
    merged: dict[str, MergedFact] = {}
    order: list[str] = []
    for r in raws:
        key = r.key if r.kind != "amount" else "amt:" + r.key
        if r.kind == "last4":  # "your card ending 4421", "la tarjeta terminada en 4421": one card
            key = "last4:" + "".join(re.findall(r"\d", r.value))[-4:]
        if not key:
            continue
        agent = r.item.direction != "inbound" or r.item.author_role != "customer"
        if key in merged:
            m = merged[key]
            m.mentions += 1
            m.agent_stated = m.agent_stated or agent
            if r.kind == "amount" and MONEY_WORDS.search(r.value) and not MONEY_WORDS.search(m.value):
                m.value = r.value
            if m.kind in {"reference", "code", "date"} and r.kind not in {"reference", "code", "date"}:
                m.kind = r.kind
            if r.kind not in {"amount"} and re.search(r"[-\s]", r.value) and not re.search(r"[-\s]", m.value):
                m.value = r.value  # the formatted spelling reads better ("8471-0032-5519")
            m.strength = max(m.strength, r.strength)
            continue
        merged[key] = MergedFact(r.kind, r.value, r.item, r.strength, 1, agent, {r.key})
        order.append(key)
    facts = [merged[k] for k in order]
    # drop values contained in a longer value of the same kind family ("4471" inside "ending 4471")
    out: list[MergedFact] = []
    for f in facts:
        k = next(iter(f.keys))
        if len(k) >= 3 and any(other is not f and k in next(iter(other.keys)) and len(next(iter(other.keys))) > len(k)
                               and other.kind not in {"amount", "date", "organisation", "person"}
                               and f.kind not in {"amount"} for other in facts):
            continue
        out.append(f)
    return out


def _fact_score(f: MergedFact, relevant: dict[str, float]) -> float:
    score = f.strength + 0.12 * min(f.mentions - 1, 3) + relevant.get(f.item.interaction_id, 0.0) * 0.2
    if f.agent_stated:
        score += 0.05
    if f.kind == "amount" and MONEY_WORDS.search(f.value):
        score += 0.2
    if f.kind in {"email", "phone"} and f.mentions > 1:
        score -= 0.15  # the customer's own contact details are on the card already
    return score


def score_sentences(sentences: list[Sentence], now: datetime, relevant: dict[str, float]) -> list[ScoredSentence]:
    total = max(len(sentences), 1)
    out: list[ScoredSentence] = []
    for s in sentences:
        kind = classify(s)
        if kind == "other":
            continue
        info = len(re.findall(r"\d", s.text)) ** 0.5 * 0.15 + (0.25 if re.search(r"[$€£]\s?\d|\d\s?kr", s.text) else 0)
        info = min(info, 0.5)
        score = 1.0 + info + 0.4 * (s.order / total) + relevant.get(s.item.interaction_id, 0.0) * 0.3
        if kind == "tried":
            score += 0.35 * (len(TRIED.findall(s.text)) - 1)  # several things tried in one sentence
        if kind == "action" and re.match(r"[A-Z][a-z]+ed\b", s.text):
            score += 0.25  # notes written as "Replaced splitter", "Opened ticket"
        if words_of(s.text) < 5:
            score -= 0.8
        if kind in {"promise", "action"} and s.internal:
            score += 0.3  # internal notes hold what the customer was never told
        due, due_date = (None, None)
        if kind == "promise":
            due, due_date = find_due(s.text, _aware(s.item.occurred_at))
            if due:
                score += 0.4
        words = len(s.text.split())
        if words > 45:
            score -= 0.3
        out.append(ScoredSentence(s, kind, score, due, due_date))
    return out


def _sentence_value(s: ScoredSentence) -> str:
    prefix = f"{_display_name(s.sentence)} ({_short_date(s.sentence.item.occurred_at)}): "
    value = prefix + s.sentence.text
    return value if len(value) <= MAX_VALUE else value[:MAX_VALUE - 1].rsplit(" ", 1)[0] + "…"


def _relevance(items: Sequence[HistoryItem], relevant_ids: Sequence[str]) -> dict[str, float]:
    ids = {i.interaction_id for i in items}
    ranked = [r for r in relevant_ids if r in ids]
    return {rid: 1.0 / (1 + rank) for rank, rid in enumerate(ranked[:5])}


def analyse(items: Sequence[HistoryItem], *, now: datetime, relevant_ids: Sequence[str] = ()) -> CardInsights:
    items = list(items)
    if not items:
        return CardInsights(summary="No previous interactions.", facts=[], open_items=[])
    now = _aware(now)
    relevant = _relevance(items, relevant_ids)
    sentences = all_sentences(items)
    raws: list[RawFact] = []
    for item in items:
        raws.extend(extract_identifiers(item, searchable_text(item)))
    merged = merge_facts(_drop_corrected(raws))
    scored = score_sentences(sentences, now, relevant)

    ids = sorted((f for f in merged if f.kind in ID_KINDS and f.strength >= 0.7),
                 key=lambda f: -_fact_score(f, relevant))
    others = sorted((f for f in merged if f not in ids), key=lambda f: -_fact_score(f, relevant))
    promises = sorted((s for s in scored if s.kind in {"promise", "action"}), key=lambda s: -s.score)
    tried = sorted((s for s in scored if s.kind == "tried"), key=lambda s: -s.score)

    facts: list[Fact] = []
    used_sentences: set[int] = set()

    def add_fact(kind: str, value: str, item: HistoryItem) -> None:
        if len(facts) >= MAX_FACTS or any(f.value == value for f in facts):
            return
        facts.append(Fact(kind=kind, value=value[:MAX_VALUE], interaction_id=item.interaction_id,
                          channel=item.channel, occurred_at=item.occurred_at))

    id_room = 9
    for f in ids[:id_room]:
        add_fact(f.kind, f.value, f.item)
    tried_room = min(2, len(tried))
    sentence_room = MAX_FACTS - len(facts) - tried_room
    for s in promises[:max(sentence_room, 0)]:
        add_fact(s.kind, _sentence_value(s), s.sentence.item)
        used_sentences.add(s.sentence.order)
    for s in tried[:tried_room]:
        add_fact("tried", _sentence_value(s), s.sentence.item)
        used_sentences.add(s.sentence.order)
    for f in sorted(ids[id_room:] + others, key=lambda f: -_fact_score(f, relevant)):
        if len(facts) >= MAX_FACTS:
            break
        if f.kind == "date" or f.strength < 0.45:
            continue
        add_fact(f.kind, f.value, f.item)

    open_items = build_open_items(items, sentences, scored, now)
    from copilot.engine.offline.summary import build_summary

    summary = build_summary(items, sentences, scored, facts, merged, used_sentences, relevant)
    latest_customer = next((i for i in reversed(items) if i.direction == "inbound"), None)
    language = sentiment = None
    if latest_customer is not None:
        customer_text = " ".join(s.text for s in sentences
                                 if s.item is latest_customer and s.speaker == "customer") or latest_customer.text
        language = detect_language(customer_text)
        sentiment = detect_sentiment(customer_text)
    return CardInsights(summary=summary, facts=facts, open_items=open_items, language=language,
                        sentiment=sentiment)  # type: ignore[arg-type]


def build_open_items(items: list[HistoryItem], sentences: list[Sentence], scored: list[ScoredSentence],
                     now: datetime) -> list[OpenItem]:
    out: list[OpenItem] = []

    def add(kind: str, s: ScoredSentence | Sentence, due: str | None = None, due_date: datetime | None = None) -> None:
        sent = s.sentence if isinstance(s, ScoredSentence) else s
        overdue = bool(due_date and due_date < now)
        out.append(OpenItem(kind=kind, text=sent.text[:300], due=due, due_date=due_date, overdue=overdue,  # type: ignore[arg-type]
                            interaction_id=sent.item.interaction_id, channel=sent.item.channel,
                            occurred_at=sent.item.occurred_at))

    latest_customer = next((i for i in reversed(items) if i.direction == "inbound"), None)
    if latest_customer is not None:
        problems = [s for s in scored if s.sentence.item is latest_customer and s.kind == "problem"]
        problems.sort(key=lambda s: -problem_score(s.sentence.text))
        for s in problems[:2]:
            add("waiting_for", s)
    for s in sorted((s for s in scored if s.kind == "promise"), key=lambda s: s.sentence.order)[-6:]:
        add("promise", s, s.due, s.due_date)
    for s in sorted((s for s in scored if s.kind == "action"), key=lambda s: s.sentence.order)[-6:]:
        add("action", s)
    for s in sorted((s for s in scored if s.kind == "tried"), key=lambda s: s.sentence.order)[-5:]:
        add("tried", s)
    return out


def problem_score(text: str) -> float:
    """How much a customer sentence states the open problem or request."""
    low = text.lower()
    score = 0.0
    score += 1.5 * len(re.findall(r"\b(still|never|again|nobody|no one|nothing|haven't|hasn't|didn't|isn't|"
                                  r"doesn't|can't|won't|not|wrong|missing|charged|locked|todavía|nunca|nadie|sigo|"
                                  r"stadig|ikke|ingen|toujours|jamais|aucune?|personne|immer noch|nicht|keine?|"
                                  r"niemand|ainda|não|ancora|mai|nessuno|niet|geen|nooit)\b", low))
    score += 1.0 if "?" in text else 0.0
    score += 0.8 * len(re.findall(r"\b(refund|credit|bill|charge|fee|order|delivery|fix|cancel|account|payment|"
                                  r"appointment|claim|callback|call|rembours|commande|livraison|factur|suivi|"
                                  r"reembols|pedido|entrega|cobr|rückerstatt|bestell|rechnung|liefer|encomenda|"
                                  r"rimbors|ordine|terugbetal|bestelling|refusion|ordre)\w*", low))
    score += 0.3 * len(re.findall(r"\d", text)) ** 0.5
    words = len(text.split())
    if words < 5:
        score -= 2
    return score
