"""The retrieval stage alone: BM25, agreement rerank, link ranking, the corpus, and adapting a past reply."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from copilot.engine.offline.adapt import adapt_reply, canonical_link
from copilot.engine.offline.bm25 import BM25Index, tokens
from copilot.engine.offline.retrieve import (
    Candidate,
    Exchange,
    TenantCorpus,
    _Row,
    _substantial,
    exchanges_of,
    lcs_f1,
    rank_links,
    rerank,
)
from copilot.engine.schemas import Fact

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def never_shared(token: str) -> bool:
    return False


def test_bm25_ranks_shared_rare_words_first_and_follows_additions_and_removals() -> None:
    index = BM25Index()
    index.add("a", "The kettle base sparks when I switch it on")
    index.add("b", "I want to change my delivery address")
    index.add("c", "My kettle is noisy")
    found = index.search("kettle sparks", limit=3)
    assert [key for key, _ in found][:2] == ["a", "c"]
    assert index.search("kettle sparks", keep=lambda k: k != "a")[0][0] == "c"
    index.remove("a")
    assert "a" not in index and [k for k, _ in index.search("sparks")] == []
    assert tokens("Orders @someone https://x.example/p") == ["order"]


def _plain_bm25(docs: dict[str, str], query: str, k1: float = 1.2, b: float = 0.75) -> dict[str, float]:
    """Okapi BM25 written out document by document, to check the index's arrays against."""
    import math
    from collections import Counter

    counted = {key: Counter(tokens(text)) for key, text in docs.items()}
    average = sum(sum(c.values()) for c in counted.values()) / len(counted)
    scores: dict[str, float] = {}
    for term, qtf in Counter(tokens(query)).items():
        df = sum(1 for c in counted.values() if term in c)
        idf = math.log(1.0 + (len(counted) - df + 0.5) / (df + 0.5))
        for key, c in counted.items():
            if term in c:
                norm = k1 * (1.0 - b + b * sum(c.values()) / average)
                scores[key] = scores.get(key, 0.0) + idf * qtf * c[term] * (k1 + 1.0) / (c[term] + norm)
    return scores


def test_bm25_scores_are_exact_through_replacements_removals_and_renumbering(monkeypatch) -> None:  # noqa: ANN001
    from copilot.engine.offline import bm25

    monkeypatch.setattr(bm25, "_RENUMBER_SLACK", 3)  # renumber often: slots must keep pointing at their documents
    index = BM25Index()
    docs: dict[str, str] = {}
    words = ["my", "order", "kettle", "sparks", "refund", "late", "parcel", "lid"]
    for n in range(300):
        key = f"d{n % 70}"  # keys come back: a replaced document must count once
        text = " ".join(words[(n * j) % len(words)] for j in range(1, 2 + n % 5))
        index.add(key, text)
        docs[key] = text
        if n % 7 == 3:
            gone = f"d{(n * 3) % 70}"
            index.remove(gone)
            docs.pop(gone, None)
    assert len(index) == len(docs)
    for query in ("my order", "kettle sparks lid", "late late parcel refund", "nothing matches"):
        expected = _plain_bm25(docs, query)
        found = index.search(query, limit=len(docs))
        assert dict(found) == pytest.approx(expected)
        assert [score for _, score in found] == pytest.approx(sorted(expected.values(), reverse=True))
        assert index.search(query, limit=5, keep=lambda k: k != "d1") == [p for p in found if p[0] != "d1"][:5]


def test_lcs_f1_is_the_f_measure_of_the_longest_common_subsequence() -> None:
    assert lcs_f1(["a", "b", "c", "d"], ["a", "b", "c", "d"]) == 1.0
    assert lcs_f1(["a", "b", "c", "d"], ["x", "y"]) == 0.0
    assert abs(lcs_f1(["a", "x", "b", "y"], ["a", "b"]) - 2 * 0.5 * 1.0 / 1.5) < 1e-9


def exchange(key: str, reply: str, customer: str = "c1", links: tuple[str, ...] = ()) -> Exchange:
    return Exchange(key=key, customer_id=customer, asked_ids=(f"q-{key}",), asked_text="q", reply_text=reply,
                    occurred_at=T0, links=links)


def test_agreement_puts_the_typical_reply_first_even_when_an_outlier_matched_the_words_better() -> None:
    typical = "Please send us a private message with your device model and we will look into the noise"
    candidates = [
        Candidate(exchange("outlier", "Our store on the high street opens at nine on weekdays"), 0.62, 0.9),
        Candidate(exchange("t1", typical), 0.6, 0.5),
        Candidate(exchange("t2", typical.replace("look into", "check")), 0.58, 0.4),
        Candidate(exchange("t3", typical.replace("the noise", "it for you")), 0.57, 0.4),
    ]
    ranked = rerank(candidates, 3)
    assert ranked[0].exchange.key in {"t1", "t2", "t3"}
    assert ranked[0].agreement > next(c for c in ranked if c.exchange.key == "outlier").agreement


