"""Leak points: where an agent asked a customer again for something the customer had already given.

A repeat ask is an agent's sentence to the customer that asks for a thing (order number, photo, address, ...
as the offline engine's `asking` lexicon defines it) which the customer had already given on an earlier
contact (an earlier interaction), as the engine's extractor finds it: a fact of one of the thing's kinds in
the customer's own words, or for documents and photos, the customer saying (or showing) they sent it.

Not repeat asks: a sentence that restates the value ("just to confirm, your order number is 5208?"), an ask
for a thing the customer never gave, and an ask on the contact where the customer gives it for the first time.
A reply counts as written with the copilot when a suggestion answering the customer message it is the first
reply to was accepted or edited. The scan reads each customer's whole history once per change of that history
(cached), so filters only select from it.
"""
from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from copilot.engine.offline.asking import Thing, asked_things, lexicon, sent_documents
from copilot.engine.offline.extract import extract, norm_key
from copilot.engine.offline.language import detect_language
from copilot.engine.offline.segment import Turn, segment
from copilot.interactions.models import Interaction
from copilot.interactions.schemas import TimelineItem
from copilot.interactions.timeline import history, to_item
from copilot.review.schemas import (
    AskedMessage,
    ChannelPair,
    CopilotUse,
    GivenMessage,
    RepeatAsk,
    RepeatAskAgent,
    RepeatAskKind,
    RepeatAskReport,
    RepeatAskWeek,
)
from copilot.review.service import customer_names, first_identities, parse_when
from copilot.suggestions.models import Suggestion

CACHE_SIZE = 5000  # customers' scans kept in memory
USED = ("accepted", "edited")
BRACKET = re.compile(r"\[[^\]]{1,200}\]")
# "Acme Telecom (Kim P.)": the person inside the brand's name is the agent
PERSON_IN_BRAND = re.compile(r"^.{1,80}\(([^()]{1,60})\)\s*$")
MIN_KEY = 3  # a restated value shorter than this ("12") proves nothing
UNKNOWN_AGENT = "unknown agent"


@dataclass(frozen=True)
class Given:
    interaction_id: str
    channel: str
    occurred_at: datetime
    value: str | None  # the value as written; None for a document or photo
    key: str | None
    evidence: str


@dataclass(frozen=True)
class Reply:
    """One agent's part of one interaction sent to the customer: the unit the rate is counted in."""
    interaction_id: str
    customer_id: str
    channel: str
    occurred_at: datetime
    agent: str
    answers_id: str | None  # the customer message it is the first reply to: what used suggestions answered


@dataclass(frozen=True)
class Found:
    reply: Reply
    thing: str
    label: str
    sentence: str
    first: Given
    times_given: int  # how often the customer had given it before this ask
    nth: int  # 1 for the first repeat ask of this thing for this customer, 2 for the next, ...


@dataclass(frozen=True)
class Scan:
    replies: tuple[Reply, ...]
    found: tuple[Found, ...]


class ScanCache:
    """Scans by customer and a digest of the history's ids and times: a new or moved interaction misses."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, str], Scan] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Scan | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str], value: Scan) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > CACHE_SIZE:
                self._items.popitem(last=False)


CACHE = ScanCache()


def agent_name(turn: Turn, logged: str | None) -> str:
    """Who spoke: the line's label ("Agent (Kim P.)"), the agent the contact was logged with, or the author
    of an outbound message. An inbound log's author is the customer, never the agent."""
    name = turn.name or logged or (turn.item.author_name if turn.item.direction != "inbound" else None) or ""
    m = PERSON_IN_BRAND.match(name.strip())
    return (m.group(1) if m else name).strip() or UNKNOWN_AGENT


def customer_gives(turn: Turn) -> bool:
    """The customer's own words, or a form the customer filled in on an inbound contact."""
    return turn.role == "customer" or (turn.part == "meta" and turn.item.direction == "inbound")


def agent_speaks(turn: Turn) -> bool:
    """An agent talking to the customer: not an internal note, not a bot."""
    return turn.role == "agent" and turn.part == "body" and turn.item.direction != "internal"


