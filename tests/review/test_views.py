"""Supervisor review API: outcomes, filters, stats, CSV, merges and splits; supervisors only."""
from __future__ import annotations

import csv
import io

import pytest

from copilot.review.service import levenshtein, safe_cell, word_diff
from tests.conftest import make_record


@pytest.fixture
def shown(api) -> dict:  # noqa: ANN001
    """Two customers, suggestions for each, and feedback of every kind."""
    # Earlier customers' questions with the agents' answers: the past replies the suggestions draw on.
    earlier = [make_record(customer={"email": f"earlier{n}@example.org"}, thread_id=f"t-{n}", direction=direction,
                           text=text, occurred_at=f"2026-10-0{n + 1}T{hour}:00:00Z")
               for n, question in enumerate(["Any news on my order? It never arrived.",
                                             "My order never arrived, any news?"])
               for direction, text, hour in (("inbound", question, "09"),
                                             ("outbound", "Sorry about the wait! The carrier is tracing the parcel "
                                                          "and we will update you within 24 hours.", "10"))]
    api.ingest("acme", earlier + [
        make_record(text="My order A-10293 never arrived.", occurred_at="2026-11-02T14:03:00Z"),
        make_record(customer={"name": "Omar", "phone": "(415) 555-0199"}, channel="sms",
                    text="Booking B-55555 charged twice", occurred_at="2026-11-03T10:00:00Z")])
    dana = api.resolve("acme", "email:dana@example.com")["customer_id"]
    omar = api.resolve("acme", "phone:+14155550199")["customer_id"]
    ids = {}
    for name, customer, channel in (("dana", dana, "email"), ("omar", omar, "sms")):
        resp = api.client.post(f"/v1/customers/{customer}/suggestions",
                               json={"message": "any news?", "channel": channel}, headers=api.auth("acme", "agent"))
        assert resp.status_code == 200, resp.text
        ids[name] = [s["id"] for s in resp.json()["suggestions"]]
    assert len(ids["dana"]) >= 2 and ids["omar"]
    feedback = [(ids["dana"][0], {"action": "accepted"}), (ids["dana"][1], {"action": "edited",
                                                                            "final_text": "Totally new text."}),
                (ids["omar"][0], {"action": "rejected"})]
    for sid, body in feedback:
        assert api.client.post(f"/v1/suggestions/{sid}/feedback", json=body,
                               headers=api.auth("acme", "agent")).status_code == 200
    return {"ids": ids, "dana": dana, "omar": omar}


def get(api, path: str, role: str = "supervisor", tenant: str = "acme", **params):  # noqa: ANN001, ANN201
    return api.client.get(path, params=params, headers=api.auth(tenant, role))


def test_agents_are_refused(api, shown) -> None:  # noqa: ANN001
    for path in ("/v1/review/suggestions", "/v1/review/stats", "/v1/review/suggestions.csv", "/v1/review/merges"):
        resp = get(api, path, role="agent")
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "forbidden"


def test_outcomes_and_filters(api, shown) -> None:  # noqa: ANN001
    page = get(api, "/v1/review/suggestions").json()
    by_id = {i["id"]: i for i in page["items"]}
    ids = shown["ids"]
    assert by_id[ids["dana"][0]]["outcome"] == "accepted"
    edited = by_id[ids["dana"][1]]
    assert edited["outcome"] == "edited" and edited["final_text"] == "Totally new text."
    assert edited["edit_distance"] == levenshtein(edited["text"], "Totally new text.") > 0
    assert any(op["op"] == "insert" for op in edited["diff"])
    assert by_id[ids["omar"][0]]["outcome"] == "rejected"
    assert all(by_id[i]["outcome"] == "ignored" for i in ids["omar"][1:] + ids["dana"][2:])
    assert page["total"] == len(ids["dana"]) + len(ids["omar"]) and page["agents"] == ["agent"]
    assert {i["id"] for i in get(api, "/v1/review/suggestions", channel="sms").json()["items"]} == set(ids["omar"])
    assert [i["id"] for i in get(api, "/v1/review/suggestions", outcome="edited").json()["items"]] == [ids["dana"][1]]
    assert get(api, "/v1/review/suggestions", agent="nobody").json()["total"] == 0
    assert get(api, "/v1/review/suggestions", engine="offline").json()["total"] == page["total"]
    assert get(api, "/v1/review/suggestions", since="2000-01-01", until="2000-01-02").json()["total"] == 0
    assert get(api, "/v1/review/suggestions", since="yesterday").status_code == 400
    # Another tenant's supervisor sees none of it.
    assert get(api, "/v1/review/suggestions", tenant="globex").json()["total"] == 0