def test_links_are_ranked_by_use_in_similar_conversations_with_the_tenants_favourites_as_prior() -> None:
    corpus = TenantCorpus("umbra")
    rows: list[_Row] = []
    for n in range(6):  # the page agents link most, to unrelated questions
        rows += [_Row(f"q{n}", f"c{n}", f"t{n}", "customer", "How do I log in?", T0),
                 _Row(f"r{n}", f"c{n}", f"t{n}", "agent", "See https://help.umbra.example/login", T0)]
    rows += [_Row("qx", "cx", "tx", "customer", "My kettle sparks", T0),
             _Row("rx", "cx", "tx", "agent", "Stop using it: https://help.umbra.example/safety/?src=tw", T0)]
    corpus._apply(rows, customers=None)
    similar = [Candidate(corpus.exchanges["rx"], relevance=0.8)]
    assert rank_links(corpus, similar)[:2] == ["https://help.umbra.example/safety/?src=tw",
                                              "https://help.umbra.example/login"]
    assert rank_links(corpus, []) == ["https://help.umbra.example/login", "https://help.umbra.example/safety/?src=tw"]
    assert canonical_link("https://web.archive.org/web/2020/https://www.help.umbra.example/Login/?a=1") == \
        "help.umbra.example/login"


def test_exchanges_pair_a_run_of_customer_messages_with_the_next_agent_reply_per_thread() -> None:
    rows = [_Row("m1", "c", "t", "customer", "Hello", T0),
            _Row("m2", "c", "t", "customer", "My router blinks red", T0 + timedelta(minutes=1)),
            # logged in the same second as the question it answers
            _Row("a1", "c", "t", "agent", "Let's restart it together.", T0 + timedelta(minutes=1)),
            _Row("m3", "c", "other", "customer", "Unrelated thread", T0 + timedelta(minutes=2)),
            _Row("a2", "c", "t", "agent", "Did that help?", T0 + timedelta(minutes=3))]
    found = exchanges_of(rows)
    assert [(e.key, e.asked_ids) for e in found] == [("a1", ("m1", "m2"))]
    assert found[0].asked_text == "Hello My router blinks red"


def test_an_internal_note_is_neither_a_reply_to_offer_nor_where_the_conversation_stood() -> None:
    rows = [_Row("m1", "c", "t", "customer", "My router blinks red", T0),
            _Row("n1", "c", "t", "agent", "Note: this customer threatened to cancel", T0 + timedelta(minutes=1),
                 "internal"),
            _Row("a1", "c", "t", "agent", "Let's restart it together.", T0 + timedelta(minutes=2), "outbound"),
            _Row("m2", "c", "t", "customer", "Done", T0 + timedelta(minutes=3)),
            _Row("n2", "c", "t", "agent", "Note: escalate if it fails again", T0 + timedelta(minutes=4), "internal"),
            _Row("a2", "c", "t", "agent", "Is the light green now?", T0 + timedelta(minutes=5), "outbound")]
    found = exchanges_of(rows)
    assert [(e.key, e.asked_ids, e.previous_reply) for e in found] == [
        ("a1", ("m1",), None), ("a2", ("m2",), "Let's restart it together.")]


def test_corpus_follows_a_customer_reloaded_and_knows_the_companys_words() -> None:
    corpus = TenantCorpus("umbra")
    corpus._apply([_Row("q1", "c1", "t", "customer", "Umbra kettle sparks", T0),
                   _Row("a1", "c1", "t", "agent", "Sorry Ilse, unplug the Umbra kettle.", T0)], customers=None)
    corpus._apply([_Row("q2", "c2", "t2", "customer", "Umbra lid is stuck", T0)], customers={"c2"})
    assert corpus.is_shared("umbra") and not corpus.is_shared("ilse")
    corpus._apply([], customers={"c1"})  # c1 merged away: its exchanges leave the corpus
    assert not corpus.exchanges and not corpus.is_shared("umbra")


def test_the_corpus_counts_each_record_once_however_often_a_customer_is_reloaded() -> None:
    # The count is compared with SQL's now and then, and a mismatch reloads the whole tenant.
    corpus = TenantCorpus("umbra")
    first = [_Row("q1", "c1", "t", "customer", "Umbra kettle sparks", T0),
             _Row("a1", "c1", "t", "agent", "Unplug the kettle.", T0)]
    corpus._apply(first, customers={"c1"})
    corpus._apply(first, customers={"c1"})
    corpus._apply([*first, _Row("q2", "c1", "t", "customer", "Done", T0)], customers={"c1"})
    corpus._apply([_Row("q3", "c2", "t2", "customer", "Lid stuck", T0)], customers={"c2"})
    assert corpus.row_count == 4