def value_key(key: str) -> str:
    return key.split(":")[-1]  # "last4:5081" -> "5081", what a read-back contains


def history_language(turns: list[Turn]) -> str:
    text = " ".join(t.text for t in turns if t.role == "customer")[:5000]
    return detect_language(text) or "en"


def scan_customer(customer_id: str, rows: list[Interaction]) -> Scan:
    """Every agent reply of one customer's history (oldest first) and the repeat asks in it."""
    items = [to_item(r) for r in rows]
    logged_agent = {r.id: str((r.metadata_ or {}).get("agent") or "") or None for r in rows}
    turns = segment(items)
    lang = history_language(turns)
    position = {item.interaction_id: n for n, item in enumerate(items)}
    kind_things: dict[str, list[Thing]] = defaultdict(list)
    for thing in lexicon().things:
        for kind in thing.kinds:
            kind_things[kind].append(thing)
    # what the customer gave, per thing, in history order
    given: dict[str, list[Given]] = defaultdict(list)
    mentions = [m for m in extract(turns) if not m.negated and customer_gives(m.turn)]
    for mention in mentions:
        item = mention.turn.item
        for thing in kind_things.get(mention.kind.value, ()):
            given[thing.name].append(Given(item.interaction_id, item.channel, item.occurred_at, mention.value,
                                           value_key(mention.key), mention.evidence))
    for turn in turns:
        if not customer_gives(turn):
            continue
        item = turn.item
        sentences = list(turn.sentences or [turn.text])
        if turn.attachment and item.direction == "inbound":
            sentences += BRACKET.findall(item.text)  # "[image: crack.jpg]": the file itself
        for sentence in sentences:
            for thing in sent_documents(sentence, lang):
                given[thing.name].append(Given(item.interaction_id, item.channel, item.occurred_at, None, None,
                                               sentence))
    # The same value again under a looser kind (a bare "KB-58213" read as a reference) is given again.
    for mention in mentions:
        item = mention.turn.item
        for entries in given.values():
            key = value_key(mention.key)
            if any(g.key == key for g in entries) and all(g.interaction_id != item.interaction_id for g in entries):
                entries.append(Given(item.interaction_id, item.channel, item.occurred_at, mention.value, key,
                                     mention.evidence))
    for entries in given.values():
        entries.sort(key=lambda g: position[g.interaction_id])

    replies: dict[tuple[str, str], Reply] = {}
    found: list[Found] = []
    asked_before: dict[str, int] = defaultdict(int)
    seen: set[tuple[str, str, str]] = set()
    # The customer message a reply follows: the latest inbound contact before it (an inbound log's own agent
    # lines were written before the log was stored), credited to the first reply after it only, as one used
    # suggestion makes one reply.
    last_inbound: str | None = None
    credited: set[str] = set()
    previous: TimelineItem | None = None
    for turn in turns:
        item = turn.item
        if previous is not None and item.interaction_id != previous.interaction_id and previous.direction == "inbound":
            last_inbound = previous.interaction_id
        previous = item
        if not agent_speaks(turn):
            continue
        agent = agent_name(turn, logged_agent.get(item.interaction_id))
        key = (item.interaction_id, agent)
        if key not in replies:
            answers = last_inbound if last_inbound not in credited else None
            if answers:
                credited.add(answers)
            replies[key] = Reply(item.interaction_id, customer_id, item.channel, item.occurred_at, agent, answers)
        reply = replies[key]
        here = position[item.interaction_id]
        restated = norm_key(turn.text)
        for sentence in turn.sentences:
            for thing in asked_things(sentence, lang):
                earlier = [g for g in given.get(thing.name, ()) if position[g.interaction_id] < here]
                if not earlier or (reply.interaction_id, agent, thing.name) in seen:
                    continue
                if any(g.key and len(g.key) >= MIN_KEY and g.key in restated for g in earlier):
                    continue  # the agent has the value and reads it back: a confirmation
                seen.add((reply.interaction_id, agent, thing.name))
                asked_before[thing.name] += 1
                found.append(Found(reply, thing.name, thing.label("en"), sentence, earlier[0],
                                   len({g.interaction_id for g in earlier}), asked_before[thing.name]))
    return Scan(tuple(replies.values()), tuple(found))


