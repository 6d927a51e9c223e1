"""The card pipeline of the offline engine (DESIGN §3): segment -> extract -> track state -> summarise.

`analyse` turns one customer's history into `CardInsights`: facts that are values (with speaker and
evidence), only the open items in `open_items`, closed ones in `closed_items`, corrected values in
`superseded` (masked everywhere else), a summary, the customer's language and sentiment.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from copilot.engine.offline.describe import find_details
from copilot.engine.offline.extract import extract, tried_phrase
from copilot.engine.offline.kinds import ID_KINDS, FactKind
from copilot.engine.offline.language import detect_language, detect_sentiment
from copilot.engine.offline.segment import Turn, segment
from copilot.engine.offline.state import CardState, Commitment, Value, aware, problem_score, track
from copilot.engine.offline.summarise import SummaryInput, summarise
from copilot.engine.schemas import CardInsights, Fact, HistoryItem, OpenItem

MAX_FACTS = 15
MAX_TRIED = 2
STALE_DAYS = 30


def _relevance(items: Sequence[HistoryItem], relevant_ids: Sequence[str]) -> dict[str, float]:
    ids = {i.interaction_id for i in items}
    ranked = [r for r in relevant_ids if r in ids]
    return {rid: 1.0 / (1 + rank) for rank, rid in enumerate(ranked[:5])}


def _fact_score(v: Value, relevant: dict[str, float], open_text: str) -> float:
    n = len({m.turn.index for m in v.mentions})
    rel = max((relevant.get(m.turn.item.interaction_id, 0.0) for m in v.mentions), default=0.0)
    kind = v.best_kind
    base = {FactKind.AMOUNT: 1.6, FactKind.LAST4: 1.7, FactKind.IMEI: 2.2, FactKind.DEVICE: 1.0,
            FactKind.ADDRESS: 0.9, FactKind.ORGANISATION: 0.7, FactKind.EMAIL: 0.4, FactKind.PHONE: 0.4,
            FactKind.VERSION: 0.6, FactKind.PERSON: 0.5, FactKind.MASKED_NUMBER: 1.0}.get(kind, 0.0)
    if kind in ID_KINDS or kind == FactKind.REFERENCE:
        base = 2.0 if any(m.labelled for m in v.mentions) else 1.5
        base += 0.4 * max(m.strength for m in v.mentions) - 0.4
    score = base + 0.15 * min(n - 1, 5) + 0.3 * rel
    if v.display.lower() in open_text:
        score += 0.4
    if kind == FactKind.ORGANISATION and len({m.turn.item.interaction_id for m in v.mentions}) < 2:
        score -= 1.0
    if all(m.turn.part in {"meta", "footer"} for m in v.mentions):
        score -= 0.3
    return score


def _fact(v: Value, state: CardState) -> Fact:
    m = v.first
    return Fact(kind=v.best_kind.value, value=v.display[:200], interaction_id=m.turn.item.interaction_id,
                channel=m.turn.item.channel, occurred_at=m.turn.item.occurred_at, speaker=m.turn.role,
                evidence=state.masked(m.evidence)[:500] or None)


def _item(c: Commitment, kind: str, state: CardState, now: datetime, status: str | None = None) -> OpenItem:
    overdue = bool(c.due_date and aware(c.due_date) < now and c.status == "open")
    c.overdue = overdue
    return OpenItem(kind=kind, text=state.masked(c.text)[:300],  # type: ignore[arg-type]
                    due=state.masked(c.due) if c.due else None, due_date=c.due_date, overdue=overdue,
                    interaction_id=c.turn.item.interaction_id, channel=c.turn.item.channel,
                    occurred_at=c.turn.item.occurred_at, status=status or c.status)  # type: ignore[arg-type]


def _stale(c: Commitment, last_time: datetime) -> bool:
    return c.due_date is None and (last_time - aware(c.turn.item.occurred_at)).days > STALE_DAYS


def _customer_name(items: list[HistoryItem]) -> str | None:
    names = [i.author_name for i in items if i.direction == "inbound" and i.author_role == "customer"
             and i.author_name]
    full = [n for n in names if len(n.split()) >= 2 and not re.search(r"\d|@", n)]
    pool = full or names
    return Counter(pool).most_common(1)[0][0] if pool else None


def _history_language(turns: list[Turn]) -> str | None:
    """The one language the history is written in, or None when it mixes languages."""
    per_item: dict[str, list[str]] = {}
    for t in turns:
        if t.speaks and t.role in {"customer", "agent", "system"}:
            per_item.setdefault(t.item.interaction_id, []).append(t.text)
    langs = {detect_language(" ".join(texts)) for texts in per_item.values()} - {None}
    return next(iter(langs)) if len(langs) == 1 else None


def _waiting_for(turns: list[Turn], items: list[HistoryItem], state: CardState) -> tuple[Turn | None, str | None]:
    latest = next((i for i in reversed(items) if i.direction == "inbound"), None)
    if latest is None:
        return None, None
    own = [t for t in turns if t.item is latest and t.role == "customer" and t.speaks]
    candidates = [(problem_score(s), t, s) for t in own for s in t.sentences if len(s.split()) >= 3]
    if not candidates:
        return None, None
    score, turn, sentence = max(candidates, key=lambda c: c[0])
    if score <= 0:
        return None, None
    return turn, state.masked(sentence)


def _exclude_names(turns: list[Turn], items: list[HistoryItem]) -> frozenset[str]:
    """Words of people's and our own names: a name of the agent, the customer or the brand is not a product."""
    words: set[str] = set()
    for i in items:
        words.update(re.findall(r"[^\W\d_][\w'-]*", i.author_name or ""))
    for t in turns:
        words.update(re.findall(r"[^\W\d_][\w'-]*", t.name or ""))
    return frozenset(words)


