"""The demo data set (`copilot/demo/data`) is valid and shows what the demo promises, checked without a server.

Two companies, every channel for both, several customers each whose interactions join across channels
through the identity rules of DESIGN §5, and knowledge articles per company.
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest

from copilot.customers.identity import IdentityRef, identities_from_block
from copilot.demo.loader import DATA
from copilot.interactions.schemas import InteractionIn
from copilot.knowledge.service import read_articles

CHANNELS = {"email", "chat", "sms", "whatsapp", "social", "voice", "ticket"}
REGION = "US"
EARLIEST = datetime(2026, 9, 1, tzinfo=UTC)
LATEST = datetime(2026, 11, 30, tzinfo=UTC)  # "today" in the demo story; everything happened before
EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@example\.(?:com|org)")


def load_lines() -> list[tuple[int, str]]:
    path = DATA / "interactions.jsonl"
    return [(n, line) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    out = []
    for n, line in load_lines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as err:
            pytest.fail(f"interactions.jsonl line {n}: not JSON ({err.msg})")
    return out


@pytest.fixture(scope="module")
def tenants(records: list[dict[str, Any]]) -> list[str]:
    return sorted({r["tenant"] for r in records})


def customers_of(records: list[dict[str, Any]], tenant: str) -> list[tuple[set[IdentityRef], list[dict[str, Any]]]]:
    """Customers as DESIGN §5 builds them: identifiers in one customer block belong together, transitively."""
    parent: dict[IdentityRef, IdentityRef] = {}

    def find(ref: IdentityRef) -> IdentityRef:
        parent.setdefault(ref, ref)
        while parent[ref] != ref:
            parent[ref] = parent[parent[ref]]
            ref = parent[ref]
        return ref

    blocks = [(r, identities_from_block(r["customer"], region=REGION)) for r in records if r["tenant"] == tenant]
    for _, refs in blocks:
        for ref in refs[1:]:
            parent[find(ref)] = find(refs[0])
    groups: dict[IdentityRef, tuple[set[IdentityRef], list[dict[str, Any]]]] = {}
    for record, refs in blocks:
        identities, items = groups.setdefault(find(refs[0]), (set(), []))
        identities.update(refs)
        items.append(record)
    return list(groups.values())


def test_every_line_parses_and_validates() -> None:
    lines = load_lines()
    assert len(lines) >= 60
    for n, line in lines:
        raw = json.loads(line)
        assert isinstance(raw, dict), f"line {n}: not an object"
        try:
            record = InteractionIn.model_validate(raw)
        except Exception as err:  # pydantic.ValidationError; name the line in the failure
            pytest.fail(f"line {n}: {err}")
        assert record.tenant, f"line {n}: no tenant"
        assert raw["occurred_at"].endswith("Z"), f"line {n}: occurred_at must be UTC with Z"
        assert EARLIEST <= record.occurred_at < LATEST, f"line {n}: occurred_at {record.occurred_at} out of range"
        assert identities_from_block(raw["customer"], region=REGION), f"line {n}: no usable identifier"


def test_two_tenants_each_use_all_channels(records: list[dict[str, Any]], tenants: list[str]) -> None:
    assert len(tenants) == 2
    for tenant in tenants:
        used = {r["channel"] for r in records if r["tenant"] == tenant}
        assert used == CHANNELS, f"{tenant} misses {CHANNELS - used}"


def test_external_ids_unique_per_tenant_and_source(records: list[dict[str, Any]]) -> None:
    keys = Counter((r["tenant"], r["source"], r["external_id"]) for r in records)
    assert [k for k, n in keys.items() if n > 1] == []


def test_directions_and_roles_make_sense(records: list[dict[str, Any]]) -> None:
    directions = Counter(r["direction"] for r in records)
    assert directions["inbound"] and directions["outbound"] and directions["internal"]
    for r in records:
        role = InteractionIn.model_validate(r).author_role
        if r["direction"] == "inbound":
            assert role == "customer", r["external_id"]
        if r["direction"] == "internal":
            assert role == "agent", r["external_id"]
            assert r["channel"] == "ticket", r["external_id"]
    assert {"bot", "system"} <= {r.get("author_role") for r in records}


def test_each_tenant_has_at_least_five_linked_customers(records: list[dict[str, Any]], tenants: list[str]) -> None:
    for tenant in tenants:
        customers = customers_of(records, tenant)
        assert len(customers) >= 5, f"{tenant}: {len(customers)} customers"
        for identities, items in customers:
            label = sorted(map(str, identities))
            assert 3 <= len(items) <= 8, f"{tenant} {label}: {len(items)} interactions"
            channels = {r["channel"] for r in items}
            assert len(channels) >= 3, f"{tenant} {label}: only {channels}"
            days = {r["occurred_at"][:10] for r in items}
            assert len(days) >= 3, f"{tenant} {label}: interactions on too few days"
            names = {r["customer"].get("name") for r in items} - {None}
            assert len(names) == 1, f"{tenant} {label}: several names {names} in one customer"


def test_names_do_not_span_customers(records: list[dict[str, Any]], tenants: list[str]) -> None:
    """One person must not be split in two: every named customer ends up in exactly one group."""
    for tenant in tenants:
        seen: dict[str, int] = defaultdict(int)
        for _, items in customers_of(records, tenant):
            for name in {r["customer"].get("name") for r in items} - {None}:
                seen[name] += 1
        assert {n: c for n, c in seen.items() if c > 1} == {}


def test_email_mentioned_in_text_is_not_an_identifier(records: list[dict[str, Any]]) -> None:
    """The demo shows that an address only mentioned in a message does not link (DESIGN §5)."""
    block_emails = {r["customer"]["email"].strip().lower() for r in records if r["customer"].get("email")}
    mentioned = {m.lower() for r in records if r["direction"] == "inbound"
                 for m in EMAIL_IN_TEXT.findall(r["text"])}
    assert mentioned - block_emails, "no customer mentions another person's email"


def test_spanish_and_german_or_french_customers(records: list[dict[str, Any]]) -> None:
    texts = " ".join(r["text"] for r in records if r["direction"] == "inbound")
    assert "Hola" in texts and "reembolso" in texts
    assert "Sehr geehrte" in texts or "Bonjour" in texts


def test_knowledge_articles(tenants: list[str]) -> None:
    root = DATA / "knowledge"
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == tenants
    for tenant in tenants:
        files = sorted((root / tenant).glob("*.md"))
        assert len(files) >= 5, f"{tenant}: {len(files)} articles"
        for file in files:
            first = file.read_text(encoding="utf-8").splitlines()[0]
            assert first.startswith("# ") and len(first) > 4, f"{file.name}: first line must be '# Title'"
        articles = list(read_articles(root / tenant))
        assert len(articles) == len(files)
        assert all(a.title and not a.title.startswith("#") for a in articles)


def test_data_is_fictional(records: list[dict[str, Any]]) -> None:
    for r in records:
        email = r["customer"].get("email")
        if email:
            assert email.strip().lower().rsplit("@", 1)[1] in ("example.com", "example.org"), email
        phone = r["customer"].get("phone")
        if phone:
            e164 = identities_from_block({"phone": phone}, region=REGION)[0].value
            assert e164[-4:-2] == "01" and e164[-7:-4] == "555", phone


def test_dates_are_iso_and_recent() -> None:
    for n, line in load_lines():
        stamp = json.loads(line)["occurred_at"]
        assert datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is not None, f"line {n}"
