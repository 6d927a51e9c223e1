"""Suggestions for the latest customer message, and the agent's feedback on each."""
from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from copilot.audit.service import record_read
from copilot.customers.service import get_customer
from copilot.deps import AgentDep, ServicesDep, SessionDep
from copilot.suggestions.models import Suggestion
from copilot.suggestions.schemas import (
    FeedbackIn,
    FeedbackOut,
    GuidancePublic,
    SuggestionList,
    SuggestionPublic,
    SuggestionRequest,
)
from copilot.suggestions.service import record_feedback, stream_suggestions, suggest_with_guidance

router = APIRouter(prefix="/v1", tags=["suggestions"])


@router.post("/customers/{customer_id}/suggestions", response_model=SuggestionList)
def create_suggestions(customer_id: str, body: SuggestionRequest, principal: AgentDep, session: SessionDep,
                       services: ServicesDep) -> SuggestionList:
    customer = get_customer(session, tenant_id=principal.tenant_id, customer_id=customer_id)
    out = suggest_with_guidance(services, session, principal=principal, customer=customer, message=body.message,
                                channel=body.channel)
    record_read(session, principal, customer.id, what="suggestions")
    engine = out.engine
    # The LLM engine answers "offline" only while its own version is still being computed.
    llm = services.settings.engine == "llm" and engine == "offline"
    pending = f"llm:{services.settings.llm_model}" if llm else None
    return SuggestionList(engine=engine, language=out.language, pending=pending,
                          suggestions=[public(r) for r in out.rows],
                          guidance=[GuidancePublic(title=g.title, text=g.text, url=g.url, source_id=g.source_id)
                                    for g in out.guidance])


def public(row: Suggestion) -> SuggestionPublic:
    return SuggestionPublic(id=row.id, text=row.text, sources=row.sources, links=row.links or [], engine=row.engine)


@router.post("/customers/{customer_id}/suggestions/stream", response_class=StreamingResponse)
def stream_suggestion_events(customer_id: str, body: SuggestionRequest, principal: AgentDep, session: SessionDep,
                             services: ServicesDep) -> StreamingResponse:
    """Server-sent events: `{"text"}` while the engine writes, then `event: suggestions` with the recorded
    suggestions (as `POST .../suggestions` answers), then `event: done`."""
    customer = get_customer(session, tenant_id=principal.tenant_id, customer_id=customer_id)
    record_read(session, principal, customer.id, what="suggestions")
    events = stream_suggestions(services, session, principal=principal, customer=customer, message=body.message,
                                channel=body.channel)

    def sse() -> Iterator[str]:
        for kind, value in events:
            if kind == "text":
                yield f"data: {json.dumps({'text': value}, ensure_ascii=False)}\n\n"
            else:
                listed = SuggestionList(engine=value[0].engine if value else "offline",
                                        suggestions=[public(r) for r in value])
                yield f"event: suggestions\ndata: {listed.model_dump_json()}\n\n"
        yield "event: done\ndata: {}\n\n"

    return StreamingResponse(sse(), media_type="text/event-stream")


@router.post("/suggestions/{suggestion_id}/feedback", response_model=FeedbackOut)
def post_feedback(suggestion_id: str, body: FeedbackIn, principal: AgentDep, session: SessionDep) -> FeedbackOut:
    row, stale = record_feedback(session, principal=principal, suggestion_id=suggestion_id, action=body.action,
                                 final_text=body.final_text)
    return FeedbackOut(id=row.id, action=row.action, final_text=row.final_text, stale=stale,
                       feedback_at=row.feedback_at)
