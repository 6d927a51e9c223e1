"""Connectors at run time: per-tenant settings, webhook intake (verify, store, answer, ingest after), counters.

The core never branches on a vendor: everything vendor-specific sits behind the capability base
classes in `copilot.integrations.base`, loaded from the `omnicopilot.connectors` entry points.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from copilot.audit.service import purge_reads
from copilot.auth.secrets import secret_problem
from copilot.config import Settings
from copilot.database.core import Database, utcnow
from copilot.exceptions import BadRequest, NotFound, Unauthorized, Unprocessable, describe_validation_errors
from copilot.exceptions import UnsupportedMediaType as UnsupportedMediaTypeError
from copilot.ingest.service import IngestResult, ingest
from copilot.ingest.stages import validate
from copilot.integrations import base
from copilot.integrations.crypto import decrypt_json, encrypt_json, fernet_for
from copilot.integrations.models import ConnectorConfig, ConnectorStats, WebhookDelivery
from copilot.integrations.registry import load_connectors
from copilot.interactions.redact import redact_body
from copilot.worker import leases
from copilot.worker.leases import DELIVERIES

log = logging.getLogger(__name__)
PURGE_EVERY_S = 600
SIGNATURE_FAILED = "signature check failed"
MASK = "********"
COUNTERS = ("received", "ingested", "duplicates", "rejected", "signature_failures")


def masked(settings: BaseModel) -> dict[str, Any]:
    """Settings as JSON with every secret replaced by a mask (set) or None (unset)."""
    out: dict[str, Any] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        out[name] = (MASK if value.get_secret_value() else None) if isinstance(value, SecretStr) else value
    return out


def plain(settings: BaseModel) -> dict[str, Any]:
    data = settings.model_dump(mode="python")
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in data.items()}


def refuse_weak_secrets(connector: base.Connector, settings: BaseModel) -> None:
    """Placeholders are refused for every secret; a secret that verifies inbound webhooks is ours to choose, so
    it must also be long and random (a password for someone else's server, e.g. IMAP, is what it is)."""
    webhook = isinstance(connector, base.WebhookConnector)
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            problem = secret_problem(value.get_secret_value(), shared=webhook)
            if problem:
                raise Unprocessable(f"{name}: {problem}")


CREDENTIAL_HEADER = re.compile(r"authorization|cookie|token|secret|signature|api[-_]?key|password|auth",
                               re.IGNORECASE)


def headers_to_store(headers: Mapping[str, str]) -> dict[str, str]:
    """What a delivery keeps of its headers: the request is verified before it is stored, so credentials and
    signatures have done their work and are not kept."""
    return {name: value for name, value in headers.items() if not CREDENTIAL_HEADER.search(name)}


class ConnectorHub:
    """One per process: the loaded connectors, their settings per tenant, and the delivery worker."""

    def __init__(self, *, db: Database, settings: Settings,
                 on_ingested: Callable[[IngestResult], None] | None = None) -> None:
        self.db = db
        self.settings = settings
        self.connectors: dict[str, base.Connector] = load_connectors()
        self.on_ingested = on_ingested
        self._fernet = fernet_for(settings)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._processing = threading.Lock()

    # settings -------------------------------------------------------------------------------
    def get(self, name: str) -> base.Connector:
        connector = self.connectors.get(name)
        if connector is None:
            raise NotFound(f"no connector named {name!r}")
        return connector

    def load_settings(self, session: Session, *, tenant_id: str, name: str) -> base.ConnectorSettings | None:
        row = session.scalar(select(ConnectorConfig).where(ConnectorConfig.tenant_id == tenant_id,
                                                           ConnectorConfig.connector == name))
        if row is None:
            return None
        return self.get(name).settings_model.model_validate(decrypt_json(self._fernet, row.encrypted))

    def save_settings(self, session: Session, *, tenant_id: str, name: str, values: dict[str, Any]) -> dict:
        connector = self.get(name)
        current = self.load_settings(session, tenant_id=tenant_id, name=name)
        merged = {**(plain(current) if current else {}), **values}  # a PUT without a secret keeps the old one
        try:
            parsed = connector.settings_model.model_validate(merged)
        except ValidationError as err:
            raise Unprocessable(describe_validation_errors(list(err.errors()))) from None
        refuse_weak_secrets(connector, parsed)
        row = session.scalar(select(ConnectorConfig).where(ConnectorConfig.tenant_id == tenant_id,
                                                           ConnectorConfig.connector == name))
        token = encrypt_json(self._fernet, plain(parsed))
        if row is None:
            session.add(ConnectorConfig(tenant_id=tenant_id, connector=name, encrypted=token, updated_at=utcnow()))
        else:
            row.encrypted, row.updated_at = token, utcnow()
        session.commit()
        return masked(parsed)

    # counters -------------------------------------------------------------------------------
    def bump(self, *, tenant_id: str, name: str, error: str | None = None, **counts: int) -> None:
        with self.db.session() as session:
            for _attempt in range(2):  # a concurrent insert of the same row
                row = session.scalar(select(ConnectorStats).where(ConnectorStats.tenant_id == tenant_id,
                                                                  ConnectorStats.connector == name))
                if row is None:
                    session.add(ConnectorStats(tenant_id=tenant_id, connector=name, **dict.fromkeys(COUNTERS, 0)))
                    try:
                        session.commit()
                    except IntegrityError:
                        session.rollback()
                    continue
                values: dict[str, Any] = {k: getattr(ConnectorStats, k) + v for k, v in counts.items() if v}
                if error:
                    values.update(last_error=error[:2000], last_error_at=utcnow())
                if values:
                    session.execute(update(ConnectorStats).where(ConnectorStats.id == row.id).values(**values))
                    session.commit()
                return
            log.warning("could not update counters for %s/%s", tenant_id, name)

    def stats(self, session: Session, *, tenant_id: str) -> dict[str, dict[str, Any]]:
        rows = session.scalars(select(ConnectorStats).where(ConnectorStats.tenant_id == tenant_id))
        return {r.connector: {**{k: getattr(r, k) for k in COUNTERS}, "last_error": r.last_error,
                              "last_error_at": r.last_error_at} for r in rows}

    def all_stats(self, session: Session) -> list[ConnectorStats]:
        return list(session.scalars(select(ConnectorStats)))

    # webhooks -------------------------------------------------------------------------------
    def webhook_connector(self, session: Session, *, tenant_id: str, name: str
                          ) -> tuple[base.WebhookConnector, base.ConnectorSettings]:
        from copilot.auth.models import Tenant

        connector = self.connectors.get(name)
        if not isinstance(connector, base.WebhookConnector):
            raise NotFound("no such webhook connector")
        # An unknown tenant, an unconfigured connector and a bad signature answer alike, so an outsider cannot
        # tell which tenants exist or what they use.
        if session.get(Tenant, tenant_id) is None:
            raise Unauthorized(SIGNATURE_FAILED)
        settings = self.load_settings(session, tenant_id=tenant_id, name=name)
        if settings is None:
            self.bump(tenant_id=tenant_id, name=name, signature_failures=1, error="webhook not configured")
            raise Unauthorized(SIGNATURE_FAILED)
        return connector, settings

    def handshake(self, session: Session, *, tenant_id: str, name: str,
                  request: base.WebhookRequest) -> tuple[int, str] | None:
        """The connector's answer when the request is a verification request, else None."""
        connector, settings = self.webhook_connector(session, tenant_id=tenant_id, name=name)
        return self._checked(connector.handshake, request, settings, tenant_id=tenant_id, name=name)

    def _checked(self, check: Callable[..., Any], request: base.WebhookRequest, settings: base.ConnectorSettings,
                 *, tenant_id: str, name: str) -> Any:
        """A signature check of the connector's: a failure is counted and answered 401."""
        try:
            return check(request, settings)
        except base.SignatureError as err:
            self.bump(tenant_id=tenant_id, name=name, signature_failures=1, error=f"signature: {err}")
            raise Unauthorized(SIGNATURE_FAILED) from None  # the reason is in the connector's health counters

    def receive(self, session: Session, *, tenant_id: str, name: str,
                request: base.WebhookRequest) -> dict | tuple[int, str]:
        """Verify and check the payload, store it durably, and leave the ingest to the worker. A verification
        request (a vendor checking the URL, e.g. Front's challenge) gets the connector's (status, body)."""
        connector, settings = self.webhook_connector(session, tenant_id=tenant_id, name=name)
        answer = self._checked(connector.handshake, request, settings, tenant_id=tenant_id, name=name)
        if answer is not None:
            return answer
        self._checked(connector.verify, request, settings, tenant_id=tenant_id, name=name)
        try:
            records = connector.parse(request, settings)  # fail fast on bad payloads: nothing stored
        except base.UnsupportedMediaType as err:
            self.bump(tenant_id=tenant_id, name=name, rejected=1, error=str(err))
            raise UnsupportedMediaTypeError(str(err)) from None
        except base.PayloadError as err:
            self.bump(tenant_id=tenant_id, name=name, rejected=1, error=str(err))
            raise BadRequest(str(err)) from None
        # Every record is checked now so the sender hears which one is wrong and why; the valid ones go in.
        rejected = []
        for index, record in enumerate(records):
            problem = validate(record, region=self.settings.default_region)
            if isinstance(problem, str):
                rejected.append({"index": index, "error": problem})
        if records and len(rejected) == len(records):
            self.bump(tenant_id=tenant_id, name=name, rejected=len(rejected), error=rejected[0]["error"])
            raise BadRequest("; ".join(f"record {r['index']}: {r['error']}" for r in rejected[:10]))
        key = connector.delivery_id(request) or "sha256:" + hashlib.sha256(request.body).hexdigest()
        session.add(WebhookDelivery(tenant_id=tenant_id, connector=name, delivery_key=key[:200],
                                    method=request.method, url=request.url, headers=headers_to_store(request.headers),
                                    body=redact_body(request.body, request.header("content-type")),
                                    received_at=request.received_at))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return {"status": "duplicate", "records": len(records) - len(rejected), "rejected": rejected}
        self.bump(tenant_id=tenant_id, name=name, received=1)
        self._wake.set()
        return {"status": "accepted", "records": len(records) - len(rejected), "rejected": rejected}

    def process_pending(self, limit: int = 50) -> int:
        """Parse and ingest stored deliveries (also those a crash left behind). Each batch is claimed with a
        lease, so across a fleet of workers every delivery is processed once; within this process the
        calls take turns."""
        with self._processing:
            held = leases.claim(self.db, DELIVERIES, where=[DELIVERIES.c.status == "pending"], limit=limit,
                                lease_s=self.settings.lease_s)
            if not held:
                return 0
            with self.db.session() as session:
                pending = list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(held.ids))
                                               .order_by(WebhookDelivery.id)))
            for delivery in pending:
                self._process(delivery, held)
            return len(held.ids)

    def purge_processed(self) -> int:
        """Processed deliveries older than the retention period: their records are stored, the bodies are not
        needed any more."""
        cutoff = utcnow() - timedelta(days=self.settings.delivery_retention_days)
        with self.db.session() as session:
            gone = session.execute(delete(WebhookDelivery).where(WebhookDelivery.status == "processed",
                                                                 WebhookDelivery.processed_at < cutoff)).rowcount
            session.commit()
        return gone or 0

    def _process(self, delivery: WebhookDelivery, held: leases.Claim) -> None:
        error: str | None = None
        result = IngestResult()
        try:
            connector = self.get(delivery.connector)
            with self.db.session() as session:
                settings = self.load_settings(session, tenant_id=delivery.tenant_id, name=delivery.connector)
            assert isinstance(connector, base.WebhookConnector) and settings is not None
            request = base.WebhookRequest(method=delivery.method, url=delivery.url, headers=delivery.headers,
                                          query={}, body=delivery.body, received_at=delivery.received_at)
            records = connector.parse(request, settings)
            result = ingest(db=self.db, tenant_id=delivery.tenant_id, records=records,
                            region=self.settings.default_region, actor=f"connector:{delivery.connector}",
                            on_created=self.on_ingested)
            if result.rejected:
                error = "; ".join(f"record {r.index}: {r.error}" for r in result.rejected)[:2000]
        except Exception as err:  # keep the delivery; it is retried and its error is visible
            log.exception("webhook delivery %s failed", delivery.id)
            error = repr(err)
        failed = error is not None and not (result.created or result.duplicates or result.rejected)
        leases.release(self.db, DELIVERIES, held, [delivery.id], error=error, processed_at=utcnow(),
                       status="failed" if failed and delivery.attempts >= 4 else ("pending" if failed else "processed"),
                       attempts=delivery.attempts + 1)
        self.bump(tenant_id=delivery.tenant_id, name=delivery.connector, ingested=result.created,
                  duplicates=result.duplicates, rejected=len(result.rejected), error=error)

    # worker ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="webhook-deliveries", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        last_purge = 0.0
        while not self._stop.is_set():
            try:
                if self.process_pending():
                    continue
                if time.monotonic() - last_purge > PURGE_EVERY_S:
                    # the audit log's retention rides on this loop: it runs wherever the background work does
                    self.purge_processed()
                    purge_reads(self.db, retention_days=self.settings.audit_retention_days)
                    last_purge = time.monotonic()
            except Exception:
                log.exception("webhook worker failed; retrying")
            self._wake.wait(timeout=2.0)
            self._wake.clear()
