"""`omnicopilot demo`: a fresh data directory with two companies' multi-channel histories, served."""
from __future__ import annotations

import json
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from copilot.auth.service import create_api_key, create_tenant
from copilot.config import Settings
from copilot.customers.models import Customer
from copilot.customers.service import identities_of
from copilot.ingest.service import ingest
from copilot.knowledge.service import import_articles, read_articles
from copilot.services import Services

DATA = Path(__file__).parent / "data"
MARKER = ".omnicopilot-demo"


def fresh_directory(path: Path) -> None:
    """Wipe a previous demo directory; refuse to wipe anything that is not one."""
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            sys.exit(f"{path} exists and is not a demo directory; pass another --data-dir")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("created by omnicopilot demo; wiped by the next run\n")


def load_demo(*, data_dir: Path, base_settings: Settings | None = None) -> dict[str, Any]:
    fresh_directory(data_dir)
    settings = (base_settings or Settings()).model_copy(update={
        "data_dir": data_dir, "database_url": None, "chroma_url": None,
        "master_key": (base_settings or Settings()).master_key or SecretStr("demo-" + secrets.token_urlsafe(16)),
    })
    services = Services.build(settings)
    records = [json.loads(line) for line in (DATA / "interactions.jsonl").read_text().splitlines() if line.strip()]
    tenants = sorted({r["tenant"] for r in records})
    with services.db.session() as session:
        for tenant in tenants:
            create_tenant(session, tenant)
        session.commit()
    result = ingest(db=services.db, tenant_id=None, records=records, region=settings.default_region,
                    actor="demo")
    if result.rejected:
        sys.exit(f"demo data rejected: {result.rejected[:3]}")
    keys: dict[str, dict[str, str]] = {}
    customers: dict[str, list[dict[str, Any]]] = {}
    with services.db.session() as session:
        for tenant in tenants:
            kb_dir = DATA / "knowledge" / tenant
            if kb_dir.is_dir():
                import_articles(session, services.indexer.store, tenant_id=tenant, articles=read_articles(kb_dir))
            keys[tenant] = {role: create_api_key(session, tenant_id=tenant, role=role, name=f"demo {role}")[0]
                            for role in ("agent", "supervisor", "admin", "integration")}
            customers[tenant] = [
                {"name": c.name, "identity": next((f"{i.kind}:{i.value}" for i in identities_of(session,
                                                                                                customer_id=c.id)), "")}
                for c in session.query(Customer).filter(Customer.tenant_id == tenant,
                                                        Customer.merged_into_id.is_(None)).order_by(Customer.name)]
        session.commit()
    services.indexer.drain()
    return {"settings": settings, "services": services, "created": result.created, "keys": keys,
            "customers": customers}


def serve_demo(loaded: dict[str, Any], *, host: str, port: int) -> None:
    import uvicorn

    from copilot.main import create_app
    from copilot.remote import announce_server
    from copilot.worker.layout import hold_data_dir

    settings = loaded["settings"]
    hold_data_dir(settings, role="demo")  # CLI commands beside it go through its API (copilot.remote)
    announce_server(settings, f"http://{host}:{port}")
    print(welcome(loaded, base=f"http://{host}:{port}"), flush=True)
    app = create_app(loaded["settings"], services=loaded["services"])
    uvicorn.run(app, host=host, port=port, log_level="warning")


def welcome(loaded: dict[str, Any], *, base: str) -> str:
    """What a new user needs to try everything: pages, every role's key, a live message and the CLI."""
    data_dir = Path(loaded["settings"].data_dir).resolve()
    lines = [f"Omnicopilot demo: {loaded['created']} interactions loaded into {data_dir}", "",
             f"  API docs        {base}/docs", f"  agent sidebar   {base}/sidebar",
             f"  console         {base}/console", ""]
    for tenant, keys in loaded["keys"].items():
        pad = " " * (len(tenant) + 2)
        lines.append(f"  {tenant}: agent key       {keys['agent']}")
        for role in ("supervisor", "admin", "integration"):
            lines.append(f"  {pad}{role + ' key':<16}{keys[role]}")
        for customer in loaded["customers"][tenant][:4]:
            lines.append(f"  {pad}{base}/sidebar?identity={customer['identity']}  ({customer['name']})")
        lines.append("")
    tenant, keys = next(iter(loaded["keys"].items()))
    customer = next(c for c in loaded["customers"][tenant] if c["identity"].startswith(("email:", "phone:")))
    lines += [f"  Open {base}/sidebar?identity={customer['identity']} ({customer['name']}), paste the agent key, "
              "then post a message as that customer:",
              "  " + live_message_curl(base=base, key=keys["integration"], identity=customer["identity"]), "",
              "  The CLI on this data (in another shell):",
              f"  export OMNICOPILOT_DATA_DIR={data_dir}",
              f"  omnicopilot context --tenant {tenant} --identity {customer['identity']}"]
    return "\n".join(lines)


def live_message_curl(*, base: str, key: str, identity: str) -> str:
    kind, _, value = identity.partition(":")
    customer = {kind: value}
    record = {"source": "demo-curl", "external_id": "curl-1", "channel": "chat", "direction": "inbound",
              "customer": customer, "text": "Hi, any update on this?", "occurred_at": "NOW"}
    body = json.dumps({"interactions": [record]}).replace('"NOW"', '"\'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"\'"')
    body = body.replace('"curl-1"', '"curl-\'"$(date +%s)"\'"')
    return (f"curl -s -X POST {base}/v1/interactions -H 'Authorization: Bearer {key}' "
            f"-H 'Content-Type: application/json' -d '{body}'")
