"""The `omnicopilot` command (DESIGN §7). `--json` output is machine-readable and alone on stdout."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from copilot.config import Settings, get_settings

app = typer.Typer(help="Omnicopilot: a copilot for contact-center agents.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
kb_app = typer.Typer(help="Manage the knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
connectors_app = typer.Typer(help="Configure connectors and pull from sources.", no_args_is_help=True)
app.add_typer(connectors_app, name="connectors")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
IMPORT_CHUNK = 500


def setup_logging(settings: Settings) -> None:
    # Logs go to stderr so `--json` output stays clean.
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def emit(data: Any, *, as_json: bool, human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, default=str, ensure_ascii=False) + "\n")
    else:
        typer.echo(human)


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
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    run_migrations(settings.sqlalchemy_url)  # once, before any worker starts
    uvicorn.run("copilot.main:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=settings.log_level.lower())


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
                as_json: JsonOpt = False) -> None:
    """Import interactions from a file. Exit status 1 when any line or record was rejected."""
    from rich.progress import Progress

    from copilot.interactions.service import ingest
    from copilot.services import Services

    settings = get_settings()
    setup_logging(settings)
    services = Services.build(settings)
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
def reindex(as_json: JsonOpt = False) -> None:
    """Rebuild the vector index from SQL (after losing the index directory, or changing the embedder)."""
    from copilot.services import Services

    settings = get_settings()
    setup_logging(settings)
    services = Services.build(settings)
    count = services.indexer.rebuild()
    services.close()
    emit({"indexed": count}, as_json=as_json, human=f"indexed {count} interactions")


@keys_app.command("create")
def keys_create(tenant: Annotated[str, typer.Option(help="Tenant slug.")],
                role: Annotated[str, typer.Option(help="agent, supervisor, admin or integration.")],
                name: Annotated[str, typer.Option(help="A label for the key.")] = "",
                as_json: JsonOpt = False) -> None:
    """Create an API key (printed once; only its hash is stored)."""
    from pydantic import ValidationError

    from copilot.auth.schemas import ApiKeyCreate
    from copilot.auth.service import create_api_key
    from copilot.exceptions import describe_validation_errors
    from copilot.services import Services

    try:
        body = ApiKeyCreate(tenant=tenant, role=role, name=name)  # type: ignore[arg-type]
    except ValidationError as err:
        typer.echo(f"error: {describe_validation_errors(list(err.errors()))}", err=True)
        raise typer.Exit(2) from None
    services = Services.build(get_settings())
    with services.db.session() as session:
        plain, row = create_api_key(session, tenant_id=body.tenant, role=body.role, name=body.name)
        session.commit()
    services.close()
    emit({"key": plain, "id": row.id, "tenant": body.tenant, "role": body.role}, as_json=as_json, human=plain)


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

    from copilot.context.service import build_card
    from copilot.services import Services

    settings = get_settings()
    setup_logging(settings)
    services = Services.build(settings)
    customer = find_customer(services, tenant=tenant, identity=identity)
    with services.db.session() as session:
        card = jsonable_encoder(build_card(services, session, tenant_id=tenant, customer=customer))
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
              as_json: JsonOpt = False) -> None:
    """Import knowledge articles (Markdown, HTML, text, JSON); re-importing a file replaces it."""
    from copilot.interactions.service import ensure_tenant
    from copilot.knowledge.service import KnowledgeError, import_articles, read_articles
    from copilot.services import Services

    settings = get_settings()
    setup_logging(settings)
    services = Services.build(settings)
    ensure_tenant(services.db, tenant)
    try:
        articles = list(read_articles(path))
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
    from copilot.interactions.service import ensure_tenant
    from copilot.services import Services

    services = Services.build(get_settings())
    ensure_tenant(services.db, tenant)
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


EVALS = {
    "scenarios": ("score_scenarios.py", ["{dir}/scenarios-{split}.jsonl"]),
    "tweetsumm": ("score_tweetsumm.py", ["{dir}/public/tweetsumm/{split}.jsonl"]),
    "next-reply": ("score_next_reply.py", ["--split", "{split}"]),
    "doc-links": ("score_doc_links.py", ["--split", "{split}"]),
}


@app.command("eval")
def evaluate(suite: Annotated[str, typer.Argument(help="scenarios, tweetsumm, next-reply, doc-links or all")] = "all",
             split: Annotated[str, typer.Option(help="dev (tune here) or test (report only)")] = "dev",
             eval_dir: Annotated[Path, typer.Option(help="The shared evaluation folder.")] = Path("../shared/eval"),
             extra: Annotated[list[str] | None, typer.Option("--arg", help="Extra argument for the scorer.")] = None,
             ) -> None:
    """Run the shared scorers against a fresh `omnicopilot serve`; each prints its figures last."""
    import subprocess

    names = list(EVALS) if suite == "all" else [suite]
    if any(n not in EVALS for n in names):
        typer.echo(f"error: suite: one of {', '.join(EVALS)} or all", err=True)
        raise typer.Exit(2)
    cli = str(Path(sys.executable).parent / "omnicopilot")
    status = 0
    for name in names:
        script, args = EVALS[name]
        argv = [sys.executable, str(eval_dir / script), *(a.format(dir=eval_dir, split=split) for a in args),
                "--cli", cli, *(extra or [])]
        typer.echo(f"== {name}: {' '.join(argv[1:])}", err=True)
        status |= subprocess.call(argv)
    raise typer.Exit(status)


if __name__ == "__main__":
    app()
