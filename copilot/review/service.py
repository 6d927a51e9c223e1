"""What supervisors see: suggestions with the agent's outcome, rates per day, CSV, merges and splits."""
from __future__ import annotations

import csv
import difflib
import io
import logging
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from copilot.auth.service import Principal
from copilot.customers.identity import IdentityError, parse_identity
from copilot.customers.models import Customer, CustomerMerge, Identity
from copilot.customers.service import get_customer, identities_of, merge, resolve, undo_merge
from copilot.exceptions import BadRequest, Conflict, NotFound
from copilot.interactions.models import Interaction
from copilot.review.schemas import (
    Breakdown,
    DayStats,
    DiffOp,
    MergeOut,
    MergePreview,
    MergeSide,
    ReviewedSuggestion,
    ReviewPage,
    ReviewStats,
)
from copilot.suggestions.models import Suggestion

log = logging.getLogger(__name__)
OUTCOMES = ("accepted", "edited", "rejected", "ignored")
TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
EXACT_DISTANCE_CHARS = 3000  # beyond this (after trimming common ends) the distance is counted in words
NO_PROMPT = "none"  # suggestions made without a versioned prompt (the offline engine)
CSV_COLUMNS = ["id", "created_at", "customer_id", "customer_name", "channel", "engine", "prompt_version", "rank",
               "requested_by", "outcome", "feedback_by", "feedback_at", "edit_distance", "message", "text",
               "final_text"]


@dataclass(frozen=True)
class Filters:
    agent: str | None = None
    channel: str | None = None
    engine: str | None = None
    outcome: str | None = None
    customer_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def parse_when(value: str | None, *, field: str, end_of_day: bool = False) -> datetime | None:
    """A date (the whole day; `until` includes it) or an ISO 8601 date-time, as UTC."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), tzinfo=UTC)
            return moment
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{field}: write a date (2026-11-02) or an ISO 8601 date-time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def make_filters(*, agent: str | None = None, channel: str | None = None, engine: str | None = None,
                 outcome: str | None = None, customer_id: str | None = None, since: str | None = None,
                 until: str | None = None) -> Filters:
    if outcome and outcome not in OUTCOMES:
        raise BadRequest(f"outcome: one of {', '.join(OUTCOMES)}")
    return Filters(agent=agent or None, channel=channel or None, engine=engine or None, outcome=outcome or None,
                   customer_id=customer_id or None, since=parse_when(since, field="since"),
                   until=parse_when(until, field="until", end_of_day=True))


def filtered(query: Select, *, tenant_id: str, filters: Filters) -> Select:
    query = query.where(Suggestion.tenant_id == tenant_id)
    if filters.agent:
        query = query.where(or_(Suggestion.requested_by == filters.agent, Suggestion.feedback_by == filters.agent))
    if filters.channel:
        query = query.where(Suggestion.channel == filters.channel)
    if filters.engine:
        query = query.where(Suggestion.engine == filters.engine)
    if filters.customer_id:
        query = query.where(Suggestion.customer_id == filters.customer_id)
    if filters.outcome == "ignored":
        query = query.where(Suggestion.action.is_(None))
    elif filters.outcome:
        query = query.where(Suggestion.action == filters.outcome)
    if filters.since:
        query = query.where(Suggestion.created_at >= filters.since)
    if filters.until:
        query = query.where(Suggestion.created_at < filters.until)
    return query


def outcome_of(row: Suggestion) -> str:
    return row.action or "ignored"


def levenshtein(a: str, b: str) -> int:
    """Edit distance; common ends are trimmed first because agents' edits are usually local."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    a, b = a[start:], b[start:]
    end = 0
    while end < min(len(a), len(b)) and a[-1 - end] == b[-1 - end]:
        end += 1
    if end:
        a, b = a[:-end], b[:-end]
    if max(len(a), len(b)) > EXACT_DISTANCE_CHARS:  # keep a page fast: count words instead
        return levenshtein_seq(a.split(), b.split())
    return levenshtein_seq(a, b)


