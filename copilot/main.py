"""The FastAPI application: routes, error handling, start-up and shutdown."""
from __future__ import annotations

import gc
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from copilot import __version__
from copilot.audit.views import router as audit_router
from copilot.auth.views import router as auth_router
from copilot.config import Settings, get_settings
from copilot.context.views import router as context_router
from copilot.customers.views import router as customers_router
from copilot.deps import ServicesDep
from copilot.exceptions import error_body, install_error_handlers
from copilot.integrations.views import router as integrations_router
from copilot.interactions.views import router as interactions_router
from copilot.knowledge.views import router as knowledge_router
from copilot.live.hub import LiveHub
from copilot.live.views import router as live_router
from copilot.metrics import INGEST_SECONDS
from copilot.review.views import router as review_router
from copilot.services import Services
from copilot.suggestions.service import CorpusWarmer
from copilot.suggestions.views import router as suggestions_router
from copilot.web.views import mount_static
from copilot.web.views import router as web_router

log = logging.getLogger(__name__)
TIMED_PATHS = ("/v1/interactions", "/v1/webhooks/")
SWITCH_INTERVAL_S = 0.001
FOREGROUND = "/v1/customers"


class BodyTooLarge(HTTPException):
    """An HTTP error, so a route that was reading its body answers 413 through the usual error handlers."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=f"body: at most {max_bytes} bytes")


class BodyLimit:
    """Refuses a body past `max_bytes` while it is read, chunked or streamed bodies included: a declared length
    is refused before anything is read, and an undeclared one is cut off at the limit (never read in full)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await self.refuse(send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if not started:
                await self.refuse(send)

    async def refuse(self, send: Send) -> None:
        response = JSONResponse(error_body("payload_too_large", f"body: at most {self.max_bytes} bytes"),
                                status_code=413, headers={"connection": "close"})
        await response({"type": "http"}, _no_body, send)


class Foreground:
    """Marks each request an agent waits on (a customer's card, replies, timeline) while it is served, so this
    process's indexer holds back until it is answered. Bulk ingest is not marked: it would stall indexing for
    as long as an import runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = getattr(getattr(scope.get("app"), "state", None), "services", None)
        path = scope.get("path", "")
        if scope["type"] != "http" or services is None or not (path == FOREGROUND or path.startswith(FOREGROUND + "/")):
            await self.app(scope, receive, send)
            return
        with services.indexer.gate.serving():
            await self.app(scope, receive, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def keep_requests_responsive() -> None:
    """Short pauses for every request while one thread works through a long message. Two measured causes of
    /healthz waiting 100-200 ms under hostile input: full garbage collections walking every object loaded at
    start (frozen here, so they walk only what requests allocate), and 5 ms GIL turns between busy threads."""
    gc.collect()  # what start-up left over is freed, not frozen
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or Services.build(settings)
        app.state.services.start_workers()
        app.state.live_hub = LiveHub(app.state.services).start()  # live push: subscribes to the bus
        app.state.corpus_warmer = CorpusWarmer(app.state.services).start()
        keep_requests_responsive()
        try:
            yield
        finally:
            gc.unfreeze()  # collectable again once this app is gone (tests start many in one process)
            app.state.corpus_warmer.stop()
            app.state.live_hub.stop()
            if owned:
                app.state.services.close()

    app = FastAPI(title="Omnicopilot", version=__version__, lifespan=lifespan,
                  description="Copilot for contact-center agents: every channel's history of a customer at a glance.")
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Foreground)

    @app.middleware("http")
    async def time_ingest(request: Request, call_next):  # noqa: ANN001, ANN202 - starlette middleware
        if request.method == "POST" and request.url.path.startswith(TIMED_PATHS):
            started = time.perf_counter()
            response = await call_next(request)
            INGEST_SECONDS.labels(path=request.url.path.split("/")[2]).observe(time.perf_counter() - started)
            return response
        return await call_next(request)

    @app.get("/healthz", tags=["health"])
    def healthz(services: ServicesDep) -> dict:
        with services.db.session() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "index_backlog": services.indexer.backlog()}

    app.include_router(auth_router)
    app.include_router(interactions_router)
    app.include_router(customers_router)
    app.include_router(context_router)
    app.include_router(suggestions_router)
    app.include_router(knowledge_router)
    app.include_router(integrations_router)
    app.include_router(live_router)
    app.include_router(review_router)
    app.include_router(audit_router)
    app.include_router(web_router)
    mount_static(app)
    return app
