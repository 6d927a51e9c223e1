"""The `omnicopilot` command (DESIGN §7). `--json` output is machine-readable and alone on stdout."""
from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from copilot.config import Settings, get_settings

app = typer.Typer(help="Omnicopilot: a copilot for contact-center agents.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
tenants_app = typer.Typer(help="Manage tenants.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
kb_app = typer.Typer(help="Manage the knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
connectors_app = typer.Typer(help="Configure connectors and pull from sources.", no_args_is_help=True)
app.add_typer(connectors_app, name="connectors")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


@app.callback()
def private_files() -> None:
    """Files this process creates (database, index, keys, exports) are readable by their owner only."""
    os.umask(0o077)


IMPORT_CHUNK = 500


def setup_logging(settings: Settings) -> None:
    # Logs go to stderr so `--json` output stays clean.
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic's "running upgrade" lines are for whoever debugs migrations, not every command's user.
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("alembic").setLevel(logging.WARNING)


def emit(data: Any, *, as_json: bool, human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, default=str, ensure_ascii=False) + "\n")
    else:
        typer.echo(human)


def refuse_unsafe_layout(settings: Settings, *, role: str, api_processes: int = 1) -> None:
    """Exit 2 with the reason when this process would share the embedded index (see copilot.worker.layout);
    otherwise the data directory stays this process's until it exits."""
    from copilot.worker.layout import UnsafeLayout, check_layout, hold_data_dir

    try:
        check_layout(settings, api_processes=api_processes, worker=role == "worker")
        if role != "worker" and api_processes == 1:
            hold_data_dir(settings, role=role)
    except UnsafeLayout as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
          workers: Annotated[int, typer.Option(help="Worker processes (use Redis for live push across them).")] = 1,
          ) -> None:
    """Serve the API and the web pages."""
    import uvicorn

    from copilot.database.core import run_migrations

    settings = get_settings()
    setup_logging(settings)
    refuse_unsafe_layout(settings, role="serve", api_processes=workers)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    run_migrations(settings.sqlalchemy_url)  # once, before any worker starts
    from copilot.remote import announce_server

    announce_server(settings, f"http://{host}:{port}")
    uvicorn.run("copilot.main:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=settings.log_level.lower())


@app.command()
def worker() -> None:
    """Do the background work (indexing, webhook deliveries, mailbox pulls) and nothing else. Run any number, on
    any machine; they share the work through the database. Needs a Chroma server (OMNICOPILOT_CHROMA_URL)."""
    from copilot.worker.runner import run_worker

    settings = get_settings()
    setup_logging(settings)
    refuse_unsafe_layout(settings, role="worker")
    run_worker(settings)


def read_jsonl(path: Path) -> tuple[list[tuple[int, Any]], list[dict]]:
    """(line number, record) pairs, and errors for lines that are not JSON."""
    records, errors = [], []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                records.append((number, json.loads(line)))
            except json.JSONDecodeError as err:
                errors.append({"line": number, "error": f"not JSON: {err.msg} at column {err.colno}"})
    return records, errors


def parse_options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            typer.echo(f"error: --option {pair!r}: write KEY=VALUE", err=True)
            raise typer.Exit(2)
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


@app.command("import")
def import_file(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON Lines file.")],
                tenant: Annotated[str | None, typer.Option(help="Tenant for records without their own.")] = None,
                index: Annotated[bool, typer.Option(help="Index the new records in Chroma now.")] = True,
                file_format: Annotated[str, typer.Option("--format", help="jsonl (canonical) or a connector's "
                                                         "format: eml, mbox, chat-json, vtt, csv ...")] = "jsonl",
                option: Annotated[list[str] | None, typer.Option(help="Importer option KEY=VALUE (JSON values "
                                                                 "allowed), e.g. company_domains=[\"acme.example\"]")
                                  ] = None,
                create_tenant: Annotated[bool, typer.Option("--create-tenant",
                                                            help="Create --tenant if it does not exist.")] = False,
                as_json: JsonOpt = False) -> None:
    """Import interactions from a file. Exit status 1 when any line or record was rejected. Records of an
    unknown tenant are refused (a typo must not create one) unless --create-tenant."""
    from rich.progress import Progress

    from copilot.ingest.service import ingest
    from copilot.services import Services

    settings = get_settings()
    setup_logging(settings)
    refuse_unsafe_layout(settings, role="import")
    services = Services.build(settings)
    if tenant and create_tenant:
        create_tenant_if_missing(services, tenant)
    elif tenant:
        existing_tenant_or_exit(services, tenant)
    if file_format == "jsonl":
        records, rejected = read_jsonl(file)
    else:
        from copilot.integrations.imports import read_with_importer

        records, rejected = read_with_importer(services.hub, file, file_format=file_format,
                                               options=parse_options(option or []))
    if tenant:
        records = [(n, {**r, "tenant": r.get("tenant") or tenant} if isinstance(r, dict) else r) for n, r in records]
    created = duplicates = 0
    show_progress = sys.stderr.isatty() and not as_json
    with Progress(disable=not show_progress, transient=True) as progress:
        task = progress.add_task("importing", total=len(records))
        for start in range(0, len(records), IMPORT_CHUNK):
            chunk = records[start:start + IMPORT_CHUNK]
            result = ingest(db=services.db, tenant_id=None, records=[r for _, r in chunk],
                            region=settings.default_region, actor="cli:import")
            created += result.created
            duplicates += result.duplicates
            rejected += [{"line": chunk[r.index][0], "error": r.error} for r in result.rejected]
            progress.advance(task, len(chunk))
        if index and created:
            task = progress.add_task("indexing", total=None)
            services.indexer.drain()
    rejected.sort(key=lambda r: r["line"])
    summary = {"created": created, "duplicates": duplicates, "rejected": rejected,
               "index_backlog": services.indexer.backlog()}
    services.close()
    lines = [f"created {created}, duplicates {duplicates}, rejected {len(rejected)}"]
    lines += [f"  line {r['line']}: {r['error']}" for r in rejected]
    emit(summary, as_json=as_json, human="\n".join(lines))
    raise typer.Exit(1 if rejected else 0)


@app.command()
def reindex(in_place: Annotated[bool, typer.Option("--in-place", help="Keep the index serving while every record "
                                                    "is upserted again (no downtime).")] = False,
            as_json: JsonOpt = False) -> None:
    """Rebuild the vector index from SQL (after losing the index directory, or changing the embedder)."""
    from copilot.services import Services

    settings = get_settings()
    setup_logging(settings)
    refuse_unsafe_layout(settings, role="reindex")
    services = Services.build(settings)
    count = services.indexer.rebuild(in_place=in_place)
    services.close()
    emit({"indexed": count}, as_json=as_json, human=f"indexed {count} interactions")


def key_view(row: Any) -> dict[str, Any]:
    from copilot.auth.service import key_status

    return {"id": row.id, "tenant": row.tenant_id, "role": row.role, "name": row.name, "prefix": row.prefix,
            "status": key_status(row), "created_at": row.created_at, "last_used_at": row.last_used_at,
            "expires_at": row.expires_at, "revoked_at": row.revoked_at}


def admin_session(action: Any) -> Any:
    """Run `action(session)` and commit; an AppError (unknown tenant, key ...) is a message and exit 1."""
    from copilot.exceptions import AppError
    from copilot.services import Services

    services = Services.build(get_settings())
    try:
        with services.db.session() as session:
            result = action(session)
            session.commit()
    except AppError as err:
        typer.echo(f"error: {err.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        services.close()
    return result


def existing_tenant_or_exit(services: Any, tenant: str) -> None:
    """Tenants are created explicitly (`tenants create`): a typo must not make a new, empty one."""
    from copilot.auth.service import require_tenant
    from copilot.exceptions import AppError

    try:
        with services.db.session() as session:
            require_tenant(session, tenant)
    except AppError as err:
        services.close()
        typer.echo(f"error: {err.message}", err=True)
        raise typer.Exit(1) from None


def create_tenant_if_missing(services: Any, tenant: str) -> None:
    from pydantic import ValidationError

    from copilot.auth.schemas import TenantCreate
    from copilot.auth.service import create_tenant
    from copilot.exceptions import Conflict, describe_validation_errors

    try:
        tenant = TenantCreate(tenant=tenant).tenant
    except ValidationError as err:
        services.close()
        typer.echo(f"error: {describe_validation_errors(list(err.errors()))}", err=True)
        raise typer.Exit(2) from None
    with services.db.session() as session:
        try:
            create_tenant(session, tenant)
            session.commit()
        except Conflict:
            pass  # there already


def expiry_or_exit(days: int | None) -> Any:
    from pydantic import ValidationError

    from copilot.auth.schemas import Expiry
    from copilot.exceptions import describe_validation_errors

    try:
        return Expiry(expires_in_days=days).moment()
    except ValidationError as err:
        typer.echo(f"error: {describe_validation_errors(list(err.errors()))}", err=True)
        raise typer.Exit(2) from None


ExpiresOpt = Annotated[int | None, typer.Option(help="The key stops working after this many days.")]


@keys_app.command("create")
def keys_create(tenant: Annotated[str, typer.Option(help="Tenant slug (must exist, see `tenants create`).")],
                role: Annotated[str, typer.Option(help="agent, supervisor, admin or integration.")],
                name: Annotated[str, typer.Option(help="Who uses the key, e.g. the agent's name.")] = "",
                expires_in_days: ExpiresOpt = None,
                create_tenant: Annotated[bool, typer.Option("--create-tenant",
                                                            help="Create the tenant if it does not exist.")] = False,
                as_json: JsonOpt = False) -> None:
    """Create an API key (printed once; only its hash is stored). An unknown tenant is refused (a typo must not
    create one) unless --create-tenant."""
    from pydantic import ValidationError

    from copilot.auth.schemas import ApiKeyCreate
    from copilot.auth.service import create_api_key
    from copilot.exceptions import describe_validation_errors

    try:
        body = ApiKeyCreate(tenant=tenant, role=role, name=name,  # type: ignore[arg-type]
                            expires_in_days=expires_in_days)
    except ValidationError as err:
        typer.echo(f"error: {describe_validation_errors(list(err.errors()))}", err=True)
        raise typer.Exit(2) from None
    plain, row = admin_session(lambda session: create_api_key(
        session, tenant_id=body.tenant, role=body.role, name=body.name, expires_at=body.moment(),
        create_tenant_if_missing=create_tenant))
    emit({"key": plain, **key_view(row)}, as_json=as_json, human=plain)


@keys_app.command("list")
def keys_list(tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys.")] = None,
              include_inactive: Annotated[bool, typer.Option("--all", help="Also revoked and expired keys.")] = False,
              as_json: JsonOpt = False) -> None:
    """List API keys: id, tenant, role, name, prefix, created, last used, expiry (never the key)."""
    from copilot.auth.service import list_keys

    rows = admin_session(lambda session: [key_view(r) for r in list_keys(session, tenant_id=tenant,
                                                                         include_inactive=include_inactive)])
    human = "\n".join(f"{r['id']}  {r['tenant']:<16} {r['role']:<11} {r['prefix']}…  {r['status']:<7} "
                      f"{r['name'] or '-'}  created {str(r['created_at'])[:16]}  last used "
                      f"{str(r['last_used_at'] or 'never')[:16]}  expires {str(r['expires_at'] or 'never')[:16]}"
                      for r in rows) or "no keys"
    emit({"keys": rows}, as_json=as_json, human=human)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (see `keys list`).")],
                as_json: JsonOpt = False) -> None:
    """Revoke an API key: every request with it is a 401 from now on."""
    from copilot.auth.service import revoke_key

    row = admin_session(lambda session: key_view(revoke_key(session, key_id)))
    emit(row, as_json=as_json, human=f"revoked {row['id']} ({row['tenant']}, {row['role']}, {row['name'] or '-'})")


@keys_app.command("rotate")
def keys_rotate(key_id: Annotated[str, typer.Argument(help="The key's id (see `keys list`).")],
                expires_in_days: ExpiresOpt = None, as_json: JsonOpt = False) -> None:
    """Replace a key: a new key with the same tenant, role and name (printed once); the old one is revoked."""
    from copilot.auth.service import rotate_key

    expires_at = expiry_or_exit(expires_in_days)

    def rotate(session: Any) -> tuple[str, dict, dict]:
        plain, new, old = rotate_key(session, key_id, expires_at=expires_at)
        return plain, key_view(new), key_view(old)

    plain, new, old = admin_session(rotate)
    emit({"key": plain, **new, "replaces": old["id"]}, as_json=as_json, human=plain)


@tenants_app.command("create")
def tenants_create(name: Annotated[str, typer.Argument(help="Tenant slug: lower-case letters, digits, - and _.")],
                   as_json: JsonOpt = False) -> None:
    """Create a tenant (keys, imports and connectors then name it)."""
    from pydantic import ValidationError

    from copilot.auth.schemas import TenantCreate
    from copilot.auth.service import create_tenant
    from copilot.exceptions import describe_validation_errors

    try:
        body = TenantCreate(tenant=name)
    except ValidationError as err:
        typer.echo(f"error: {describe_validation_errors(list(err.errors()))}", err=True)
        raise typer.Exit(2) from None
    row = admin_session(lambda session: create_tenant(session, body.tenant))
    emit({"tenant": row.id, "created_at": row.created_at}, as_json=as_json, human=f"created tenant {row.id}")


@tenants_app.command("list")
def tenants_list(as_json: JsonOpt = False) -> None:
    """List tenants with their number of active keys."""
    from copilot.auth.service import list_tenants

    rows = admin_session(lambda session: [{"tenant": t.id, "created_at": t.created_at, "active_keys": n}
                                          for t, n in list_tenants(session)])
    emit({"tenants": rows}, as_json=as_json,
         human="\n".join(f"{r['tenant']:<24} {r['active_keys']} active keys" for r in rows) or "no tenants")


def remote_or_exit(action: Any) -> Any:
    from copilot.remote import RemoteError

    try:
        return action()
    except RemoteError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None


def find_customer(services: Any, *, tenant: str, identity: str) -> Any:
    from copilot.customers.identity import IdentityError, parse_identity
    from copilot.customers.service import resolve

    try:
        ref = parse_identity(identity, region=services.settings.default_region)
    except IdentityError as err:
        typer.echo(f"error: identity: {err}", err=True)
        raise typer.Exit(2) from None
    with services.db.session() as session:
        customer = resolve(session, tenant_id=tenant, ref=ref)
    if customer is None:
        typer.echo(f"error: no customer with {ref} in tenant {tenant}", err=True)
        raise typer.Exit(1)
    return customer


def card_as_text(card: dict) -> str:
    lines = [f"{card['customer'].get('name') or card['customer']['id']}  "
             f"({', '.join(i['identity'] for i in card['customer']['identities'])})", "", card["summary"], ""]
    lines += [f"- {f['kind']}: {f['value']}  [{f['channel']} {str(f['occurred_at'])[:10]}]" for f in card["facts"]]
    if card.get("open_items"):
        lines += ["", "Open:"]
        lines += [f"- {o['kind']}: {o['text']}" + (f" (due {o['due']})" if o.get("due") else "")
                  + (" OVERDUE" if o.get("overdue") else "") for o in card["open_items"]]
    lines += ["", f"engine: {card['engine']}, language: {card.get('language')}, "
                  f"{len(card['timeline'])} interactions"]
    return "\n".join(lines)


@app.command()
def context(tenant: Annotated[str, typer.Option(help="Tenant slug.")],
            identity: Annotated[str, typer.Option(help="KIND:VALUE, e.g. email:dana@example.com")],
            as_json: JsonOpt = False) -> None:
    """Print a customer's context card."""
    from fastapi.encoders import jsonable_encoder

    from copilot import remote
    from copilot.context.service import build_card
    from copilot.services import Services

    settings = get_settings()
    setup_logging(settings)
    if url := remote.running_server(settings):
        card = remote_or_exit(lambda: remote.context_card(settings, url, tenant=tenant, identity=identity))
        emit(card, as_json=as_json, human=card_as_text(card))
        return
    refuse_unsafe_layout(settings, role="context")
    services = Services.build(settings)
    customer = find_customer(services, tenant=tenant, identity=identity)
    with services.db.session() as session:
        card = jsonable_encoder(build_card(services, session, tenant_id=tenant, customer=customer,
                                               wait_for_model=True))  # nobody waits on a one-shot command
    services.close()
    emit(card, as_json=as_json, human=card_as_text(card))


@app.command()
def suggest(tenant: Annotated[str, typer.Option(help="Tenant slug.")],
            identity: Annotated[str, typer.Option(help="KIND:VALUE, e.g. phone:+14155550134")],
            message: Annotated[str, typer.Option(help="The customer's latest message.")],
            channel: Annotated[str, typer.Option(help="Channel to answer on.")] = "chat",
            as_json: JsonOpt = False) -> None:
    """Suggest replies to a customer's latest message."""
    from pydantic import ValidationError

    from copilot import remote
    from copilot.auth.service import Principal
    from copilot.exceptions import describe_validation_errors
    from copilot.services import Services
    from copilot.suggestions.schemas import SuggestionRequest
    from copilot.suggestions.service import suggest as make_suggestions

    try:
        body = SuggestionRequest(message=message, channel=channel)  # type: ignore[arg-type]
    except ValidationError as err:
        typer.echo(f"error: {describe_validation_errors(list(err.errors()))}", err=True)
        raise typer.Exit(2) from None
    settings = get_settings()
    setup_logging(settings)
    if url := remote.running_server(settings):
        data = remote_or_exit(lambda: remote.suggestions(settings, url, tenant=tenant, identity=identity,
                                                         request=body.model_dump()))
        emit(data, as_json=as_json, human="\n\n".join(f"[{n + 1}] {s['text']}"
                                                      for n, s in enumerate(data["suggestions"])))
        return
    refuse_unsafe_layout(settings, role="suggest")
    services = Services.build(settings)
    customer = find_customer(services, tenant=tenant, identity=identity)
    principal = Principal(key_id="cli", tenant_id=tenant, role="agent", name="cli")
    with services.db.session() as session:
        rows, engine, language = make_suggestions(services, session, principal=principal, customer=customer,
                                                  message=body.message, channel=body.channel)
        data = {"engine": engine, "language": language,
                "suggestions": [{"id": r.id, "text": r.text, "sources": r.sources} for r in rows]}
    services.close()
    emit(data, as_json=as_json, human="\n\n".join(f"[{n + 1}] {s['text']}" for n, s in enumerate(data["suggestions"])))


@kb_app.command("import")
def kb_import(path: Annotated[Path, typer.Argument(exists=True, help="A file or a directory of articles.")],
              tenant: Annotated[str, typer.Option(help="Tenant slug.")],
              audience: Annotated[str, typer.Option(help="public (may be quoted to customers) or internal (agent "
                                                         "guidance); an article's own `audience` wins.")] = "public",
              as_json: JsonOpt = False) -> None:
    """Import knowledge articles (Markdown, HTML, text, JSON); re-importing a file replaces it."""
    from copilot.knowledge.service import KnowledgeError, import_articles, read_articles
    from copilot.services import Services

    settings = get_settings()
    setup_logging(settings)
    refuse_unsafe_layout(settings, role="kb import")
    services = Services.build(settings)
    existing_tenant_or_exit(services, tenant)
    try:
        articles = list(read_articles(path, audience=audience))
    except KnowledgeError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    with services.db.session() as session:
        count = import_articles(session, services.indexer.store, tenant_id=tenant, articles=articles)
    services.close()
    emit({"imported": count}, as_json=as_json, human=f"imported {count} articles")


@app.command()
def demo(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
         port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
         data_dir: Annotated[Path, typer.Option(help="Fresh data directory for the demo (wiped first).")] = Path(
             ".omnicopilot-demo"),
         load_only: Annotated[bool, typer.Option(help="Load the data and exit without serving.")] = False) -> None:
    """Load a realistic multi-channel data set into a fresh data directory and serve it."""
    from copilot.demo.loader import load_demo, serve_demo

    setup_logging(get_settings())
    loaded = load_demo(data_dir=data_dir)
    if load_only:
        emit({k: loaded[k] for k in ("created", "keys", "customers")}, as_json=True, human="")
        loaded["services"].close()
        return
    serve_demo(loaded, host=host, port=port)


@connectors_app.command("list")
def connectors_list(tenant: Annotated[str, typer.Option(help="Tenant slug.")], as_json: JsonOpt = False) -> None:
    """Connectors loaded, this tenant's settings (secrets masked) and health counters."""
    from copilot.integrations.service import masked
    from copilot.services import Services

    services = Services.build(get_settings())
    hub = services.hub
    with services.db.session() as session:
        stats = hub.stats(session, tenant_id=tenant)
        items = []
        for name in sorted(hub.connectors):
            current = hub.load_settings(session, tenant_id=tenant, name=name)
            items.append({"name": name, "settings": masked(current) if current else None,
                          "health": stats.get(name, {})})
    services.close()
    emit({"connectors": items}, as_json=as_json,
         human="\n".join(f"{i['name']:<16} {'configured' if i['settings'] else 'not configured'}" for i in items))


@connectors_app.command("set")
def connectors_set(name: Annotated[str, typer.Argument(help="Connector name, e.g. zendesk.")],
                   values: Annotated[list[str], typer.Argument(help="KEY=VALUE settings (JSON values allowed).")],
                   tenant: Annotated[str, typer.Option(help="Tenant slug.")],
                   as_json: JsonOpt = False) -> None:
    """Set a tenant's settings for a connector; secrets are stored encrypted and never printed."""
    from copilot.exceptions import AppError
    from copilot.services import Services

    services = Services.build(get_settings())
    existing_tenant_or_exit(services, tenant)
    try:
        with services.db.session() as session:
            saved = services.hub.save_settings(session, tenant_id=tenant, name=name, values=parse_options(values))
    except AppError as err:
        typer.echo(f"error: {err.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        services.close()
    emit({"name": name, "settings": saved}, as_json=as_json, human=json.dumps(saved, indent=2, default=str))


@connectors_app.command("pull")
def connectors_pull(name: Annotated[str, typer.Argument(help="A pull connector, e.g. imap.")],
                    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
                    as_json: JsonOpt = False) -> None:
    """Fetch what is new at the source since the last pull (idempotent)."""
    from copilot.exceptions import AppError
    from copilot.integrations.pull import pull_once
    from copilot.services import Services

    settings = get_settings()
    setup_logging(settings)
    refuse_unsafe_layout(settings, role="connectors pull")
    services = Services.build(settings)
    try:
        result = pull_once(services, tenant_id=tenant, name=name)
        services.indexer.drain()
    except AppError as err:
        typer.echo(f"error: {err.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        services.close()
    emit(result, as_json=as_json, human=f"fetched {result['fetched']}, created {result['created']}, "
                                        f"duplicates {result['duplicates']}, rejected {len(result['rejected'])}")


# Each suite's scorer and what it scores on the dev split (tune here). The test splits are kept apart from the
# shared folder, so a test run needs the file: `--test-file SUITE=PATH`.
EVALS: dict[str, tuple[str, list[list[str]]]] = {
    "scenarios": ("score_scenarios.py", [["{dir}/scenarios-dev.jsonl"], ["{dir}/scenarios-dev-v2.jsonl"]]),
    "tweetsumm": ("score_tweetsumm.py", [["{dir}/public/tweetsumm/dev.jsonl"]]),
    "next-reply": ("score_next_reply.py", [["--split", "dev"]]),
    "doc-links": ("score_doc_links.py", [["--split", "dev"]]),
}
# The scorers that take a test split as `--split test --test-file PATH`; the others take the file itself.
TEST_FILE_OPTION = {"next-reply", "doc-links"}


def eval_runs(names: list[str], *, split: str, eval_dir: Path,
              test_files: dict[str, str]) -> list[tuple[str, list[str]]]:
    """(label, scorer arguments) for each scorer run of the chosen suites and split."""
    runs: list[tuple[str, list[str]]] = []
    for name in names:
        script, dev_runs = EVALS[name]
        if split == "dev":
            for args in dev_runs:
                argv = [a.format(dir=eval_dir) for a in args]
                label = f"{name} {Path(argv[0]).name}" if not argv[0].startswith("-") else name
                runs.append((label, [str(eval_dir / script), *argv]))
        elif name in test_files:
            path = test_files[name]
            argv = ["--split", "test", "--test-file", path] if name in TEST_FILE_OPTION else [path]
            runs.append((f"{name} {Path(path).name}", [str(eval_dir / script), *argv]))
    return runs


@app.command("eval")
def evaluate(suite: Annotated[str, typer.Argument(help="scenarios, tweetsumm, next-reply, doc-links or all")] = "all",
             split: Annotated[str, typer.Option(help="dev (tune here) or test (with --test-file)")] = "dev",
             eval_dir: Annotated[Path, typer.Option(help="The shared evaluation folder.")] = Path("../shared/eval"),
             test_file: Annotated[list[str] | None, typer.Option(
                 "--test-file", help="SUITE=PATH: a test split kept apart from the shared folder.")] = None,
             extra: Annotated[list[str] | None, typer.Option("--arg", help="Extra argument for the scorer.")] = None,
             dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the scorer commands only.")] = False,
             ) -> None:
    """Run the shared scorers against a fresh `omnicopilot serve`, then print each scorer's last line (its figures)."""
    import subprocess

    names = list(EVALS) if suite == "all" else [suite]
    if any(n not in EVALS for n in names):
        typer.echo(f"error: suite: one of {', '.join(EVALS)} or all", err=True)
        raise typer.Exit(2)
    if split not in ("dev", "test"):
        typer.echo("error: --split: dev or test", err=True)
        raise typer.Exit(2)
    test_files: dict[str, str] = {}
    for pair in test_file or []:
        name, sep, path = pair.partition("=")
        if not sep or name not in EVALS or not path:
            typer.echo(f"error: --test-file {pair!r}: write SUITE=PATH, SUITE one of {', '.join(EVALS)}", err=True)
            raise typer.Exit(2)
        test_files[name] = str(Path(path).resolve())
    runs = eval_runs(names, split=split, eval_dir=eval_dir, test_files=test_files)
    if not runs:
        typer.echo("error: --split test needs --test-file SUITE=PATH: the test splits are not in the shared folder",
                   err=True)
        raise typer.Exit(2)
    cli = str(Path(sys.executable).parent / "omnicopilot")
    commands = [(label, [sys.executable, *args, "--cli", cli, *(extra or [])]) for label, args in runs]
    if dry_run:
        for _, argv in commands:
            typer.echo(" ".join(argv))
        return
    if not (eval_dir / EVALS[names[0]][0]).is_file():
        typer.echo(f"error: no scorers in {eval_dir} (--eval-dir)", err=True)
        raise typer.Exit(2)
    status, last_lines = 0, []
    for label, argv in commands:
        typer.echo(f"== {label}: {' '.join(argv[1:])}", err=True)
        # The scorer's own output goes to stderr as it comes; its last line (the figures) is kept for the summary.
        last = ""
        with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, bufsize=1) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                sys.stderr.write(line)
                last = line.strip() or last
        status |= proc.returncode
        failed = f" [exit {proc.returncode}]" if proc.returncode else ""
        last_lines.append(f"{label}: {last or '(no output)'}{failed}")
    for line in last_lines:
        typer.echo(line)
    raise typer.Exit(status)


if __name__ == "__main__":
    app()