def levenshtein_seq(a: Iterable, b: Iterable) -> int:
    a, b = list(a), list(b)
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def word_diff(before: str, after: str) -> list[DiffOp]:
    a, b = TOKEN.findall(before), TOKEN.findall(after)
    ops: list[DiffOp] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if ops and ops[-1].op == op:
            ops[-1] = DiffOp(op=op, text=ops[-1].text + text)  # type: ignore[arg-type]
        else:
            ops.append(DiffOp(op=op, text=text))  # type: ignore[arg-type]

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            add("equal", "".join(a[i1:i2]))
        else:
            add("delete", "".join(a[i1:i2]))
            add("insert", "".join(b[j1:j2]))
    return ops


def reviewed(row: Suggestion, customer_name: str | None, identity: str | None = None) -> ReviewedSuggestion:
    outcome = outcome_of(row)
    item = ReviewedSuggestion(
        id=row.id, customer_id=row.customer_id, customer_name=customer_name, customer_identity=identity,
        channel=row.channel, engine=row.engine,
        prompt_version=row.prompt_version, rank=row.rank, message=row.message, text=row.text,
        final_text=row.final_text, outcome=outcome, requested_by=row.requested_by,  # type: ignore[arg-type]
        feedback_by=row.feedback_by, created_at=row.created_at, feedback_at=row.feedback_at,
        answers_interaction_id=row.answers_interaction_id)
    if outcome == "edited" and row.final_text is not None:
        item.edit_distance = levenshtein(row.text, row.final_text)
        item.edit_ratio = round(item.edit_distance / max(len(row.text), len(row.final_text), 1), 3)
        item.diff = word_diff(row.text, row.final_text)
    return item


def customer_names(session: Session, ids: Iterable[str]) -> dict[str, str | None]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    return dict(session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(wanted))).all())


def first_identities(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """One KIND:VALUE per customer (the first the sidebar shows), to open the customer from a link."""
    wanted = list(set(ids))
    out: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        for customer_id, kind, value in session.execute(
                select(Identity.customer_id, Identity.kind, Identity.value)
                .where(Identity.customer_id.in_(wanted[start:start + 500])).order_by(Identity.kind, Identity.value)):
            out.setdefault(customer_id, f"{kind}:{value}")
    return out


def distinct(session: Session, column, *, tenant_id: str) -> list[str]:  # noqa: ANN001 - a mapped column
    return sorted(v for v in session.scalars(select(column).where(Suggestion.tenant_id == tenant_id).distinct())
                  if v)


def list_suggestions(session: Session, *, tenant_id: str, filters: Filters, limit: int, offset: int) -> ReviewPage:
    total = session.scalar(filtered(select(func.count(Suggestion.id)), tenant_id=tenant_id, filters=filters)) or 0
    rows = list(session.scalars(filtered(select(Suggestion), tenant_id=tenant_id, filters=filters)
                                .order_by(Suggestion.created_at.desc(), Suggestion.rank, Suggestion.id)
                                .offset(offset).limit(limit)))
    names = customer_names(session, (r.customer_id for r in rows))
    identities = first_identities(session, (r.customer_id for r in rows))
    agents = sorted(set(distinct(session, Suggestion.requested_by, tenant_id=tenant_id))
                    | set(distinct(session, Suggestion.feedback_by, tenant_id=tenant_id)))
    return ReviewPage(items=[reviewed(r, names.get(r.customer_id), identities.get(r.customer_id)) for r in rows],
                      total=total,
                      next_offset=offset + limit if offset + limit < total else None, agents=agents,
                      channels=distinct(session, Suggestion.channel, tenant_id=tenant_id),
                      engines=distinct(session, Suggestion.engine, tenant_id=tenant_id))


def iter_suggestions(session: Session, *, tenant_id: str, filters: Filters, batch: int = 500) -> Iterator[Suggestion]:
    query = filtered(select(Suggestion), tenant_id=tenant_id, filters=filters).order_by(
        Suggestion.created_at, Suggestion.rank, Suggestion.id)
    offset = 0
    while True:
        rows = list(session.scalars(query.offset(offset).limit(batch)))
        yield from rows
        if len(rows) < batch:
            return
        offset += batch


def rates(outcomes: list[str]) -> dict:
    shown = len(outcomes)
    counts = {o: outcomes.count(o) for o in OUTCOMES}

    def share(n: int) -> float | None:
        return round(n / shown, 4) if shown else None

    return {"shown": shown, **counts, "acceptance_rate": share(counts["accepted"]),
            "edit_rate": share(counts["edited"]), "rejection_rate": share(counts["rejected"]),
            "used_rate": share(counts["accepted"] + counts["edited"])}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 3)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 3)


