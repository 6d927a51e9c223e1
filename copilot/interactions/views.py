"""POST /v1/interactions: canonical records in, per-record rejections out."""
from __future__ import annotations

from fastapi import APIRouter

from copilot.deps import IngestDep, ServicesDep
from copilot.exceptions import PayloadTooLarge
from copilot.ingest.service import ingest
from copilot.interactions.schemas import IngestRequest, IngestResponse

router = APIRouter(prefix="/v1", tags=["interactions"])


@router.post("/interactions", response_model=IngestResponse)
def post_interactions(body: IngestRequest, principal: IngestDep, services: ServicesDep) -> IngestResponse:
    limit = services.settings.max_batch
    if len(body.interactions) > limit:
        raise PayloadTooLarge(f"interactions: at most {limit} records per request, got {len(body.interactions)}")
    result = ingest(db=services.db, tenant_id=principal.tenant_id, records=body.interactions,
                    region=services.settings.default_region, actor=f"key:{principal.name}",
                    on_created=services.announce)
    return IngestResponse(created=result.created, duplicates=result.duplicates, rejected=result.rejected)
