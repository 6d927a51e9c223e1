"""The audit of reads: record who read which customer's context, suggestions or timeline, and query it.

Views call `record_read` once per answered read; the row goes in with the caller's session and is committed
with it (at once when `commit`), so a read that failed is not recorded as one that happened.
"""
from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, delete, or_, select
from sqlalchemy.orm import Session

from copilot.audit.models import AuditRead
from copilot.auth.service import Principal
from copilot.database.core import Database, utcnow
from copilot.exceptions import BadRequest

WHATS = ("context", "suggestions", "timeline", "customer")
CSV_COLUMNS = ("at", "customer_id", "what", "key_id", "key_name", "role")
CSV_BATCH = 1000


def record_read(session: Session, principal: Principal, customer_id: str, *, what: str, commit: bool = True) -> None:
    """One audit row: `principal` read `what` of `customer_id` (the customer's current id) now."""
    if what not in WHATS:
        raise ValueError(f"what: one of {', '.join(WHATS)}")
    if principal.tenant_id is None:  # the master key cannot read customer data
        return
    session.add(AuditRead(tenant_id=principal.tenant_id, customer_id=customer_id, what=what,
                          key_id=principal.key_id[:36], key_name=(principal.name or "")[:200],
                          role=principal.role[:16], at=utcnow()))
    if commit:
        session.commit()


@dataclass(frozen=True)
class AuditFilters:
    customer_id: str | None = None
    key_id: str | None = None
    what: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def parse_moment(value: str | None, *, field: str, end_of_day: bool = False) -> datetime | None:
    """A date (the whole day; `until` includes it) or an ISO 8601 date-time with a time zone, as UTC."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if end_of_day:
                return datetime.combine(day, time.max, tzinfo=UTC)  # never overflows, even on 9999-12-31
            return datetime.combine(day, time(), tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{field}: write a date (2026-11-02) or an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise BadRequest(f"{field}: a date-time needs its time zone (Z or +02:00)")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise BadRequest(f"{field}: out of range") from None


def make_filters(*, customer_id: str | None = None, key_id: str | None = None, what: str | None = None,
                 since: str | None = None, until: str | None = None) -> AuditFilters:
    if what and what not in WHATS:
        raise BadRequest(f"what: one of {', '.join(WHATS)}")
    return AuditFilters(customer_id=customer_id or None, key_id=key_id or None, what=what or None,
                        since=parse_moment(since, field="since"),
                        until=parse_moment(until, field="until", end_of_day=True))


def filtered(query: Select, *, tenant_id: str, filters: AuditFilters) -> Select:
    query = query.where(AuditRead.tenant_id == tenant_id)
    if filters.customer_id:
        query = query.where(AuditRead.customer_id == filters.customer_id)
    if filters.key_id:
        query = query.where(AuditRead.key_id == filters.key_id)
    if filters.what:
        query = query.where(AuditRead.what == filters.what)
    if filters.since:
        query = query.where(AuditRead.at >= filters.since)
    if filters.until:
        query = query.where(AuditRead.at <= filters.until)
    return query


def encode_cursor(row: AuditRead) -> str:
    return base64.urlsafe_b64encode(f"{row.at.isoformat()}|{row.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        when, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(when), int(ident)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadRequest("cursor: not a cursor this API returned") from err


def page(session: Session, *, tenant_id: str, filters: AuditFilters, limit: int,
         cursor: str | None = None) -> tuple[list[AuditRead], str | None]:
    """Newest first; `cursor` continues after the last row of the previous page."""
    query = filtered(select(AuditRead), tenant_id=tenant_id, filters=filters)
    if cursor:
        when, ident = decode_cursor(cursor)
        query = query.where(or_(AuditRead.at < when, and_(AuditRead.at == when, AuditRead.id < ident)))
    rows = list(session.scalars(query.order_by(AuditRead.at.desc(), AuditRead.id.desc()).limit(limit + 1)))
    return rows[:limit], (encode_cursor(rows[limit - 1]) if len(rows) > limit else None)


def export_csv(db: Database, *, tenant_id: str, filters: AuditFilters) -> Iterator[str]:
    """The CSV in batches, each from its own short session, so a large export never holds one open."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    yield out.getvalue()
    cursor: str | None = None
    while True:
        with db.session() as session:
            rows, cursor = page(session, tenant_id=tenant_id, filters=filters, limit=CSV_BATCH, cursor=cursor)
        out.seek(0)
        out.truncate()
        for row in rows:
            writer.writerow([row.at.isoformat(), row.customer_id, row.what, row.key_id, row.key_name, row.role])
        yield out.getvalue()
        if cursor is None:
            return


def purge_reads(db: Database, *, retention_days: float) -> int:
    """Reads older than the retention period (none when it is 0): the log must not grow without end."""
    if retention_days <= 0:
        return 0
    cutoff = utcnow() - timedelta(days=retention_days)
    with db.session() as session:
        gone = session.execute(delete(AuditRead).where(AuditRead.at < cutoff)).rowcount
        session.commit()
    return gone or 0