def test_stats_per_day(api, shown) -> None:  # noqa: ANN001
    stats = get(api, "/v1/review/stats").json()
    total = stats["totals"]
    shown_count = len(shown["ids"]["dana"]) + len(shown["ids"]["omar"])
    assert total["shown"] == shown_count and total["accepted"] == 1 and total["edited"] == 1
    assert total["rejected"] == 1 and total["ignored"] == shown_count - 3
    assert total["acceptance_rate"] == round(1 / shown_count, 4)
    assert len(stats["days"]) == 1 and stats["days"][0]["shown"] == shown_count
    assert total["first_suggestion_count"] == 2 and total["first_suggestion_p50_s"] >= 0
    assert {b["key"] for b in stats["by_channel"]} == {"email", "sms"}


def test_csv_export(api, shown) -> None:  # noqa: ANN001
    resp = get(api, "/v1/review/suggestions.csv")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert {r["outcome"] for r in rows} == {"accepted", "edited", "rejected", "ignored"}
    assert next(r for r in rows if r["outcome"] == "edited")["final_text"] == "Totally new text."


def test_merge_split_and_audit_trail(api, shown) -> None:  # noqa: ANN001
    headers = api.auth("acme", "supervisor")
    resp = api.client.post("/v1/review/merges", json={"survivor": "email:dana@example.com",
                                                      "absorbed": shown["omar"], "reason": "same person"},
                           headers=headers)
    assert resp.status_code == 201, resp.text
    merge = resp.json()
    assert merge["absorbed_name"] == "Omar" and merge["actor"] == "key:supervisor" and merge["interactions_moved"] == 1
    assert api.resolve("acme", "phone:+14155550199")["customer_id"] == shown["dana"]
    again = api.client.post("/v1/review/merges", json={"survivor": shown["dana"], "absorbed": shown["omar"]},
                            headers=headers)
    assert again.status_code == 409
    assert api.client.post("/v1/review/merges", json={"survivor": shown["dana"], "absorbed": shown["omar"]},
                           headers=api.auth("acme", "agent")).status_code == 403
    undone = api.client.post(f"/v1/review/merges/{merge['id']}/undo", headers=headers)
    assert undone.status_code == 200 and undone.json()["undone_at"] and undone.json()["undone_by"].startswith("key:")
    assert api.resolve("acme", "phone:+14155550199")["customer_id"] == shown["omar"]
    trail = get(api, "/v1/review/merges").json()["merges"]
    assert [m["id"] for m in trail] == [merge["id"]] and trail[0]["undone_at"]
    assert api.client.post(f"/v1/review/merges/{merge['id']}/undo", headers=headers).status_code == 409
    assert get(api, "/v1/review/merges", tenant="globex").json()["merges"] == []


def test_stats_follow_every_filter_and_break_down_by_prompt_version(api, shown) -> None:  # noqa: ANN001
    edited = get(api, "/v1/review/stats", outcome="edited").json()
    assert edited["totals"]["shown"] == 1 and edited["totals"]["edited"] == 1 and edited["totals"]["edit_rate"] == 1
    assert get(api, "/v1/review/stats", outcome="ignored").json()["totals"]["accepted"] == 0
    assert get(api, "/v1/review/stats", outcome="nonsense").status_code == 400
    every = get(api, "/v1/review/stats").json()
    assert sum(b["shown"] for b in every["by_prompt_version"]) == every["totals"]["shown"]


def test_rows_carry_an_identity_to_open_the_customer(api, shown) -> None:  # noqa: ANN001
    items = get(api, "/v1/review/suggestions").json()["items"]
    dana = {i["customer_identity"] for i in items if i["customer_id"] == shown["dana"]}
    assert dana == {"email:dana@example.com"}
    assert all(i["answers_interaction_id"] for i in items)


def test_merge_preview_changes_nothing(api, shown) -> None:  # noqa: ANN001
    resp = get(api, "/v1/review/merges/preview", survivor="email:dana@example.com", absorbed="phone:(415) 555-0199")
    assert resp.status_code == 200, resp.text
    preview = resp.json()
    assert preview["survivor"]["name"] == "Dana Okonkwo" and preview["absorbed"]["name"] == "Omar"
    assert "email:dana@example.com" in preview["survivor"]["identities"]
    assert preview["joining"] == ["phone:+14155550199"] and not preview["same_customer"]
    assert preview["interactions_moving"] == preview["absorbed"]["interactions"] == 1
    assert preview["absorbed"]["channels"] == ["sms"]
    assert api.resolve("acme", "phone:+14155550199")["customer_id"] == shown["omar"]  # nothing moved
    same = get(api, "/v1/review/merges/preview", survivor=shown["dana"], absorbed="email:dana@example.com").json()
    assert same["same_customer"] and same["joining"] == [] and same["interactions_moving"] == 0
    assert get(api, "/v1/review/merges/preview", survivor="email:nobody@example.com",
               absorbed=shown["omar"]).status_code == 404
    assert get(api, "/v1/review/merges/preview", role="agent", survivor=shown["dana"],
               absorbed=shown["omar"]).status_code == 403


def test_helpers() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("same", "same") == 0
    assert [(o.op, o.text) for o in word_diff("I will call you", "I will email you")] == [
        ("equal", "I will "), ("delete", "call"), ("insert", "email"), ("equal", " you")]
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and safe_cell("fine") == "fine"