def _details(turns: list[Turn], items: list[HistoryItem], state: CardState, seen: set[str]) -> list[Fact]:
    out: list[Fact] = []
    shown = " ".join(seen)
    for d in find_details(turns, _exclude_names(turns, items)):
        low = d.value.lower()
        if low in seen or (d.kind != FactKind.QUANTITY and low in shown) or state.masked(d.value) != d.value:
            continue
        seen.add(low)
        shown += " " + low
        out.append(Fact(kind=d.kind.value, value=d.value[:200], interaction_id=d.turn.item.interaction_id,
                        channel=d.turn.item.channel, occurred_at=d.turn.item.occurred_at, speaker=d.turn.role,
                        evidence=state.masked(d.evidence)[:500] or None))
    return out


def analyse(items: Sequence[HistoryItem], *, now: datetime, relevant_ids: Sequence[str] = ()) -> CardInsights:
    items = list(items)
    if not items:
        return CardInsights(summary="No previous interactions.", facts=[], open_items=[])
    now = aware(now)
    relevant = _relevance(items, relevant_ids)
    turns = segment(items)
    mentions = extract(turns)
    state = track(turns, mentions)

    # open and closed items
    promises = [c for c in state.commitments if c.kind == "promise"]
    requests = [c for c in state.commitments if c.kind == "request"]
    open_items: list[OpenItem] = []
    closed_items: list[OpenItem] = []
    waiting_turn, waiting_text = _waiting_for(turns, items, state)
    if waiting_turn is not None and waiting_text:
        open_items.append(OpenItem(kind="waiting_for", text=waiting_text[:300],
                                   interaction_id=waiting_turn.item.interaction_id,
                                   channel=waiting_turn.item.channel, occurred_at=waiting_turn.item.occurred_at))
    last_time = aware(items[-1].occurred_at)
    for c in promises + requests:
        kind = c.kind
        if c.status == "open" and _stale(c, last_time):
            continue  # an undated promise or request weeks older than the conversation: lapsed, not shown
        (open_items if c.status == "open" else closed_items).append(_item(c, kind, state, now))
    open_items = open_items[:1] + sorted(open_items[1:], key=lambda o: o.occurred_at)
    open_text = " ".join(o.text + " " + (o.due or "") for o in open_items).lower()

    # facts: identifiers first, then amounts and card endings, what was tried, due dates, the rest
    values = [v for v in state.values if not v.superseded and v.kind != FactKind.DATE]
    values.sort(key=lambda v: -_fact_score(v, relevant, open_text))
    facts: list[Fact] = []
    seen: set[str] = set()
    for v in values:
        if len(facts) >= MAX_FACTS or _fact_score(v, relevant, open_text) < 0.5:
            break
        if v.display.lower() in seen:
            continue
        seen.add(v.display.lower())
        facts.append(_fact(v, state))
    tried: list[Fact] = []
    for t in turns:
        if t.role != "customer" or not t.speaks:
            continue
        for s in t.sentences:
            phrase = tried_phrase(s)
            if phrase and len(phrase.split()) >= 2 and phrase.lower() not in seen and len(tried) < MAX_TRIED:
                seen.add(phrase.lower())
                tried.append(Fact(kind=FactKind.TRIED.value, value=state.masked(phrase)[:200],
                                  interaction_id=t.item.interaction_id, channel=t.item.channel,
                                  occurred_at=t.item.occurred_at, speaker="customer", evidence=state.masked(s)))
    dates: list[Fact] = []
    for o in open_items:
        if o.kind == "promise" and o.due and o.due.lower() not in seen:
            seen.add(o.due.lower())
            dates.append(Fact(kind=FactKind.DATE.value, value=o.due[:200], interaction_id=o.interaction_id,
                              channel=o.channel, occurred_at=o.occurred_at, speaker="agent", evidence=o.text))
    # what was done, dated: a promise kept on a day the record names ("the re-read was completed on May 4")
    for c in promises:
        if c.status == "fulfilled" and c.due and c.due.lower() not in seen and c.due_date is not None:
            seen.add(c.due.lower())
            dates.append(Fact(kind=FactKind.DATE.value, value=c.due[:200], interaction_id=c.turn.item.interaction_id,
                              channel=c.turn.item.channel, occurred_at=c.turn.item.occurred_at, speaker=c.turn.role,
                              evidence=state.masked(c.sentence)))
    # the customer's own dates ahead ("the form is due at the club by Jun 2", "I leave on the 9th"): their deadlines
    for v in state.values:
        if v.kind != FactKind.DATE or v.superseded:
            continue
        m = next((m for m in v.mentions if m.turn.role == "customer" and m.turn.speaks and
                  m.extra.get("when") is not None and aware(m.extra["when"]).date() >= aware(
                      m.turn.item.occurred_at).date()), None)
        if m is not None and m.value.lower() not in seen and len(m.value) >= 5:
            seen.add(m.value.lower())
            dates.append(Fact(kind=FactKind.DATE.value, value=m.value[:200], interaction_id=m.turn.item.interaction_id,
                              channel=m.turn.item.channel, occurred_at=m.turn.item.occurred_at, speaker="customer",
                              evidence=state.masked(m.evidence)[:500] or None))
    details = _details(turns, items, state, seen)
    # 15 slots: the best identifiers and amounts, then the open dates, the customer's own details and what they
    # tried, then whatever is left of each, in that order
    core, rest = facts[:9], facts[9:]
    facts = core + dates[:3] + details[:4] + tried
    for extra in rest + dates[3:] + details[4:]:
        if len(facts) >= MAX_FACTS:
            break
        facts.append(extra)
    order = {"id": 0, FactKind.AMOUNT.value: 1, FactKind.LAST4.value: 1, FactKind.TRIED.value: 4,
             FactKind.DATE.value: 2, FactKind.PRODUCT.value: 3, FactKind.DESCRIPTION.value: 3,
             FactKind.QUANTITY.value: 3}
    facts.sort(key=lambda f: order.get("id" if f.kind in {k.value for k in ID_KINDS} else f.kind, 4))

    lang = _history_language(turns) or "en"
    id_values = [f.value for f in facts if f.kind in {k.value for k in ID_KINDS}]
    summary = summarise(SummaryInput(
        turns=turns, promises_open=[c for c in promises if c.status == "open"],
        requests_open=[c for c in requests
                       if c.status == "open" and c.objects - {"number"} and not _stale(c, last_time)],
        waiting=waiting_turn, waiting_sentence=waiting_text, customer_name=_customer_name(items), lang=lang,
        mask=state.masked, references=id_values[:5], fulfilled=[c for c in promises if c.status == "fulfilled"]))

    latest_customer = next((i for i in reversed(items) if i.direction == "inbound"), None)
    language = sentiment = None
    if latest_customer is not None:
        text = " ".join(t.text for t in turns if t.item is latest_customer and t.role == "customer" and t.speaks) \
            or latest_customer.text
        language = detect_language(text)
        sentiment = detect_sentiment(text)
    superseded = list(dict.fromkeys(m.value for v in state.superseded for m in v.mentions))
    return CardInsights(summary=summary, facts=facts[:MAX_FACTS], open_items=open_items, closed_items=closed_items,
                        superseded=superseded, language=language, sentiment=sentiment)  # type: ignore[arg-type]
