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

from copilot.engine.offline.actions import find_actions
from copilot.engine.offline.describe import find_details
from copilot.engine.offline.extract import acronyms, extract, sentence_at, tried_phrases
from copilot.engine.offline.kinds import ID_KIND_VALUES, ID_KINDS, FactKind
from copilot.engine.offline.language import detect_language, detect_sentiment
from copilot.engine.offline.segment import Turn, segment
from copilot.engine.offline.state import CardState, Commitment, Value, aware, problem_score, track
from copilot.engine.offline.summarise import SummaryInput, summarise
from copilot.engine.schemas import CardInsights, Fact, OpenItem
from copilot.interactions.schemas import TimelineItem

MAX_FACTS = 15
MAX_TRIED = 3
MAX_ACTIONS = 3
ID_SURE = 1.9  # an id scoring this much (labelled or strong shape, or said again) is sure enough for a slot
MAX_IDS = 8  # every validated identifier gets a slot before the softer kinds, up to this many
SAME_KIND_PENALTY = 0.4  # each further fact of one kind must be that much better than a fact of another kind
STALE_DAYS = 30
# a date an agent set: "hold until May 3", "covered through 6/12", "slipped to Jun 2", "the new visit is Tue 4/9"
DEADLINE_BEFORE = re.compile(r"(?:\b(?P<prep>until|through|thru|till|by|no later than|hasta el|hasta|jusqu'au|bis zum|"
                             r"bis|até)\s+(?:\w+,?\s+)?$)|(?:\b(?:moved|slipped|pushed|postponed|delayed|rescheduled|"
                             r"changed|extended)\s+(?:back\s+|out\s+)?(?:to|until)\s+$)|(?:\bnew\s+\w+(?:\s+\w+)?\s+"
                             r"(?:is|date is|on|for)\s+(?:\w+,?\s+)?$)", re.IGNORECASE)
# the order facts are shown in: identifiers, money, dates, the customer's details, what was done
SHOW_ORDER = {"id": 0, FactKind.AMOUNT.value: 1, FactKind.LAST4.value: 1, FactKind.RATE.value: 1,
              FactKind.DATE.value: 2, FactKind.CODE.value: 2, FactKind.PRODUCT.value: 3,
              FactKind.DESCRIPTION.value: 3, FactKind.QUANTITY.value: 3, FactKind.CONDITION.value: 3,
              FactKind.MEDICATION.value: 3, FactKind.TRIED.value: 4, FactKind.ACTION.value: 4}


def _relevance(items: Sequence[TimelineItem], relevant_ids: Sequence[str]) -> dict[str, float]:
    ids = {i.interaction_id for i in items}
    ranked = [r for r in relevant_ids if r in ids]
    return {rid: 1.0 / (1 + rank) for rank, rid in enumerate(ranked[:5])}


def _fact_score(v: Value, relevant: dict[str, float], open_text: str) -> float:
    n = len({m.turn.index for m in v.mentions})
    rel = max((relevant.get(m.turn.item.interaction_id, 0.0) for m in v.mentions), default=0.0)
    kind = v.best_kind
    base = {FactKind.AMOUNT: 1.6, FactKind.LAST4: 1.7, FactKind.IMEI: 2.2, FactKind.DEVICE: 1.0,
            FactKind.ADDRESS: 0.9, FactKind.ORGANISATION: 0.7, FactKind.EMAIL: 0.6, FactKind.PHONE: 1.0,
            FactKind.VERSION: 0.6, FactKind.PERSON: 0.5, FactKind.MASKED_NUMBER: 1.0, FactKind.RATE: 1.3,
            FactKind.CODE: 1.1}.get(kind, 0.0)
    if kind in ID_KINDS or kind == FactKind.REFERENCE:
        base = 2.0 if any(m.labelled for m in v.mentions) else 1.5
        base += 0.4 * max(m.strength for m in v.mentions) - 0.4
    score = base + 0.15 * min(n - 1, 5) + 0.3 * rel
    if v.display.lower() in open_text:
        score += 0.4
    if kind == FactKind.ORGANISATION:
        # named once: a place or a business of the case, less sure than one that comes back
        once = len({m.turn.item.interaction_id for m in v.mentions}) < 2
        score += -0.1 if once else 0.3
        if once and v.display.isupper():
            score -= 0.4  # a shouted phrase ("LAST WARNING") is more often a heading than a name
        if LEGAL_SUFFIX.search(v.display):
            score += 0.4  # "Ltd", "GmbH": a business by its own name
    if all(m.turn.part in {"meta", "footer"} for m in v.mentions):
        score -= 0.3
    return score


