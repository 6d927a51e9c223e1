"""Supervisor review API under /v1/review: suggestions and outcomes, stats, CSV export, merges and splits."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from copilot.deps import SessionDep, SettingsDep, SupervisorDep
from copilot.review.repeat_asks import report
from copilot.review.schemas import (
    MergeIn,
    MergeList,
    MergeOut,
    MergePreview,
    RepeatAskReport,
    ReviewPage,
    ReviewStats,
)
from copilot.review.service import (
    Filters,
    export_csv,
    list_merges,
    list_suggestions,
    make_filters,
    merge_customers,
    preview_merge,
    split_customers,
    stats,
)

router = APIRouter(prefix="/v1/review", tags=["review"])


def filters(agent: Annotated[str | None, Query(description="key name that asked or gave feedback")] = None,
            channel: str | None = None, engine: str | None = None,
            outcome: Annotated[str | None, Query(description="accepted, edited, rejected or ignored")] = None,
            customer_id: str | None = None,
            since: Annotated[str | None, Query(description="date or ISO date-time, inclusive")] = None,
            until: Annotated[str | None, Query(description="date (whole day included) or ISO date-time")] = None,
            ) -> Filters:
    return make_filters(agent=agent, channel=channel, engine=engine, outcome=outcome, customer_id=customer_id,
                        since=since, until=until)


@router.get("/suggestions", response_model=ReviewPage)
def read_suggestions(principal: SupervisorDep, session: SessionDep,
                     agent: str | None = None, channel: str | None = None, engine: str | None = None,
                     outcome: str | None = None, customer_id: str | None = None, since: str | None = None,
                     until: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                     offset: Annotated[int, Query(ge=0)] = 0) -> ReviewPage:
    found = filters(agent, channel, engine, outcome, customer_id, since, until)
    return list_suggestions(session, tenant_id=principal.tenant_id, filters=found, limit=limit, offset=offset)


@router.get("/stats", response_model=ReviewStats)
def read_stats(principal: SupervisorDep, session: SessionDep, agent: str | None = None, channel: str | None = None,
               engine: str | None = None, outcome: str | None = None, customer_id: str | None = None,
               since: str | None = None, until: str | None = None) -> ReviewStats:
    """Rates over the suggestions the filters select: the same filters as the list, Outcome included."""
    found = filters(agent, channel, engine, outcome, customer_id, since, until)
    return stats(session, tenant_id=principal.tenant_id, filters=found)


@router.get("/suggestions.csv", response_class=StreamingResponse)
def read_csv(principal: SupervisorDep, session: SessionDep, agent: str | None = None, channel: str | None = None,
             engine: str | None = None, outcome: str | None = None, customer_id: str | None = None,
             since: str | None = None, until: str | None = None) -> StreamingResponse:
    found = filters(agent, channel, engine, outcome, customer_id, since, until)
    # Materialised here: the session closes when this function's dependencies unwind.
    body = "".join(export_csv(session, tenant_id=principal.tenant_id, filters=found))
    return StreamingResponse(iter([body]), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="suggestions.csv"'})


@router.get("/merges", response_model=MergeList)
def read_merges(principal: SupervisorDep, session: SessionDep, customer_id: str | None = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> MergeList:
    return MergeList(merges=list_merges(session, tenant_id=principal.tenant_id, customer_id=customer_id,
                                        limit=limit))


@router.get("/merges/preview", response_model=MergePreview)
def read_merge_preview(principal: SupervisorDep, session: SessionDep, settings: SettingsDep,
                       survivor: Annotated[str, Query(min_length=1, max_length=400)],
                       absorbed: Annotated[str, Query(min_length=1, max_length=400)]) -> MergePreview:
    """Both customers and the identities that would join them, before a merge; nothing changes."""
    return preview_merge(session, tenant_id=principal.tenant_id, survivor=survivor, absorbed=absorbed,
                         region=settings.default_region)


@router.post("/merges", response_model=MergeOut, status_code=201)
def create_merge(body: MergeIn, principal: SupervisorDep, session: SessionDep, settings: SettingsDep) -> MergeOut:
    return merge_customers(session, principal=principal, survivor=body.survivor, absorbed=body.absorbed,
                           reason=body.reason, region=settings.default_region)


@router.post("/merges/{merge_id}/undo", response_model=MergeOut)
def undo(merge_id: str, principal: SupervisorDep, session: SessionDep) -> MergeOut:
    """Split: undo a merge, moving the absorbed customer's identifiers and history back."""
    return split_customers(session, principal=principal, merge_id=merge_id)


@router.get("/repeat-asks", response_model=RepeatAskReport)
def read_repeat_asks(principal: SupervisorDep, session: SessionDep,
                     since: Annotated[str | None, Query(description="date or ISO date-time, inclusive")] = None,
                     until: Annotated[str | None, Query(description="date (whole day included) or ISO date-time")]
                     = None,
                     channel: Annotated[str | None, Query(description="channel the agent asked on")] = None,
                     agent: Annotated[str | None, Query(description="agent name on the asking message")] = None,
                     limit: Annotated[int, Query(ge=1, le=500, description="worst cases returned")] = 20,
                     ) -> RepeatAskReport:
    """Leak points: agent messages that asked a customer again for what the customer gave on an earlier contact."""
    return report(session, tenant_id=principal.tenant_id, since=since, until=until, channel=channel, agent=agent,
                  limit=limit)
