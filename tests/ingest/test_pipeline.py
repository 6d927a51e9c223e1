"""The ingest stages one by one, and the pipeline that runs them."""
from __future__ import annotations

from sqlalchemy import func, select

from copilot.customers.identity import IdentityRef
from copilot.customers.models import Customer, CustomerMerge
from copilot.customers.resolver import IdentityGroup, IdentityResolver
from copilot.database.core import Database
from copilot.ingest.service import ingest
from copilot.ingest.stages import Accepted, linked_groups, redact, validate
from copilot.interactions.models import IndexOutbox, Interaction
from copilot.services import Services
from tests.conftest import given_tenant, make_record


def test_validate_names_the_field_and_normalises_identifiers() -> None:
    assert "channel" in validate(make_record(channel="fax"), region="US")  # type: ignore[operator]
    assert validate(["not", "a", "record"], region="US") == "record must be a JSON object"
    record, refs = validate(make_record(customer={"email": "Dana@Example.COM", "phone": "(503) 555-0100"}),
                            region="US")  # type: ignore[misc]
    assert set(refs) == {IdentityRef("email", "dana@example.com"), IdentityRef("phone", "+15035550100")}


def test_redact_takes_secrets_out_of_every_text_field() -> None:
    record, _ = validate(make_record(subject="card 4111 1111 1111 1111", text="my password is Tr0ub4dor&3"),
                         region="US")  # type: ignore[misc]
    clean = redact(record)
    assert "4111 1111 1111 1111" not in clean.subject and "Tr0ub4dor&3" not in clean.text


def test_linked_groups_join_records_that_share_an_identifier_transitively() -> None:
    def entry(index: int, *values: str) -> Accepted:
        record, _ = validate(make_record(), region="US")  # type: ignore[misc]
        return Accepted(index, "acme", record, [IdentityRef("email", v) for v in values])

    groups = linked_groups([entry(0, "a@x.example"), entry(1, "b@x.example", "c@x.example"),
                            entry(2, "c@x.example", "a@x.example"), entry(3, "d@x.example")])
    assert sorted(sorted(e.index for e in g) for g in groups) == [[0, 1, 2], [3]]


def customers_of(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Customer).where(Customer.merged_into_id.is_(None)))


def test_the_resolver_defers_a_merge_in_a_batch_and_merges_when_allowed(settings) -> None:  # noqa: ANN001
    services = Services.build(settings)
    try:
        given_tenant(services.db, "acme")
        ingest(db=services.db, tenant_id="acme", region="US", actor="test", records=[
            make_record(customer={"email": "ann@x.example"}), make_record(customer={"phone": "+15035550101"})])
        both = [IdentityRef("email", "ann@x.example"), IdentityRef("phone", "+15035550101")]
        with services.db.session() as session:
            resolver = IdentityResolver(session, tenant_id="acme", actor="test")
            assert resolver.resolve([IdentityGroup(both)], allow_merge=False) == [None]
            [survivor] = resolver.resolve([IdentityGroup(both, "Ann")], allow_merge=True)
            resolver.flush()
            session.commit()
            assert session.scalar(select(func.count()).select_from(CustomerMerge)) == 1
        assert customers_of(services.db) == 1
        with services.db.session() as session:  # a merged customer's identifier leads to the survivor
            resolver = IdentityResolver(session, tenant_id="acme", actor="test")
            assert resolver.resolve([IdentityGroup([IdentityRef("phone", "+15035550101")])],
                                    allow_merge=False) == [survivor]
    finally:
        services.close()


def test_a_batch_stores_what_is_valid_with_one_outbox_row_each(settings) -> None:  # noqa: ANN001
    services = Services.build(settings)
    try:
        given_tenant(services.db, "acme")
        given_tenant(services.db, "globex")
        ingest(db=services.db, tenant_id="acme", region="US", actor="test", records=[
            make_record(customer={"email": "bo@x.example"}), make_record(customer={"email": "cy@x.example"})])
        records = [make_record(customer={"email": "bo@x.example", "phone": "+15035550102"}),
                   make_record(channel="fax"),
                   make_record(tenant="nowhere"),
                   make_record(customer={"phone": "+15035550102", "email": "cy@x.example"}),  # merges bo and cy
                   make_record(customer={"email": "dee@x.example"}, tenant="globex")]
        result = ingest(db=services.db, tenant_id=None, region="US", actor="test",
                        records=[{**r, "tenant": r.get("tenant", "acme")} for r in records])
        assert result.created == 3 and [r.index for r in result.rejected] == [1, 2]
        assert "nowhere" in result.rejected[1].error
        again = ingest(db=services.db, tenant_id=None, region="US", actor="test", records=[
            {**records[0], "tenant": "acme"}])
        assert again.created == 0 and again.duplicates == 1
        with services.db.session() as session:
            stored = session.scalar(select(func.count()).select_from(Interaction))
            queued = session.scalar(select(func.count()).select_from(IndexOutbox))
            assert stored == 5 and queued >= stored  # a merge queues the moved records again
            acme = session.scalars(select(Interaction.customer_id).where(Interaction.tenant_id == "acme")).all()
            assert len(set(acme)) == 1  # bo and cy were one person all along
    finally:
        services.close()