def stats(session: Session, *, tenant_id: str, filters: Filters) -> ReviewStats:
    """Rates per day (of the suggestion), and the time from a customer message's arrival to its first suggestion."""
    by_day: dict[str, list[str]] = defaultdict(list)
    groups: dict[str, dict[str, list[str]]] = {"agent": defaultdict(list), "channel": defaultdict(list),
                                               "engine": defaultdict(list), "prompt": defaultdict(list)}
    first: dict[str, datetime] = {}  # answered interaction -> its first suggestion
    outcomes: list[str] = []
    for row in iter_suggestions(session, tenant_id=tenant_id, filters=filters):
        outcome = outcome_of(row)
        outcomes.append(outcome)
        by_day[row.created_at.date().isoformat()].append(outcome)
        groups["agent"][row.feedback_by or row.requested_by].append(outcome)
        groups["channel"][row.channel].append(outcome)
        groups["engine"][row.engine].append(outcome)
        groups["prompt"][row.prompt_version or NO_PROMPT].append(outcome)
        if row.answers_interaction_id and (row.answers_interaction_id not in first
                                           or row.created_at < first[row.answers_interaction_id]):
            first[row.answers_interaction_id] = row.created_at
    waits: dict[str, list[float]] = defaultdict(list)
    ids = list(first)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for interaction_id, arrived in session.execute(select(Interaction.id, Interaction.created_at).where(
                Interaction.tenant_id == tenant_id, Interaction.id.in_(chunk))):
            shown_at = first[interaction_id]
            waits[shown_at.date().isoformat()].append(max(0.0, (shown_at - arrived).total_seconds()))
    days = []
    for day in sorted(by_day):
        w = waits.get(day, [])
        days.append(DayStats(date=day, **rates(by_day[day]), first_suggestion_count=len(w),
                             first_suggestion_p50_s=percentile(w, 50), first_suggestion_p90_s=percentile(w, 90)))
    every_wait = [x for w in waits.values() for x in w]
    totals = DayStats(date="all", **rates(outcomes), first_suggestion_count=len(every_wait),
                      first_suggestion_p50_s=percentile(every_wait, 50),
                      first_suggestion_p90_s=percentile(every_wait, 90))

    def breakdown(name: str) -> list[Breakdown]:
        return [Breakdown(key=k, **rates(v)) for k, v in sorted(groups[name].items())]

    return ReviewStats(days=days, totals=totals, by_agent=breakdown("agent"), by_channel=breakdown("channel"),
                       by_engine=breakdown("engine"), by_prompt_version=breakdown("prompt"))