LEGAL_SUFFIX = re.compile(r"\b(?:Inc|LLC|Ltd|GmbH|S\.?A\.?S?|B\.?V|AG|PLC|Pty|Oy|AB|ApS|S\.?L|Lda|Ltda)\.?$")


def _recency(v: Value, last_index: int) -> float:
    return max(m.turn.index for m in v.mentions) / max(last_index, 1)


def _lower_words(turns: list[Turn]) -> frozenset[str]:
    return frozenset(w for t in turns for w in re.findall(r"\b[a-z]{3,5}\b", t.text))


def _terms(turns: list[Turn], state: CardState, seen: set[str]) -> list[tuple[float, Fact]]:
    """Uncommon acronyms that are terms of the case: they come back in another interaction and are no shouted
    word ("STILL" beside "still"). Score by how many interactions name them."""
    lower = _lower_words(turns)
    where: dict[str, list[tuple[Turn, int]]] = {}
    for t in turns:
        for value, start, _end, _kind, _strength, _labelled in acronyms(t.text):
            where.setdefault(value, []).append((t, start))
    out: list[tuple[float, Fact]] = []
    for value, places in where.items():
        n = len({t.item.interaction_id for t, _ in places})
        if n < 2 or value.lower() in lower or value.lower() in seen or state.masked(value) != value:
            continue
        seen.add(value.lower())
        t, start = places[0]
        # a term both sides use ("the OFX file" in the agent's steps and the customer's reply) is the case's own
        shared = len({t.role == "customer" for t, _ in places}) == 2
        out.append((1.1 + 0.15 * min(n - 2, 2) + (0.3 if shared else 0.0), Fact(
            kind=FactKind.CODE.value, value=value, interaction_id=t.item.interaction_id, channel=t.item.channel,
            occurred_at=t.item.occurred_at, speaker=t.role,
            evidence=state.masked(sentence_at(t.text, start))[:500] or None)))
    return out


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


def _customer_name(items: list[TimelineItem]) -> str | None:
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


def _waiting_for(turns: list[Turn], items: list[TimelineItem], state: CardState) -> tuple[Turn | None, str | None]:
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


def _exclude_names(turns: list[Turn], items: list[TimelineItem]) -> frozenset[str]:
    """Words of people's and our own names: a name of the agent, the customer or the brand is not a product."""
    words: set[str] = set()
    for i in items:
        words.update(re.findall(r"[^\W\d_][\w'-]*", i.author_name or ""))
    for t in turns:
        words.update(re.findall(r"[^\W\d_][\w'-]*", t.name or ""))
    return frozenset(words)


def _details(turns: list[Turn], items: list[TimelineItem], state: CardState,
             seen: set[str]) -> list[tuple[float, Fact]]:
    out: list[tuple[float, Fact]] = []
    shown = " ".join(seen)
    for d in find_details(turns, _exclude_names(turns, items)):
        low = d.value.lower()
        if low in seen or (d.kind != FactKind.QUANTITY and low in shown) or state.masked(d.value) != d.value:
            continue
        seen.add(low)
        shown += " " + low
        out.append((d.score, Fact(kind=d.kind.value, value=d.value[:200], interaction_id=d.turn.item.interaction_id,
                                  channel=d.turn.item.channel, occurred_at=d.turn.item.occurred_at,
                                  speaker=d.turn.role, evidence=state.masked(d.evidence)[:500] or None)))
    return out


RELATIVE = re.compile(r"\b(?:within|business|days?|weeks?|hours?|months?|d[ií]as|jours|tage|dias)\b", re.IGNORECASE)


def _vague(value: str) -> float:
    """A span ("within 3 business days") tells less at a glance than a day of the calendar."""
    return 0.4 if RELATIVE.search(value) and not re.search(r"\d{1,2}[/.]\d{1,2}|[A-Z][a-z]{2} \d", value) else 0.0


