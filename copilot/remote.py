"""CLI commands beside a running `serve` on the same data directory go through its HTTP API.

The SQL database is safe to share between processes; the embedded index is not (see `copilot.worker.layout`).
So `serve` writes where it listens into the data directory, and a command such as `context` that finds a live
server there asks it, with an agent key it makes in the database for this one call and revokes after.
"""
from __future__ import annotations

import contextlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from copilot.config import Settings

SERVE_FILE = "serve.json"
KEY_LIFETIME = timedelta(minutes=10)  # a crashed command leaves nothing that works for long
TIMEOUT_S = 300.0


class RemoteError(Exception):
    """The running server answered with an error; the message is its own."""


def announce_server(settings: Settings, url: str) -> None:
    """Called by `serve` once it listens: where a CLI command beside it finds it."""
    path = settings.data_dir / SERVE_FILE
    path.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    path.chmod(0o600)


def running_server(settings: Settings) -> str | None:
    """The URL of a live `serve` on this data directory's embedded index, if there is one."""
    if settings.chroma_url:  # with a Chroma server, processes share nothing unsafe: no need to ask
        return None
    try:
        announced = json.loads((settings.data_dir / SERVE_FILE).read_text())
        os.kill(int(announced["pid"]), 0)  # signal 0: is it alive?
        return str(announced["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def temporary_key(settings: Settings, *, tenant: str) -> Iterator[str]:
    from copilot.auth.service import create_api_key, revoke_key
    from copilot.database.core import Database, utcnow
    from copilot.exceptions import AppError

    db = Database(settings.sqlalchemy_url)
    try:
        with db.session() as session:
            try:
                plain, row = create_api_key(session, tenant_id=tenant, role="agent", name="cli",
                                            expires_at=utcnow() + KEY_LIFETIME)
            except AppError as err:
                raise RemoteError(err.message) from None
            session.commit()
            key_id = row.id
        try:
            yield plain
        finally:
            with db.session() as session:
                revoke_key(session, key_id)
                session.commit()
    finally:
        db.dispose()


def call(url: str, key: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(url.rstrip("/") + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310 - our own server
            return json.loads(answer.read())
    except urllib.error.HTTPError as err:
        try:
            message = json.loads(err.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {err.code}"
        raise RemoteError(message) from None
    except urllib.error.URLError as err:
        raise RemoteError(f"the server at {url} did not answer: {err.reason}") from None


def customer_id(url: str, key: str, identity: str) -> str:
    return call(url, key, "GET", "/v1/customers/resolve?" + urllib.parse.urlencode({"identity": identity}))["id"]


def context_card(settings: Settings, url: str, *, tenant: str, identity: str) -> dict[str, Any]:
    with temporary_key(settings, tenant=tenant) as key:
        return call(url, key, "GET", f"/v1/customers/{customer_id(url, key, identity)}/context")


def suggestions(settings: Settings, url: str, *, tenant: str, identity: str, request: dict[str, Any]) -> dict[str, Any]:
    with temporary_key(settings, tenant=tenant) as key:
        return call(url, key, "POST", f"/v1/customers/{customer_id(url, key, identity)}/suggestions", request)