def safe_cell(value: object) -> str:
    """Text for a spreadsheet: a leading =, +, - or @ would run as a formula (CSV injection)."""
    text = "" if value is None else (value.isoformat() if isinstance(value, datetime) else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(session: Session, *, tenant_id: str, filters: Filters) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    names: dict[str, str | None] = {}
    for row in iter_suggestions(session, tenant_id=tenant_id, filters=filters):
        if row.customer_id not in names:
            names.update(customer_names(session, [row.customer_id]))
        distance = levenshtein(row.text, row.final_text) if row.action == "edited" and row.final_text else None
        values = {"id": row.id, "created_at": row.created_at, "customer_id": row.customer_id,
                  "customer_name": names.get(row.customer_id), "channel": row.channel, "engine": row.engine,
                  "prompt_version": row.prompt_version, "rank": row.rank, "requested_by": row.requested_by,
                  "outcome": outcome_of(row), "feedback_by": row.feedback_by, "feedback_at": row.feedback_at,
                  "edit_distance": distance, "message": row.message, "text": row.text, "final_text": row.final_text}
        writer.writerow([safe_cell(values[c]) for c in CSV_COLUMNS])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# -- merges and splits ---------------------------------------------------------------------------

def find_customer(session: Session, *, tenant_id: str, ref: str, region: str) -> Customer:
    """A customer by id or by a KIND:VALUE identity (what supervisors have at hand)."""
    ref = ref.strip()
    if ":" in ref:
        try:
            identity = parse_identity(ref, region=region)
        except IdentityError as err:
            raise BadRequest(f"identity: {err}") from None
        customer = resolve(session, tenant_id=tenant_id, ref=identity)
        if customer is None:
            raise NotFound(f"no customer with {identity}")
        return customer
    return get_customer(session, tenant_id=tenant_id, customer_id=ref)


def merge_out(session: Session, record: CustomerMerge) -> MergeOut:
    names = customer_names(session, [record.survivor_id, record.absorbed_id])
    moved = record.moved or {}
    return MergeOut(id=record.id, survivor_id=record.survivor_id, survivor_name=names.get(record.survivor_id),
                    absorbed_id=record.absorbed_id, absorbed_name=names.get(record.absorbed_id),
                    reason=record.reason, actor=record.actor, identities_moved=len(moved.get("identities", [])),
                    interactions_moved=len(moved.get("interactions", [])), created_at=record.created_at,
                    undone_at=record.undone_at, undone_by=record.undone_by)


def list_merges(session: Session, *, tenant_id: str, customer_id: str | None, limit: int) -> list[MergeOut]:
    query = select(CustomerMerge).where(CustomerMerge.tenant_id == tenant_id)
    if customer_id:
        query = query.where(or_(CustomerMerge.survivor_id == customer_id, CustomerMerge.absorbed_id == customer_id))
    rows = session.scalars(query.order_by(CustomerMerge.created_at.desc()).limit(limit))
    return [merge_out(session, r) for r in rows]


def merge_side(session: Session, customer: Customer) -> MergeSide:
    identities = [f"{i.kind}:{i.value}" for i in identities_of(session, customer_id=customer.id)]
    count, first, last = session.execute(
        select(func.count(Interaction.id), func.min(Interaction.occurred_at), func.max(Interaction.occurred_at))
        .where(Interaction.customer_id == customer.id)).one()
    channels = sorted(session.scalars(select(Interaction.channel).where(Interaction.customer_id == customer.id)
                                      .distinct()))
    return MergeSide(customer_id=customer.id, name=customer.name, identities=identities, interactions=count or 0,
                     channels=channels, first_contact=first, last_contact=last)


def preview_merge(session: Session, *, tenant_id: str, survivor: str, absorbed: str, region: str) -> MergePreview:
    """Both customers and what would join, before anything moves."""
    keep = merge_side(session, find_customer(session, tenant_id=tenant_id, ref=survivor, region=region))
    gone = merge_side(session, find_customer(session, tenant_id=tenant_id, ref=absorbed, region=region))
    same = keep.customer_id == gone.customer_id
    return MergePreview(survivor=keep, absorbed=gone, same_customer=same,
                        joining=[] if same else [i for i in gone.identities if i not in keep.identities],
                        interactions_moving=0 if same else gone.interactions)


def merge_customers(session: Session, *, principal: Principal, survivor: str, absorbed: str, reason: str,
                    region: str) -> MergeOut:
    tenant_id = principal.tenant_id
    assert tenant_id is not None
    keep = find_customer(session, tenant_id=tenant_id, ref=survivor, region=region)
    gone = find_customer(session, tenant_id=tenant_id, ref=absorbed, region=region)
    if keep.id == gone.id:
        raise Conflict("these are already the same customer")
    record = merge(session, tenant_id=tenant_id, survivor=keep, absorbed=gone, actor=f"key:{principal.name}",
                   reason=reason.strip() or "merged by a supervisor")
    session.commit()
    log.info("merge %s: %s into %s by %s", record.id, gone.id, keep.id, principal.name)
    return merge_out(session, record)


def split_customers(session: Session, *, principal: Principal, merge_id: str) -> MergeOut:
    record = undo_merge(session, tenant_id=principal.tenant_id, merge_id=merge_id, actor=f"key:{principal.name}")
    session.commit()
    log.info("merge %s undone by %s", merge_id, principal.name)
    return merge_out(session, record)
