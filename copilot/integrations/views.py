"""Connector settings (admin), signed webhooks (vendors), and Prometheus metrics."""
from __future__ import annotations

import hmac
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse

from copilot.deps import AdminDep, IngestDep, ServicesDep, SessionDep
from copilot.exceptions import BadRequest, NotFound, Unauthorized
from copilot.ingest.service import ingest
from copilot.integrations import base
from copilot.integrations.imports import parse_with_importer
from copilot.integrations.service import masked
from copilot.metrics import render_metrics

router = APIRouter(tags=["connectors"])


@router.get("/v1/connectors")
def list_connectors(principal: AdminDep, session: SessionDep, services: ServicesDep) -> dict:
    hub = services.hub
    stats = hub.stats(session, tenant_id=principal.tenant_id)
    items = []
    for name, connector in sorted(hub.connectors.items()):
        current = hub.load_settings(session, tenant_id=principal.tenant_id, name=name)
        items.append({
            "name": name, "title": connector.title,
            "capabilities": [cap for cap, cls in (("webhook", base.WebhookConnector), ("import", base.FileImporter),
                                                  ("pull", base.PullConnector)) if isinstance(connector, cls)],
            "configured": current is not None,
            "settings": masked(current) if current is not None else None,
            "webhook_url": f"/v1/webhooks/{principal.tenant_id}/{name}"
            if isinstance(connector, base.WebhookConnector) else None,
            "health": stats.get(name, {}),
        })
    return {"connectors": items}


@router.put("/v1/connectors/{name}")
async def put_connector(name: str, request: Request, principal: AdminDep, session: SessionDep,
                        services: ServicesDep) -> dict:
    try:
        values: Any = await request.json()
    except ValueError:
        raise BadRequest("body: must be a JSON object of settings") from None
    if not isinstance(values, dict):
        raise BadRequest("body: must be a JSON object of settings")
    settings = services.hub.save_settings(session, tenant_id=principal.tenant_id, name=name, values=values)
    return {"name": name, "settings": settings}


@router.post("/v1/imports")
async def upload_import(file: UploadFile, principal: IngestDep, services: ServicesDep,
                        file_format: Annotated[str, Query(alias="format")],
                        option: Annotated[list[str] | None, Query()] = None) -> dict:
    """An export file (eml, mbox, chat-json, call-json, vtt, srt, csv, jsonl) through a connector's importer."""
    options: dict[str, Any] = {}
    for item in option or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadRequest(f"option: {item!r} is not KEY=VALUE")
        options[key] = value
    data = await file.read()
    records, rejected = parse_with_importer(services.hub, data, filename=file.filename or "upload",
                                            file_format=file_format, options=options)
    result = ingest(db=services.db, tenant_id=principal.tenant_id, records=[r for _, r in records],
                    region=services.settings.default_region, actor=f"import:{principal.name}",
                    on_created=services.announce)
    rejected += [{"line": records[r.index][0], "error": r.error} for r in result.rejected]
    return {"created": result.created, "duplicates": result.duplicates,
            "rejected": sorted(rejected, key=lambda r: r["line"])}


async def webhook_request(request: Request) -> base.WebhookRequest:
    query: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key, []).append(value)
    return base.WebhookRequest(method=request.method, url=str(request.url), headers=dict(request.headers),
                               query=query, body=await request.body(), received_at=time.time())


@router.post("/v1/webhooks/{tenant}/{name}", status_code=202)
async def receive_webhook(tenant: str, name: str, request: Request, session: SessionDep,
                          services: ServicesDep) -> Response:
    answer = services.hub.receive(session, tenant_id=tenant, name=name, request=await webhook_request(request))
    if isinstance(answer, tuple):  # a vendor checking the URL when the webhook is created (Front)
        return PlainTextResponse(answer[1], status_code=answer[0])
    return JSONResponse(answer, status_code=202)


@router.get("/v1/webhooks/{tenant}/{name}")
async def webhook_handshake(tenant: str, name: str, request: Request, session: SessionDep,
                            services: ServicesDep) -> Response:
    answer = services.hub.handshake(session, tenant_id=tenant, name=name, request=await webhook_request(request))
    if answer is None:
        raise NotFound("this connector has no verification handshake")
    return PlainTextResponse(answer[1], status_code=answer[0])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, session: SessionDep, services: ServicesDep) -> Response:
    key = services.settings.metrics_key
    if key is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), key.get_secret_value().encode()):
            raise Unauthorized("metrics: send Authorization: Bearer <OMNICOPILOT_METRICS_KEY>")
    return PlainTextResponse(render_metrics(services.hub.all_stats(session), with_tenants=key is not None),
                             media_type="text/plain; version=0.0.4")