def digest(rows: Iterable[tuple[str, datetime]]) -> str:
    h = hashlib.sha256()
    for ident, when in rows:
        h.update(f"{ident}|{when.isoformat()};".encode())
    return h.hexdigest()


def scans(session: Session, *, tenant_id: str, start: datetime | None = None, end: datetime | None = None,
          channel: str | None = None) -> list[Scan]:
    """The scans of the customers with a contact in the window (on the channel), from the cache when the
    customer's history has not changed: a month's report reads only that month's customers."""
    per_customer: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    wanted: set[str] = set()
    for customer_id, ident, when, on in session.execute(
            select(Interaction.customer_id, Interaction.id, Interaction.occurred_at, Interaction.channel)
            .where(Interaction.tenant_id == tenant_id).order_by(Interaction.occurred_at, Interaction.id)):
        per_customer[customer_id].append((ident, when))
        if (start is None or when >= start) and (end is None or when < end) and (not channel or on == channel):
            wanted.add(customer_id)
    out: list[Scan] = []
    for customer_id, rows in per_customer.items():  # in order of first contact: the same order every time
        if customer_id not in wanted:
            continue
        key = (customer_id, digest(rows))
        scan = CACHE.get(key)
        if scan is None:
            scan = scan_customer(customer_id, history(session, tenant_id=tenant_id, customer_id=customer_id))
            CACHE.put(key, scan)
        out.append(scan)
    return out


def used_answers(session: Session, *, tenant_id: str, answers: set[str]) -> set[str]:
    """The customer messages whose suggestions an agent accepted or edited."""
    used: set[str] = set()
    wanted = list(answers)
    for start in range(0, len(wanted), 500):
        used.update(session.scalars(select(Suggestion.answers_interaction_id).where(
            Suggestion.tenant_id == tenant_id, Suggestion.action.in_(USED),
            Suggestion.answers_interaction_id.in_(wanted[start:start + 500]))))
    return used


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def week_of(moment: datetime) -> str:
    day = moment.astimezone(UTC).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def switch(a: str, b: str) -> str:
    return f"{a} → {b}"


def sidebar_link(identity: str | None, customer_id: str, interaction_id: str) -> str:
    """The sidebar opened on the customer, scrolled to the message (`#message=` is read by the sidebar)."""
    who = f"identity={quote(identity, safe=':@+')}" if identity else f"customer_id={quote(customer_id)}"
    return f"/sidebar?{who}#message={quote(interaction_id)}"


