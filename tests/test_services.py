"""Background work is claimed through the database: several processes share it and each piece is done once; a
claim whose holder died is taken again once its lease expires. Layouts that would corrupt the embedded index
are refused at start."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from copilot.indexing import service as indexing_service
from copilot.services import Services
from copilot.worker import leases
from tests.conftest import MASTER_KEY, make_record
from tests.support.processes import BIN, ServeProcess, free_port

RECORDS = 300


def build_pair(settings) -> tuple[Services, Services]:  # noqa: ANN001
    """Two sets of services on one database, as two processes would have (each with its own engine)."""
    from copilot.auth.service import create_tenant

    first = Services.build(settings)
    second = Services.build(settings, migrate=False)
    with first.db.session() as session:
        create_tenant(session, "acme")
        session.commit()
    return first, second


def ingest_records(services: Services, count: int) -> None:
    from copilot.ingest.service import ingest

    records = [make_record(customer={"email": f"c{n % 7}@example.com"}) for n in range(count)]
    result = ingest(db=services.db, tenant_id="acme", records=records, region="US", actor="test")
    assert result.created == count


def indexed_count(services: Services) -> int:
    return services.indexer.store.count(tenant="acme")


def test_two_indexers_draining_at_once_index_each_record_once(settings_factory, database_url: str,
                                                               monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(indexing_service, "BATCH", 7)  # many small claims, so the two overlap
    first, second = build_pair(settings_factory(OMNICOPILOT_DATABASE_URL=database_url))
    try:
        ingest_records(first, RECORDS)
        _ = first.indexer.store, second.indexer.store  # open it first: chromadb's client cache is not thread-safe
        counts: dict[str, int] = {}
        start = threading.Barrier(2)

        def drain(name: str, services: Services) -> None:
            start.wait()
            counts[name] = services.indexer.drain()

        threads = [threading.Thread(target=drain, args=item) for item in (("first", first), ("second", second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sum(counts.values()) == RECORDS  # without claims both would index (some of) the same records
        assert first.indexer.backlog() == 0
        assert indexed_count(first) == RECORDS
    finally:
        first.close()
        second.close()


def test_a_claim_whose_holder_died_is_taken_once_its_lease_expires(settings_factory, database_url: str) -> None:
    settings = settings_factory(OMNICOPILOT_DATABASE_URL=database_url, OMNICOPILOT_LEASE_S=1)
    first, second = build_pair(settings)
    try:
        ingest_records(first, 20)
        abandoned = leases.claim(first.db, leases.OUTBOX, limit=8, lease_s=settings.lease_s)  # then "dies"
        assert len(abandoned.ids) == 8
        assert second.indexer.drain() == 12  # the claimed rows are not taken while the lease runs
        assert second.indexer.backlog() == 8
        deadline = time.time() + 300
        taken = 0
        while taken < 8 and time.time() < deadline:
            taken += second.indexer.drain()
            time.sleep(0.1)
        assert taken == 8 and second.indexer.backlog() == 0
        assert indexed_count(second) == 20
        leases.finish(first.db, leases.OUTBOX, abandoned)  # the late holder cannot undo the new holder's work
        assert second.indexer.backlog() == 0 and indexed_count(second) == 20
    finally:
        first.close()
        second.close()


def test_interactions_requeued_while_an_indexer_holds_them_are_indexed_again(settings_factory,
                                                                           database_url: str) -> None:
    """A merge changes records an indexer may be writing with the old customer: they must not leave the outbox."""
    from sqlalchemy import select

    from copilot.interactions.models import IndexOutbox

    first, second = build_pair(settings_factory(OMNICOPILOT_DATABASE_URL=database_url))
    try:
        ingest_records(first, 3)
        in_flight = leases.claim(first.db, leases.OUTBOX, limit=3, lease_s=60)
        with second.db.session() as session:
            leases.requeue_outbox(session, list(session.scalars(select(IndexOutbox.interaction_id))))
            session.commit()
        leases.finish(first.db, leases.OUTBOX, in_flight)  # the indexer that held them is done with old values
        assert second.indexer.backlog() == 3
        assert second.indexer.drain() == 3
    finally:
        first.close()
        second.close()


def test_a_background_process_frees_the_claims_of_a_dead_process_on_this_host(settings_factory) -> None:  # noqa: ANN001
    """A crashed `serve` restarted on the same machine goes on at once, not after the lease."""
    settings = settings_factory(OMNICOPILOT_LEASE_S=3600)
    first, second = build_pair(settings)
    try:
        ingest_records(first, 5)
        dead = subprocess.Popen(["true"])
        dead.wait()
        held = leases.claim(first.db, leases.OUTBOX, limit=5, lease_s=3600)
        with first.db.session() as session:  # as if a process that has exited had claimed them
            from sqlalchemy import update

            session.execute(update(leases.OUTBOX).where(leases.OUTBOX.c.id.in_(held.ids)).values(
                claimed_by=f"{leases.holder().rsplit(':', 1)[0]}:{dead.pid}:abc"))
            session.commit()
        assert second.indexer.drain() == 0
        second.start_background()
        deadline = time.time() + 300
        while second.indexer.backlog() and time.time() < deadline:
            time.sleep(0.05)
        assert second.indexer.backlog() == 0 and indexed_count(second) == 5
    finally:
        first.close()
        second.close()


def test_a_due_mailbox_pull_runs_once_across_processes_per_interval(settings_factory, database_url: str) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from copilot.database.core import utcnow
    from copilot.exceptions import Conflict
    from copilot.integrations.models import ConnectorConfig
    from copilot.integrations.pull import PullScheduler, pull_once

    first, second = build_pair(settings_factory(OMNICOPILOT_DATABASE_URL=database_url))
    try:
        with first.db.session() as session:  # nothing listens there: the pull fails, and still counts as done
            first.hub.save_settings(session, tenant_id="acme", name="imap", values={
                "host": "127.0.0.1", "port": free_port(), "username": "support", "ssl": False, "timeout_s": 5,
                "password": "imap-password-4c1e9a77d0b2"})
            session.execute(update(ConnectorConfig).values(updated_at=utcnow() - timedelta(hours=2)))
            session.commit()
        schedulers = [PullScheduler(services, interval_s=3600) for services in (first, second)]
        assert sum(scheduler.pull_due() for scheduler in schedulers) == 1  # due: one of the two pulls it
        assert sum(scheduler.pull_due() for scheduler in schedulers) == 0  # next due in an hour
        with first.db.session() as session:
            assert first.hub.stats(session, tenant_id="acme")["imap"]["last_error"].startswith("pull:")
        held = leases.claim(first.db, leases.PULLS, limit=1, lease_s=60)  # a pull in progress elsewhere
        with pytest.raises(Conflict):
            pull_once(second, tenant_id="acme", name="imap")
        leases.release(first.db, leases.PULLS, held)
    finally:
        first.close()
        second.close()


# refused layouts ---------------------------------------------------------------------------------------
def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "OMNICOPILOT_DATA_DIR": str(tmp_path / "data"),
            "OMNICOPILOT_CACHE_DIR": str(tmp_path / "cache"),
            "OMNICOPILOT_EMBEDDING_BACKEND": "hashing", "OMNICOPILOT_MASTER_KEY": MASTER_KEY,
            "OMNICOPILOT_PULL_INTERVAL_S": "0", **extra}


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "omnicopilot"), *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("args", "extra", "says"), [
    (("worker",), {}, "`omnicopilot worker` needs a Chroma server"),
    (("serve", "--workers", "2"), {}, "`serve --workers 2` needs a Chroma server"),
    (("serve",), {"OMNICOPILOT_BACKGROUND": "workers"}, "OMNICOPILOT_BACKGROUND=workers needs a Chroma server"),
])
def test_several_processes_on_the_embedded_index_are_refused_at_start(tmp_path: Path, args: tuple[str, ...],
                                                                      extra: dict[str, str], says: str) -> None:
    result = run_cli(cli_env(tmp_path, **extra), *args)
    assert result.returncode == 2
    assert says in result.stderr and "OMNICOPILOT_CHROMA_URL" in result.stderr


def test_a_worker_on_a_shared_database_without_the_shared_secret_key_is_refused(tmp_path: Path) -> None:
    """Each data directory would make its own key, and the worker could not read the connector settings."""
    env = cli_env(tmp_path, OMNICOPILOT_DATABASE_URL=f"sqlite:///{tmp_path / 'shared.db'}",
                  OMNICOPILOT_CHROMA_URL="http://127.0.0.1:9")
    result = run_cli(env, "worker")
    assert result.returncode == 2 and "needs OMNICOPILOT_SECRET_KEY" in result.stderr


def test_cli_commands_beside_a_running_serve_refuse_and_say_how(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps(make_record()) + "\n")
    server = ServeProcess(env).start()
    try:
        # (`context` and `suggest` go through the running server's API instead: copilot.remote.)
        for args in (("import", str(records), "--tenant", "acme", "--create-tenant"), ("reindex",)):
            result = run_cli(env, *args)
            assert result.returncode == 2, (args, result.stderr)
            assert f"in use by `omnicopilot serve` (pid {server.proc.pid})" in result.stderr
            assert "API" in result.stderr and "OMNICOPILOT_CHROMA_URL" in result.stderr
        # A server that died (no shutdown at all) leaves nothing held behind.
        os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=20)
        result = run_cli(env, "import", str(records), "--tenant", "acme", "--create-tenant", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["created"] == 1
    finally:
        server.stop()


@pytest.mark.redis
def test_records_are_acknowledged_when_redis_is_gone_after_they_are_stored(settings_factory, redis_url) -> None:  # noqa: ANN001
    """Live events are best effort: a Redis that went away costs the sidebars a push, never the caller a 500."""
    import shutil

    from fastapi.testclient import TestClient

    from copilot.main import create_app
    from tests.conftest import given_tenant

    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed") if os.environ.get("CI") else pytest.skip("no redis-server")
    port = free_port()
    private = subprocess.Popen([server, "--port", str(port), "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 60  # only bounds a hung start
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        app = create_app(settings_factory(OMNICOPILOT_REDIS_URL=url))
        with TestClient(app) as client:
            given_tenant(app.state.services.db, "bus-co")
            admin = {"Authorization": f"Bearer {MASTER_KEY}"}
            key = client.post("/v1/admin/api-keys", json={"tenant": "bus-co", "role": "integration", "name": "i"},
                              headers=admin).json()["key"]
            private.terminate()
            private.wait(timeout=30)
            resp = client.post("/v1/interactions", headers={"Authorization": f"Bearer {key}"},
                               json={"interactions": [make_record(customer={"email": "bus@example.org"})]})
            assert resp.status_code == 200, resp.text
            assert resp.json()["created"] == 1
    finally:
        if private.poll() is None:
            private.kill()