def test_another_customers_name_handle_ids_and_sign_off_go_and_this_customers_values_come_in() -> None:
    reply = ("@ilse_k Hi Ilse, sorry about the sparks! Your order ZT-44810 is flagged for a swap. "
             "I've opened ticket KV-30517 for it. A courier brings the new kettle. Write to ilse@mail.example. ^KB")
    facts = [Fact(kind="order_id", value="QP-20931", interaction_id="i1", channel="email", occurred_at=T0)]
    text = adapt_reply(reply, owner_names=["Ilse Kovacs", "ilse_k"], is_shared=never_shared, facts=facts,
                       customer_name="Bram Oduya")
    assert text == ("Hi Bram, sorry about the sparks! Your order QP-20931 is flagged for a swap. "
                    "A courier brings the new kettle.")
    anonymous = adapt_reply("Thanks for waiting, Ilse. We are on it.", owner_names=["Ilse Kovacs"],
                            is_shared=never_shared)
    assert anonymous == "Thanks for waiting. We are on it."


def test_a_statement_about_another_customer_is_dropped_and_the_companys_words_stay() -> None:
    shared = {"umbra", "link:help.umbra.example/safety"}
    reply = ("I spoke with Ilse about it yesterday. The charge from QUIKMART was $41.20. "
             "Umbra's safety page explains it: https://help.umbra.example/safety")
    text = adapt_reply(reply, owner_names=["Ilse Kovacs"], is_shared=lambda t: t in shared)
    assert text == "Umbra's safety page explains it: https://help.umbra.example/safety"
    assert adapt_reply("We will check. /RK", owner_names=[], is_shared=never_shared) == "We will check."


def test_a_name_the_reply_was_addressed_with_goes_even_when_no_record_names_that_customer() -> None:
    # Social channels often give no name: "Hi Odile," is still the other customer's name, not the sentence's point.
    opened = adapt_reply("Hi Odile, I am sorry the blender stopped. Can you tell us the model?", owner_names=[],
                         is_shared=never_shared)
    assert opened == "Hi, I am sorry the blender stopped. Can you tell us the model?"
    named = adapt_reply("Hey Odile! Can you tell us the model?", owner_names=[], is_shared=never_shared,
                        customer_name="Tuomas Berg")
    assert named == "Hey Tuomas! Can you tell us the model?"
    closing = adapt_reply("Sorry to hear that, Odile! We will look into it.", owner_names=[],
                          is_shared=never_shared)
    assert closing == "Sorry to hear that! We will look into it."
    # A name inside a statement still takes its sentence with it.
    assert adapt_reply("Hi Odile, I spoke with Marek today.", owner_names=[], is_shared=never_shared) == ""


def test_a_reply_cut_down_to_its_courtesy_words_is_not_offered() -> None:
    original = "Hi Odile, please DM us the serial of the blender and the shop you bought it from. Kind regards"
    assert not _substantial("Kind regards", original)
    assert _substantial("Kind regards", "Kind regards")
    assert _substantial("Please DM us the serial of the blender.", original)
    assert not _substantial("Ok", "Ok")


def test_replies_vote_with_the_words_this_customer_would_read() -> None:
    # Raw, two replies agree only on their first customers' names and ids; adapted, they say different things.
    a = Candidate(exchange("a", "Dear Odile Brannoc, ticket KX-88120 for Odile Brannoc: we replaced it"), 0.6, 0.5)
    b = Candidate(exchange("b", "Dear Odile Brannoc, ticket KX-88120 for Odile Brannoc: shop is shut"), 0.6, 0.5)
    a.text, b.text = "We replaced it", "Shop is shut"
    rerank([a, b], 2)
    assert a.agreement == 0.0 and b.agreement == 0.0


def test_vectors_missing_from_the_index_are_embedded_within_a_budget_and_kept(tmp_path) -> None:  # noqa: ANN001
    from copilot.engine.offline import retrieve
    from copilot.indexing.embeddings import HashingEmbedder
    from copilot.indexing.vectorstore import VectorStore

    class Counting(HashingEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.embedded: list[str] = []

        def embed(self, texts: list[str]) -> list[list[float]]:
            self.embedded += texts
            return super().embed(texts)

    embedder = Counting()
    store = VectorStore(embedder=embedder, path=tmp_path / "chroma", url=None)
    long = retrieve.EMBED_BUDGET_CHARS // 2 + 1
    texts = {f"i{n}": f"{n} " + "x" * long for n in range(5)}  # not in the index: nothing indexed yet
    first = retrieve._vectors(store, embedder, tenant_id="budget-co", texts=texts)
    assert sorted(first) == ["i0", "i1"]  # the budget runs out on the second text: the best ones first
    second = retrieve._vectors(store, embedder, tenant_id="budget-co", texts=texts)
    assert sorted(second) == ["i0", "i1", "i2", "i3"]  # the first two were kept, two more embedded
    assert embedder.embedded == [texts[k] for k in ("i0", "i1", "i2", "i3")]
    assert list(second["i0"]) == pytest.approx(HashingEmbedder().embed([texts["i0"]])[0], abs=1e-6)