def _deadlines(state: CardState, seen: set[str]) -> list[tuple[bool, Fact]]:
    """Dates an agent or a note set for what is due ("hold until May 3"), with the word that says so; True for a
    date that was moved."""
    out: list[tuple[bool, Fact]] = []
    for v in state.values:
        if v.kind != FactKind.DATE or v.superseded:
            continue
        for m in v.mentions:
            if m.turn.role not in {"agent", "system"} or m.extra.get("when") is None or \
                    aware(m.extra["when"]).date() < aware(m.turn.item.occurred_at).date():
                continue
            before = m.turn.text[max(0, m.start - 40):m.start]
            cue = DEADLINE_BEFORE.search(before)
            if cue is None:
                continue
            value = f"{cue.group('prep')} {m.value}" if cue.group("prep") else m.value
            if value.lower() in seen or m.value.lower() in seen:
                break
            seen.add(value.lower())
            moved = bool(re.search(r"(?:to|until)\s+$", cue.group())) and not cue.group("prep")
            out.append((moved, Fact(kind=FactKind.DATE.value, value=value[:200],
                                    interaction_id=m.turn.item.interaction_id, channel=m.turn.item.channel,
                                    occurred_at=m.turn.item.occurred_at, speaker=m.turn.role,
                                    evidence=state.masked(m.evidence)[:500] or None)))
            break
    return out


def _choose_facts(turns: list[Turn], items: list[TimelineItem], state: CardState, relevant: dict[str, float],
                  open_text: str, open_items: list[OpenItem], promises: list[Commitment]) -> list[Fact]:
    """At most 15 facts: identifiers first (by salience: mentions, recency, relevance to the latest message),
    then the best of every other kind, each further fact of one kind costing SAME_KIND_PENALTY."""
    last_index = turns[-1].index if turns else 1
    people = {w.title() for w in _exclude_names(turns, items)}
    ids: list[tuple[float, Fact]] = []
    soft: list[tuple[float, str, Fact]] = []  # (score, group, fact)
    seen: set[str] = set()
    for v in state.values:
        if v.superseded or v.kind == FactKind.DATE:
            continue
        score = _fact_score(v, relevant, open_text) + 0.3 * _recency(v, last_index)
        if score < 0.5 or v.display.lower() in seen:
            continue
        if v.best_kind == FactKind.ORGANISATION and set(v.display.title().split()) <= people:
            continue  # a signature's "Dana Reyes" or a shouted "DANA REYES" is a person, not a business
        if v.best_kind == FactKind.PERSON and v.display.split()[-1].title() in people:
            continue  # "Ms. Reyes" is the customer (or the agent) the card is about: a third party is worth a slot
        seen.add(v.display.lower())
        fact = _fact(v, state)
        if v.best_kind in ID_KINDS:
            ids.append((score, fact))
        else:
            soft.append((score, v.best_kind.value, fact))
    ids.sort(key=lambda p: -p[0])
    # a labelled or well-shaped id first; a bare number a keyword only guessed at competes with the rest
    sure = [p for p in ids if p[0] >= ID_SURE][:MAX_IDS]
    chosen = [f for _, f in sure]
    soft += [(s, "id", f) for s, f in ids if not any(f is g for g in chosen)]
    # what the customer tried, each step of a list on its own
    n_tried = 0
    for t in turns:
        if t.role != "customer" or not t.speaks:
            continue
        for sentence in t.sentences:
            for phrase in tried_phrases(sentence):
                if len(phrase.split()) < 2 or phrase.lower() in seen or n_tried >= MAX_TRIED + 2 or ":" in phrase:
                    continue
                seen.add(phrase.lower())
                # "did that 5 times" says less than "flushed the drain pipe": content words make a step worth showing
                content = len([w for w in phrase.split()[1:] if len(w) > 3 and not w.isdigit()])
                vague = bool(re.match(r"\w+\s+(?:that|it|this|so)\b", phrase, re.IGNORECASE))
                soft.append((1.3 + 0.1 * min(content, 3) - 0.05 * n_tried - (0.5 if vague else 0.0),
                             FactKind.TRIED.value, Fact(
                    kind=FactKind.TRIED.value, value=state.masked(phrase)[:200], interaction_id=t.item.interaction_id,
                    channel=t.item.channel, occurred_at=t.item.occurred_at, speaker="customer",
                    evidence=state.masked(sentence))))
                n_tried += 1
    # what the agents did
    for a in find_actions(turns)[:MAX_ACTIONS + 2]:
        if a.value.lower() in seen or state.masked(a.value) != a.value:
            continue
        seen.add(a.value.lower())
        soft.append((0.8 + a.score, FactKind.ACTION.value, Fact(
            kind=FactKind.ACTION.value, value=a.value[:200], interaction_id=a.turn.item.interaction_id,
            channel=a.turn.item.channel, occurred_at=a.turn.item.occurred_at, speaker=a.turn.role,
            evidence=state.masked(a.sentence)[:500] or None)))
    # dates: what is due, what was done on a named day, the customer's own dates ahead, the dates agents set
    for rank, f in enumerate(_dates(state, open_items, promises, seen)):
        soft.append((1.7 - 0.05 * rank - _vague(f.value), FactKind.DATE.value, f))
    for moved, f in _deadlines(state, seen):
        # a date an agent moved ("slipped to Jun 2") is the plan now: worth more than the one it replaced
        soft.append((1.6 + (0.3 if moved else 0.0) - _vague(f.value), FactKind.DATE.value, f))
    soft += [(score, FactKind.CODE.value, f) for score, f in _terms(turns, state, seen)]
    for score, d in _details(turns, items, state, seen):
        soft.append((0.5 + score, d.kind, d))
    # one thing named twice ("Dental Group" inside "Pinecrest Dental Group"): the longer name stands
    names = [f.value.lower() for _, _, f in soft] + [f.value.lower() for f in chosen]
    merged: list[tuple[float, str, Fact]] = []
    for p in soft:
        low = p[2].value.lower()
        if p[2].kind in CONTAINED_KINDS and any(low in n and low != n for n in names):
            continue
        inner = [q[0] for q in soft if q[2].kind in CONTAINED_KINDS and q[2].value.lower() in low
                 and q[2].value.lower() != low]
        merged.append((max([p[0], *inner]), p[1], p[2]))  # the longer name keeps the better score
    soft = merged
    counts: dict[str, int] = {}
    pool = list(soft)
    while pool and len(chosen) < MAX_FACTS:
        best = max(pool, key=lambda p: p[0] - _penalty(p[1]) * counts.get(p[1], 0))
        pool.remove(best)
        if best[0] - _penalty(best[1]) * counts.get(best[1], 0) < 0.5:
            break
        if best[1] == FactKind.TRIED.value and counts.get(best[1], 0) >= MAX_TRIED or \
                best[1] == FactKind.ACTION.value and counts.get(best[1], 0) >= MAX_ACTIONS:
            continue
        chosen.append(best[2])
        counts[best[1]] = counts.get(best[1], 0) + 1
    chosen.sort(key=lambda f: SHOW_ORDER.get("id" if f.kind in ID_KIND_VALUES else f.kind, 4))
    return chosen