def report(session: Session, *, tenant_id: str, since: str | None = None, until: str | None = None,
           channel: str | None = None, agent: str | None = None, limit: int = 20) -> RepeatAskReport:
    start = parse_when(since, field="since")
    end = parse_when(until, field="until", end_of_day=True)

    def wanted(reply: Reply) -> bool:
        return ((start is None or reply.occurred_at >= start) and (end is None or reply.occurred_at < end)
                and (not channel or reply.channel == channel) and (not agent or reply.agent == agent))

    replies: list[Reply] = []
    found: list[Found] = []
    every_agent: set[str] = set()
    every_channel: set[str] = set()
    for scan in scans(session, tenant_id=tenant_id, start=start, end=end, channel=channel):
        every_agent.update(r.agent for r in scan.replies)
        every_channel.update(r.channel for r in scan.replies)
        replies.extend(r for r in scan.replies if wanted(r))
        found.extend(f for f in scan.found if wanted(f.reply))
    used = used_answers(session, tenant_id=tenant_id, answers={r.answers_id for r in replies if r.answers_id})

    def copilot_used(reply: Reply) -> bool:
        return reply.answers_id in used

    leaking = {(f.reply.interaction_id, f.reply.agent) for f in found}
    by_pair: dict[tuple[str, str], int] = defaultdict(int)
    by_kind: dict[str, list[Found]] = defaultdict(list)
    for f in found:
        by_pair[(f.first.channel, f.reply.channel)] += 1
        by_kind[f.thing].append(f)

    asks_of: Counter[tuple[str, str]] = Counter((f.reply.interaction_id, f.reply.agent) for f in found)

    def counted(group: Iterable[Reply]) -> tuple[int, int, int]:
        keys = [(r.interaction_id, r.agent) for r in group]
        return len(keys), sum(1 for k in keys if k in leaking), sum(asks_of[k] for k in keys)

    agents: dict[str, list[Reply]] = defaultdict(list)
    weeks: dict[str, list[Reply]] = defaultdict(list)
    for r in replies:
        agents[r.agent].append(r)
        weeks[week_of(r.occurred_at)].append(r)

    def use(flag: bool) -> CopilotUse:
        n, leaks, asks = counted(r for r in replies if copilot_used(r) == flag)
        return CopilotUse(copilot_used=flag, agent_replies=n, replies_with_repeat_ask=leaks, repeat_asks=asks,
                          rate=share(leaks, n))

    worst = sorted(found, key=lambda f: (-f.times_given, -f.nth, -(f.reply.occurred_at - f.first.occurred_at)
                                         .total_seconds(), f.reply.occurred_at, f.thing, f.reply.customer_id))[:limit]
    names = customer_names(session, (f.reply.customer_id for f in worst))
    identities = first_identities(session, (f.reply.customer_id for f in worst))

    def item(f: Found) -> RepeatAsk:
        r, g = f.reply, f.first
        identity = identities.get(r.customer_id)
        return RepeatAsk(
            customer_id=r.customer_id, customer_name=names.get(r.customer_id), customer_identity=identity,
            kind=f.thing, label=f.label, value=g.value, channel_switch=switch(g.channel, r.channel),
            asked=AskedMessage(interaction_id=r.interaction_id, channel=r.channel, occurred_at=r.occurred_at,
                               agent=r.agent, sentence=f.sentence,
                               link=sidebar_link(identity, r.customer_id, r.interaction_id)),
            first_given=GivenMessage(interaction_id=g.interaction_id, channel=g.channel, occurred_at=g.occurred_at,
                                     evidence=g.evidence[:300],
                                     link=sidebar_link(identity, r.customer_id, g.interaction_id)),
            times_given=f.times_given, nth=f.nth,
            days_since_given=round((r.occurred_at - g.occurred_at).total_seconds() / 86400, 1),
            copilot_used=copilot_used(r))

    total_n, total_leaks, _ = counted(replies)
    return RepeatAskReport(
        since=start, until=end, total=len(found), agent_replies=total_n, replies_with_repeat_ask=total_leaks,
        rate=share(total_leaks, total_n), customers=len({f.reply.customer_id for f in found}),
        by_channel_pair=[ChannelPair(from_channel=a, to_channel=b, label=switch(a, b), repeat_asks=n)
                         for (a, b), n in sorted(by_pair.items(), key=lambda kv: (-kv[1], kv[0]))],
        by_agent=[RepeatAskAgent(agent=name, agent_replies=n, replies_with_repeat_ask=leaks, repeat_asks=asks,
                                 rate=share(leaks, n))
                  for name, (n, leaks, asks) in sorted(((a, counted(rs)) for a, rs in agents.items()),
                                                       key=lambda kv: (-kv[1][2], kv[0]))],
        by_week=[RepeatAskWeek(week=w, agent_replies=n, replies_with_repeat_ask=leaks, repeat_asks=asks,
                               rate=share(leaks, n))
                 for w, (n, leaks, asks) in sorted((w, counted(rs)) for w, rs in weeks.items())],
        by_kind=[RepeatAskKind(kind=k, label=fs[0].label, repeat_asks=len(fs))
                 for k, fs in sorted(by_kind.items(), key=lambda kv: (-len(kv[1]), kv[0]))],
        with_copilot=use(True), without_copilot=use(False),
        agents=sorted(every_agent), channels=sorted(every_channel),
        worst=[item(f) for f in worst])
