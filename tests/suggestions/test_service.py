"""Similar past cases are found even among records the index has not reached yet."""
from __future__ import annotations

import time

from copilot.auth.service import Principal
from copilot.customers.service import get_customer
from copilot.ingest.service import ingest
from copilot.services import Services
from copilot.suggestions.service import reply_inputs
from tests.conftest import given_tenant, make_record

HUNG_RUN_S = 120


def test_a_fresh_import_is_searched_before_it_is_indexed(settings) -> None:  # noqa: ANN001
    services = Services.build(settings)  # no workers: nothing gets indexed
    try:
        given_tenant(services.db, "acme")
        other = {"email": "lee@example.com"}
        ingest(db=services.db, tenant_id="acme", region="US", actor="test", records=[
            make_record(customer=other, thread_id="t-lee", text="My parcel shows delivered but it is not here",
                        occurred_at="2026-10-01T10:00:00Z"),
            make_record(customer=other, thread_id="t-lee", direction="outbound", author_name="Sam",
                        text="Sorry about that. A carrier trace usually finds a parcel within two days.",
                        occurred_at="2026-10-01T11:00:00Z"),
            make_record(text="The parcel says delivered but it is not here", occurred_at="2026-10-02T10:00:00Z"),
        ])
        assert services.indexer.backlog() == 3
        with services.db.session() as session:
            from sqlalchemy import select

            from copilot.customers.models import Identity

            dana_id = session.scalar(select(Identity.customer_id).where(Identity.value == "dana@example.com"))
            dana = get_customer(session, tenant_id="acme", customer_id=dana_id)
            principal = Principal(key_id="k", tenant_id="acme", role="agent", name="ann")
            inputs = reply_inputs(services, session, tenant_id=principal.tenant_id, customer=dana,
                                  message="The parcel says delivered but it is not here")
        replies = [s for s in inputs.snippets if s.source_type == "past_reply"]
        expected = "Sorry about that. A carrier trace usually finds a parcel within two days."
        assert [s.text for s in replies] == [expected]
    finally:
        services.close()


def test_an_api_process_loads_each_tenants_past_replies_before_the_first_request_needs_them(api) -> None:  # noqa: ANN001
    from copilot.suggestions.service import corpora

    api.ingest("warm-co", [
        make_record(customer={"email": "ada@warm.example"}, thread_id="w1", text="My kettle will not switch on."),
        make_record(customer={"email": "ada@warm.example"}, thread_id="w1", direction="outbound",
                    author_role="agent", author_name="Lou", text="Hold the switch for five seconds to reset it.",
                    occurred_at="2026-11-02T14:09:00Z"),
    ])
    services = api.client.app.state.services
    registry = corpora(services)
    deadline = time.monotonic() + HUNG_RUN_S  # the warmer runs every 2 s; this only bounds a hung run
    while time.monotonic() < deadline:
        corpus = registry.get("warm-co")
        with corpus.lock:
            if corpus.loaded and any("five seconds" in e.reply_text for e in corpus.exchanges.values()):
                break
        time.sleep(0.2)
    else:
        raise AssertionError("the tenant's corpus was not loaded in the background")