# kinds whose value, inside a longer fact ("$9 credit" in "issued a $9 credit"), is that fact: shown once
CONTAINED_KINDS = frozenset({FactKind.PRODUCT.value, FactKind.ORGANISATION.value, FactKind.DEVICE.value,
                             FactKind.DESCRIPTION.value, FactKind.ADDRESS.value, FactKind.AMOUNT.value})


def _penalty(group: str) -> float:
    # amounts are what customers call about most: several of them on a card are usual (charged, refunded, due)
    # and a move or a delivery has two addresses, the old and the new one
    return SAME_KIND_PENALTY / 2 if group in {FactKind.AMOUNT.value, FactKind.ADDRESS.value} else SAME_KIND_PENALTY


def _dates(state: CardState, open_items: list[OpenItem], promises: list[Commitment], seen: set[str]) -> list[Fact]:
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
    return dates


def analyse(items: Sequence[TimelineItem], *, now: datetime, relevant_ids: Sequence[str] = ()) -> CardInsights:
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

    facts = _choose_facts(turns, items, state, relevant, open_text, open_items, promises)
    lang = _history_language(turns) or "en"
    id_values = [f.value for f in facts if f.kind in {k.value for k in ID_KINDS}]
    summary = summarise(SummaryInput(
        turns=turns, promises_open=[c for c in promises if c.status == "open"],
        requests_open=[c for c in requests
                       if c.status == "open" and c.objects - {"number"} and not _stale(c, last_time)],
        waiting=waiting_turn, waiting_sentence=waiting_text, customer_name=_customer_name(items), lang=lang,
        mask=state.masked, references=id_values[:5], fulfilled=[c for c in promises if c.status == "fulfilled"],
        facts_text=" ".join(f.value for f in facts)))

    latest_customer = next((i for i in reversed(items) if i.direction == "inbound"), None)
    language = sentiment = None
    if latest_customer is not None:
        text = " ".join(t.text for t in turns if t.item is latest_customer and t.role == "customer" and t.speaks) \
            or latest_customer.text
        language = detect_language(text)
        sentiment = detect_sentiment(text)
    superseded = list(dict.fromkeys(m.value for v in state.superseded for m in v.mentions))
    mistyped = list(dict.fromkeys(m.value for v in state.superseded if v.kind in ID_KINDS for m in v.mentions))
    return CardInsights(summary=summary, facts=facts[:MAX_FACTS], open_items=open_items, closed_items=closed_items,
                        superseded=superseded, mistyped_ids=mistyped, language=language,
                        sentiment=sentiment)  # type: ignore[arg-type]
