"""A revoked or expired key's long-lived connections are told to close (the WebSocket hub uses KeyWatcher)."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from copilot.auth.models import ApiKey
from copilot.auth.revocation import KeyWatcher
from copilot.auth.service import create_api_key, create_tenant, revoke_key
from copilot.database.core import Database, run_migrations


def test_watcher_calls_back_for_revoked_and_expired_keys_only(database_url: str) -> None:
    run_migrations(database_url)
    db = Database(database_url)
    with db.session() as session:
        create_tenant(session, "quay-lines")
        keys = {name: create_api_key(session, tenant_id="quay-lines", role="agent", name=name)[1].id
                for name in ("kept", "revoked", "expiring", "forgotten")}
        session.commit()

    async def scenario() -> tuple[list[str], int, int]:
        watcher = KeyWatcher(db)
        closed: list[str] = []

        async def close_async(name: str) -> None:
            closed.append(name)

        watcher.register(keys["kept"], lambda: closed.append("kept"))
        watcher.register(keys["revoked"], lambda: close_async("revoked"))
        watcher.register(keys["expiring"], lambda: closed.append("expiring"))
        forget = watcher.register(keys["forgotten"], lambda: closed.append("forgotten"))
        nothing_yet = await watcher.check_now()
        with db.session() as session:
            revoke_key(session, keys["revoked"])
            revoke_key(session, keys["forgotten"])
            session.get_one(ApiKey, keys["expiring"]).expires_at = datetime.now(UTC) - timedelta(seconds=1)
            session.commit()
        forget()  # that connection ended before the key was revoked
        ran = await watcher.check_now()
        again = await watcher.check_now()  # each callback runs once
        return sorted(closed), nothing_yet, ran + again

    closed, nothing_yet, ran = asyncio.run(scenario())
    db.dispose()
    assert nothing_yet == 0
    assert closed == ["expiring", "revoked"] and ran == 2


def test_watcher_runs_in_the_background_and_stops() -> None:
    async def scenario() -> bool:
        watcher = KeyWatcher(Database("sqlite://"), every_s=3600).start()
        running = watcher._task is not None and not watcher._task.done()
        watcher.stop()
        return running

    assert asyncio.run(scenario())
