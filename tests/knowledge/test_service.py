"""Knowledge articles: parsing each format, chunking, and search through the real index."""
from __future__ import annotations

import json

import pytest

from copilot.knowledge.service import KnowledgeError, chunk_text, parse_article_file

MARKDOWN = b"""# Returns and RMA process

Items can be returned within 30 days of delivery. Start a return in the order page.

## Damaged items

If an item arrived damaged, we send a prepaid label and an RMA number within one business day.
"""


def test_markdown_title_is_the_first_heading() -> None:
    [article] = parse_article_file("returns.md", MARKDOWN)
    assert article.title == "Returns and RMA process" and "prepaid label" in article.body


def test_html_text_is_extracted_without_scripts() -> None:
    html = b"<html><head><title>Refund timelines</title><script>var x=1;</script></head>" \
           b"<body><h1>Refund timelines</h1><p>Cards: 5-10 business days.</p><p>PayPal: 3 days.</p></body></html>"
    [article] = parse_article_file("refunds.html", html)
    assert article.title == "Refund timelines"
    assert "5-10 business days" in article.body and "var x" not in article.body


def test_json_articles_and_their_errors_name_the_record() -> None:
    data = json.dumps([{"id": "a1", "title": "Lost packages", "body": "File a claim after 48 hours."},
                       {"title": "Empty"}]).encode()
    with pytest.raises(KnowledgeError, match=r"\[1\]\.body"):
        list(parse_article_file("kb.json", data))
    [article] = parse_article_file("kb.json", json.dumps({"articles": [{"id": "a1", "content": "x y"}]}).encode())
    assert article.key == "kb.json#a1"


def test_plain_text_and_bad_encoding() -> None:
    [article] = parse_article_file("porting.txt", b"Number porting\n\nPorts finish in 24-48 hours.")
    assert article.title == "Number porting"
    with pytest.raises(KnowledgeError, match="UTF-8"):
        list(parse_article_file("bad.txt", b"\xff\xfe\x00bad"))


def test_chunks_follow_paragraphs_and_keep_headings_with_their_text() -> None:
    body = "\n\n".join(["# Title"] + [f"Paragraph {n} " + "word " * 60 for n in range(6)])
    chunks = chunk_text(body, words=130)
    assert len(chunks) >= 3
    assert chunks[0].startswith("# Title\n\nParagraph 0")
    assert all(len(c.split()) <= 200 for c in chunks)
    assert "".join(chunks).count("Paragraph") == 6


def test_api_import_and_search_stays_in_the_tenant(api) -> None:  # noqa: ANN001
    body = {"articles": [{"title": "Lost or stolen packages", "body": "If a parcel shows delivered but is missing, "
                          "check with neighbours, then we reship or refund after a 48 hour search."}]}
    resp = api.client.post("/v1/knowledge", json=body, headers=api.auth("acme", "admin"))
    assert resp.status_code == 200 and resp.json() == {"imported": 1}
    assert api.client.post("/v1/knowledge", json=body, headers=api.auth("acme", "agent")).status_code == 403
    resp = api.client.post("/v1/knowledge", json={"articles": [{"title": "x"}]}, headers=api.auth("acme", "admin"))
    assert resp.status_code == 422 and "body" in resp.json()["error"]["message"]

    from copilot.knowledge.service import search

    services = api.client.app.state.services
    vector = services.indexer.embedder.embed(["my parcel says delivered but it is missing"])[0]
    hits = search(services.indexer.store, tenant_id="acme", embedding=vector, max_distance=10)
    assert hits and hits[0].title == "Lost or stolen packages"
    assert search(services.indexer.store, tenant_id="globex", embedding=vector, max_distance=10) == []


def test_front_matter_and_json_audience_and_bad_audience() -> None:
    md = b"---\naudience: internal\nurl: https://wiki.example.net/escalations\n---\n# Escalations\n\nCall the lead."
    [article] = parse_article_file("escalations.md", md)
    assert article.audience == "internal" and article.url == "https://wiki.example.net/escalations"
    assert article.title == "Escalations" and "audience" not in article.body
    data = json.dumps([{"id": "g1", "title": "Gift cards", "body": "Gift cards never expire.", "audience": "public"},
                       {"id": "g2", "title": "Fraud", "body": "Check the ledger first."}]).encode()
    public, default = parse_article_file("kb.json", data, audience="internal")
    assert public.audience == "public" and default.audience == "internal"
    with pytest.raises(KnowledgeError, match="audience"):
        list(parse_article_file("kb.json", json.dumps([{"body": "x", "audience": "staff"}]).encode()))


def test_api_audience_is_stored_indexed_and_returned_by_search(api) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from copilot.knowledge.models import Article
    from copilot.knowledge.service import search

    body = {"articles": [
        {"key": "gc-public", "title": "Gift card balance", "url": "https://help.example.net/gift-cards",
         "body": "You can check a gift card balance on the receipt or at any till."},
        {"key": "gc-internal", "title": "Gift card fraud checks", "audience": "internal",
         "body": "Before reissuing a gift card balance, check the ledger for duplicate activations."}]}
    headers = api.auth("acme", "admin")
    assert api.client.post("/v1/knowledge", json=body, headers=headers).json() == {"imported": 2}
    bad = {"articles": [{"title": "x", "body": "y", "audience": "staff"}]}
    assert api.client.post("/v1/knowledge", json=bad, headers=headers).status_code == 422

    services = api.client.app.state.services
    with services.db.session() as session:
        stored = {a.key: a.audience for a in session.scalars(select(Article).where(Article.tenant_id == "acme"))}
    assert stored == {"gc-public": "public", "gc-internal": "internal"}
    vector = services.indexer.embedder.embed(["what is my gift card balance"])[0]
    hits = {h.title: h for h in search(services.indexer.store, tenant_id="acme", embedding=vector, max_distance=10)}
    assert hits["Gift card balance"].audience == "public"
    assert hits["Gift card balance"].url == "https://help.example.net/gift-cards"
    assert hits["Gift card fraud checks"].audience == "internal" and hits["Gift card fraud checks"].url is None
