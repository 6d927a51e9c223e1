"""WS /v1/ws: authenticate with the first message, then watch customers and receive their updates.

Protocol (client -> server): `{"type": "auth", "key"}` first (within AUTH_TIMEOUT_S), then
`{"type": "watch", "customer_id"}`, `{"type": "unwatch", "customer_id"}`, `{"type": "ping"}`.
Server -> client: `ready`, `watching`, `unwatched`, `pong`, `error`, and for watched customers
`interaction`, `card` and `suggestions`. A missing or wrong key closes with 4401, a key without the
agent role with 4403.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from copilot.auth.service import Principal, role_allows
from copilot.deps import principal_from_key
from copilot.exceptions import AppError, TooManyRequests, Unauthorized
from copilot.live.hub import Connection, LiveHub

router = APIRouter(tags=["live"])
AUTH_TIMEOUT_S = 10.0
MAX_WATCHED = 50
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_RATE_LIMITED = 4429


async def authenticate(websocket: WebSocket, hub: LiveHub) -> Principal | None:
    try:
        first = await asyncio.wait_for(websocket.receive_text(), timeout=AUTH_TIMEOUT_S)
        message = json.loads(first)
    except (TimeoutError, ValueError):
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason="send {\"type\": \"auth\", \"key\"} first")
        return None
    key = message.get("key") if isinstance(message, dict) and message.get("type") == "auth" else None
    if not isinstance(key, str) or not key.strip():
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason="send {\"type\": \"auth\", \"key\"} first")
        return None
    try:
        principal = await hub.run(principal_from_key, hub.services, key.strip(), fast=True,
                                  client_ip=websocket.client.host if websocket.client else None)
    except Unauthorized:
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason="unknown, revoked or expired API key")
        return None
    except TooManyRequests as err:
        await websocket.close(code=CLOSE_RATE_LIMITED, reason=err.message)
        return None
    if principal.tenant_id is None or not role_allows(principal.role, frozenset({"agent"})):
        await websocket.close(code=CLOSE_FORBIDDEN, reason=f"a {principal.role} key cannot watch customers")
        return None
    return principal


async def handle(conn: Connection, hub: LiveHub, message: Any) -> None:
    if not isinstance(message, dict):
        conn.offer({"type": "error", "code": "bad_request", "message": "send JSON objects"})
        return
    kind, customer_id = message.get("type"), message.get("customer_id")
    if kind == "ping":
        conn.offer({"type": "pong"})
    elif kind in ("watch", "unwatch") and not (isinstance(customer_id, str) and customer_id):
        conn.offer({"type": "error", "code": "bad_request", "message": "customer_id: required"})
    elif kind == "watch":
        if len(conn.watching) >= MAX_WATCHED:
            conn.offer({"type": "error", "code": "too_many", "message": f"watch at most {MAX_WATCHED} customers"})
            return
        try:
            resolved = await hub.run(hub.resolve_watch, conn.principal, customer_id, fast=True)
        except AppError as err:  # another tenant's customer is simply not found
            conn.offer({"type": "error", "code": err.code, "message": err.message, "customer_id": customer_id})
            return
        hub.watch(conn, resolved)
        conn.offer({"type": "watching", "customer_id": resolved, "requested": customer_id})
    elif kind == "unwatch":
        hub.unwatch(conn, customer_id)
        conn.offer({"type": "unwatched", "customer_id": customer_id})
    else:
        conn.offer({"type": "error", "code": "bad_request", "message": "type: auth, watch, unwatch or ping"})


@router.websocket("/v1/ws")
async def live_socket(websocket: WebSocket) -> None:
    hub: LiveHub | None = getattr(websocket.app.state, "live_hub", None)
    await websocket.accept()
    if hub is None:
        await websocket.close(code=1011, reason="live push is not running")
        return
    principal = await authenticate(websocket, hub)
    if principal is None:
        return
    conn = Connection(websocket=websocket, principal=principal)
    writer = asyncio.ensure_future(conn.writer())

    async def key_gone() -> None:
        conn.closed = True
        with contextlib.suppress(Exception):
            await websocket.close(code=CLOSE_UNAUTHORIZED, reason="API key revoked or expired")

    forget_key = hub.key_watcher.register(principal.key_id, key_gone)
    conn.offer({"type": "ready", "tenant": principal.tenant_id, "role": principal.role, "name": principal.name,
                "worker": os.getpid()})
    try:
        while not conn.closed:
            text = await websocket.receive_text()
            try:
                message = json.loads(text)
            except ValueError:
                conn.offer({"type": "error", "code": "bad_request", "message": "not JSON"})
                continue
            await handle(conn, hub, message)
    except (WebSocketDisconnect, RuntimeError):  # RuntimeError: we closed it (slow client) while reading
        pass
    finally:
        forget_key()
        hub.drop(conn)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
