"""Suggest stage, retrieval (DESIGN §3): the tenant's own past agent replies to similar customer messages.

Candidates come from two searches together: BM25 over the tenant's past customer messages (in memory, kept in
step with ingest, so records the vector index has not reached yet are found too) and MiniLM similarity through
the tenant's Chroma collection. The top candidates are then reranked by agreement: a reply that resembles
many of the other candidates' replies is what agents typically answer to such a message, while an outlier is
usually answering something else that happened in that conversation. Each chosen reply is adapted to this
customer (`adapt.py`) and returned as a ranked `past_reply` snippet; help-document links are ranked by how
often the agents of the most similar past conversations used them, with the tenant's most used ones as prior.

Dependencies are passed in, typed: a SQL session, the vector store, the embedder and the tenant's corpus.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from array import array
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from copilot.engine.offline.adapt import LINK, WORD, adapt_reply, canonical_link, display_link, vocabulary_tokens
from copilot.engine.offline.bm25 import BM25Index, tokens
from copilot.engine.schemas import Fact, Snippet
from copilot.indexing.embeddings import Embedder
from copilot.indexing.vectorstore import VectorStore

log = logging.getLogger(__name__)

VECTOR_CANDIDATES = 60  # nearest neighbours asked of the index (customer and agent records alike)
LEXICAL_CANDIDATES = 30
RERANK_POOL = 30  # candidates whose replies vote for each other (agreement among the top candidates)
# Vectors the index does not have yet (records waiting to be indexed) are embedded per request, within a
# budget: embedding is most of a request's cost (a fresh history's first requests took 1 s each on 24 texts),
# so a request embeds at most this many characters, the best lexical candidates first, and remembers them.
EMBED_BUDGET_CHARS = 1_500
ON_THE_FLY_KEPT = 4_096  # vectors embedded per request kept in the process (LRU), until the index has them
PAST_REPLIES = 5  # snippets returned; the composer keeps what fits
# An adapted reply shorter than this many words must have kept this share of the original's words.
SHORT_REPLY_WORDS, KEPT_SHARE = 4, 0.5
# Relevance of a candidate to the message: the cosine of the two customer messages, and BM25 scaled to 0..1.
W_QUERY, W_LEXICAL = 0.5, 0.2
# How alike the agent replies before the two messages are: where the conversation stands picks the answer
# as much as the words do ("done" after "please DM us" is answered unlike "done" after "try a restart").
W_STAGE = 0.1
TEMPERATURE = 0.3  # how sharply relevance weighs a candidate's vote in the agreement
SELF_WEIGHT = 1.0  # a candidate's own relevance next to the votes it gets
LINK_NEIGHBOURS = 12  # most similar past conversations whose links vote
LINKS = 3
LINK_PRIOR = 0.5  # weight of the tenant-wide frequency next to the votes of similar conversations
MAX_EXCHANGES = 200_000  # the newest exchanges of a tenant kept for lexical search; vectors reach the rest
REVERIFY_S = 30.0  # how often a corpus checks SQL for records that arrived without an event


@dataclass
class Exchange:
    """A customer's message (or run of messages) and the agent reply that followed, in one thread."""

    key: str  # the agent reply's interaction id
    customer_id: str
    asked_ids: tuple[str, ...]
    asked_text: str
    reply_text: str
    occurred_at: datetime
    links: tuple[str, ...] = ()  # canonical keys of the help pages the reply linked
    previous_reply: str | None = None  # the text of the agent's reply before this exchange in the thread, if any


@dataclass
class _Row:
    id: str
    customer_id: str
    thread_id: str | None
    author_role: str
    text: str
    occurred_at: datetime
    direction: str = ""  # "internal": a note, left out of the exchanges


def exchanges_of(rows: Iterable[_Row]) -> list[Exchange]:
    """Pair each run of customer messages with the first agent reply after it, thread by thread."""
    threads: dict[tuple[str, str], list[_Row]] = {}
    for row in rows:
        if row.direction == "internal":
            continue  # a note for colleagues: never a reply to offer another customer, nor what one was told
        threads.setdefault((row.customer_id, row.thread_id or ""), []).append(row)
    out: list[Exchange] = []
    for (customer_id, _), thread in threads.items():
        # On a tie the customer's message comes first: a reply logged in the same second answers it.
        thread.sort(key=lambda r: (r.occurred_at, r.author_role != "customer"))
        asked: list[_Row] = []
        previous: _Row | None = None
        for row in thread:
            if row.author_role == "customer":
                asked.append(row)
            elif row.author_role == "agent" and asked:
                links = tuple(dict.fromkeys(canonical_link(u) for u in LINK.findall(row.text)))
                out.append(Exchange(key=row.id, customer_id=customer_id, asked_ids=tuple(a.id for a in asked),
                                    asked_text=" ".join(a.text for a in asked[-3:]), reply_text=row.text,
                                    occurred_at=row.occurred_at, links=links,
                                    previous_reply=previous.text if previous else None))
                asked = []
            if row.author_role == "agent":
                previous = row
    return out


class TenantCorpus:
    """One tenant's exchanges in memory: the BM25 index, which tokens are the company's (used with two
    customers or more), and how often each help page was linked. Updated per customer as records arrive."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.lock = threading.RLock()
        self._dirty: set[str] = set()
        self._reset()

    def _reset(self) -> None:
        self.exchanges: dict[str, Exchange] = {}
        self.by_asked: dict[str, str] = {}
        self.by_customer: dict[str, set[str]] = {}
        self.bm25 = BM25Index()
        self._tokens_of: dict[str, set[str]] = {}
        self._customers_with: Counter[str] = Counter()
        self.link_uses: Counter[str] = Counter()
        self.link_display: dict[str, Counter[str]] = {}
        self._rows_of: dict[str, int] = {}
        self.row_count = 0
        self.loaded = False
        self.verified_at = 0.0

    # -- freshness ---------------------------------------------------------------------------------------
    def mark_dirty(self, customer_id: str) -> None:
        with self.lock:
            self._dirty.add(customer_id)

    def refresh(self, session: Session, *, verify: bool = True) -> None:
        """Load on first use; then re-read only the customers whose records changed (ingest events), and
        now and then (`verify`) count the tenant's records to catch what arrived without an event (another
        process). Requests leave the counting to the background warmer: at 100k records a tenant it is a scan."""
        from copilot.interactions.models import Interaction

        with self.lock:
            if not self.loaded:
                self._load_all(session)
                return
            dirty, self._dirty = self._dirty, set()
            if dirty:
                self._reload_customers(session, dirty)
            if verify and time.monotonic() - self.verified_at > REVERIFY_S:
                count = session.scalar(select(func.count()).select_from(Interaction)
                                       .where(Interaction.tenant_id == self.tenant_id)) or 0
                self.verified_at = time.monotonic()
                if count != self.row_count:
                    self._load_all(session)

    def _select(self, session: Session, customer_ids: Sequence[str] | None = None) -> list[_Row]:
        from copilot.interactions.models import Interaction

        query = select(Interaction.id, Interaction.customer_id, Interaction.thread_id, Interaction.author_role,
                       Interaction.text, Interaction.occurred_at, Interaction.direction
                       ).where(Interaction.tenant_id == self.tenant_id)
        if customer_ids is not None:
            query = query.where(Interaction.customer_id.in_(list(customer_ids)))
        else:
            query = query.order_by(Interaction.occurred_at.desc()).limit(2 * MAX_EXCHANGES)
        return [_Row(*row) for row in session.execute(query)]

    def _load_all(self, session: Session) -> None:
        from copilot.interactions.models import Interaction

        self._reset()
        self._dirty.clear()  # everything is read now
        self.row_count = session.scalar(select(func.count()).select_from(Interaction)
                                        .where(Interaction.tenant_id == self.tenant_id)) or 0
        self._apply(self._select(session), customers=None)
        self.loaded = True
        self.verified_at = time.monotonic()

    def _reload_customers(self, session: Session, customer_ids: set[str]) -> None:
        rows = self._select(session, sorted(customer_ids))
        self._apply(rows, customers=customer_ids)

    def _apply(self, rows: list[_Row], *, customers: set[str] | None) -> None:
        by_customer: dict[str, list[_Row]] = {}
        for row in rows:
            by_customer.setdefault(row.customer_id, []).append(row)
        had = {customer_id: self._rows_of.get(customer_id, 0) for customer_id in customers or ()}
        for customer_id in customers or ():
            self._forget(customer_id)
            by_customer.setdefault(customer_id, [])
        arrived: list[Exchange] = []
        for customer_id, own in by_customer.items():
            if customers is not None:
                self.row_count += len(own) - had.get(customer_id, 0)
            self._rows_of[customer_id] = len(own)
            tokens: set[str] = set()
            for row in own:
                tokens |= vocabulary_tokens(row.text)
            self._tokens_of[customer_id] = tokens
            self._customers_with.update(tokens)
            arrived += exchanges_of(own)
        # Oldest first: BM25 breaks ties in the order documents were added.
        for exchange in sorted(arrived, key=lambda e: e.occurred_at):
            self._add(exchange)

    def _forget(self, customer_id: str) -> None:
        for key in self.by_customer.pop(customer_id, set()):
            exchange = self.exchanges.pop(key)
            self.bm25.remove(key)
            for asked in exchange.asked_ids:
                self.by_asked.pop(asked, None)
            for link in exchange.links:
                self.link_uses[link] -= 1
                if self.link_uses[link] <= 0:
                    del self.link_uses[link]
        self._customers_with.subtract(self._tokens_of.pop(customer_id, set()))
        self._rows_of.pop(customer_id, None)

    def _add(self, exchange: Exchange) -> None:
        self.exchanges[exchange.key] = exchange
        self.by_customer.setdefault(exchange.customer_id, set()).add(exchange.key)
        for asked in exchange.asked_ids:
            self.by_asked[asked] = exchange.key
        self.bm25.add(exchange.key, exchange.asked_text)
        for url in LINK.findall(exchange.reply_text):
            self.link_display.setdefault(canonical_link(url), Counter())[display_link(url)] += 1
        self.link_uses.update(exchange.links)

    # -- reading -----------------------------------------------------------------------------------------
    def is_shared(self, token: str) -> bool:
        """Used with at least two customers of the tenant: the company's word (brand, product, help page)."""
        return self._customers_with.get(token.lower(), 0) >= 2

    def link_of(self, key: str) -> str:
        shown = self.link_display.get(key)
        return shown.most_common(1)[0][0] if shown else "https://" + key


class CorpusRegistry:
    """The corpora of one process, one per tenant; ingest events mark customers as changed. In an API process
    `warm` (run by a background thread) loads the corpus of every tenant that has had records and re-reads what
    changed, so a request finds its corpus ready: the first request of a tenant used to build it (1 s at 10k
    records a tenant)."""

    def __init__(self) -> None:
        self._corpora: dict[str, TenantCorpus] = {}
        self._wanted: set[str] = set()  # tenants with records but no corpus yet
        self._lock = threading.Lock()

    def get(self, tenant_id: str) -> TenantCorpus:
        with self._lock:
            self._wanted.discard(tenant_id)
            corpus = self._corpora.get(tenant_id)
            if corpus is None:
                corpus = self._corpora[tenant_id] = TenantCorpus(tenant_id)
            return corpus

    def changed(self, tenant_id: str, customer_id: str) -> None:
        with self._lock:
            corpus = self._corpora.get(tenant_id)
            if corpus is None:
                self._wanted.add(tenant_id)
        if corpus is not None:
            corpus.mark_dirty(customer_id)

    def on_event(self, event: dict) -> None:
        """Bus subscriber: `interaction.created` names the tenant and the customer."""
        if event.get("type") == "interaction.created" and event.get("tenant") and event.get("customer_id"):
            self.changed(str(event["tenant"]), str(event["customer_id"]))

    def warm(self, session: Session, tenants: Iterable[str] = ()) -> int:
        """Bring the corpora of `tenants`, of tenants with new records and of loaded ones up to date; returns
        how many it touched."""
        with self._lock:
            wanted = set(tenants) | self._wanted
            loaded = list(self._corpora.values())
        corpora = [self.get(t) for t in sorted(wanted)] + [c for c in loaded if c.tenant_id not in wanted]
        for corpus in corpora:
            corpus.refresh(session)
        return len(corpora)


# -- ranking -------------------------------------------------------------------------------------------------
def cosines(query: Sequence[float], vectors: dict[str, Sequence[float]]) -> dict[str, float]:
    """The cosine of the query to each vector, by id."""
    if not vectors:
        return {}
    matrix = np.asarray(list(vectors.values()), dtype=np.float32)
    q = np.asarray(query, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(q) or 1.0)
    sims = np.divide(matrix @ q, norms, out=np.zeros(len(matrix), dtype=np.float32), where=norms > 0)
    return dict(zip(vectors, sims.tolist(), strict=True))


@dataclass
class Candidate:
    exchange: Exchange
    query_similarity: float = 0.0  # cosine of the message to the customer message this reply answered
    lexical: float = 0.0  # BM25, scaled to 0..1 by what the query itself would score
    stage: float = 0.0  # how alike the agent replies before the two messages are (1: both open a thread)
    relevance: float = 0.0  # the three above, weighted
    agreement: float = 0.0  # how much of its wording the other candidates' replies share (0..1)
    text: str = ""  # the reply adapted to this customer (empty: not adapted, the reply as written counts)
    words: list[str] = field(default_factory=list, repr=False)


def lcs_f1(a: Sequence[str], b: Sequence[str]) -> float:
    """F-measure of the longest common word subsequence (bit-parallel LCS: a few big-int steps per word)."""
    if not a or not b:
        return 0.0
    masks: dict[str, int] = {}
    for i, word in enumerate(a):
        masks[word] = masks.get(word, 0) | (1 << i)
    full = (1 << len(a)) - 1
    row = full  # Hyyrö's bit-vector LCS: the zero bits of `row` count the common subsequence
    for word in b:
        match = row & masks.get(word, 0)
        row = ((row + match) | (row - match)) & full
    length = len(a) - bin(row).count("1")
    if not length:
        return 0.0
    p, r = length / len(b), length / len(a)
    return 2 * p * r / (p + r)


def relevant_pool(candidates: list[Candidate]) -> list[Candidate]:
    """The `RERANK_POOL` most relevant candidates, best first (`relevance` set on every candidate)."""
    for c in candidates:
        c.relevance = W_QUERY * c.query_similarity + W_LEXICAL * c.lexical + W_STAGE * c.stage
    return sorted(candidates, key=lambda c: -c.relevance)[:RERANK_POOL]


def rerank(candidates: list[Candidate], limit: int) -> list[Candidate]:
    """Replies that agree with the others first, as a set: each next pick adds most to how well the chosen
    replies stand for all top candidates (sum over candidates of relevance x word overlap with the closest
    pick, plus the pick's own relevance). The first pick is the most typical relevant answer; the next ones
    stand for the other kinds of answer, not a second copy of the first."""
    pool = relevant_pool(candidates)
    if not pool:
        return []
    n = len(pool)
    weight = np.exp((np.array([c.relevance for c in pool]) - pool[0].relevance) / TEMPERATURE)
    for c in pool:
        c.words = tokens(c.text or c.exchange.reply_text)
    overlap = np.zeros((n, n))  # zero on the diagonal: a candidate does not vote for itself
    for i in range(n):
        for j in range(i + 1, n):
            overlap[i, j] = overlap[j, i] = lcs_f1(pool[i].words, pool[j].words)
    for c, agreement in zip(pool, weight @ overlap / (weight.sum() or 1.0), strict=True):
        c.agreement = float(agreement)
    covered = np.zeros(n)  # how well the picks so far stand for each candidate
    order: list[int] = []
    while len(order) < min(limit, n):
        gain = SELF_WEIGHT * weight + weight @ np.clip(overlap - covered[:, None], 0.0, None)
        gain[order] = -np.inf
        best = int(np.argmax(gain))
        order.append(best)
        covered = np.maximum(covered, overlap[:, best])
        covered[best] = 1.0
    return [pool[j] for j in order] + [pool[j] for j in range(n) if j not in order]


def rank_links(corpus: TenantCorpus, ranked: Sequence[Candidate], limit: int = LINKS) -> list[str]:
    """Help pages by how often the agents of the most similar past conversations linked them, with the
    tenant's most linked pages as the prior (so a message like none before still gets the usual pages)."""
    if not corpus.link_uses:
        return []
    votes: Counter[str] = Counter()
    neighbours = sorted((c for c in ranked if c.exchange.links), key=lambda c: -c.relevance)[:LINK_NEIGHBOURS]
    if neighbours:
        weights = [math.exp((c.relevance - neighbours[0].relevance) / TEMPERATURE) for c in neighbours]
        total = sum(weights)
        for c, weight in zip(neighbours, weights, strict=True):
            for link in c.exchange.links:
                votes[link] += weight / total / len(c.exchange.links)
    uses = sum(corpus.link_uses.values())
    scores = {link: votes.get(link, 0.0) + LINK_PRIOR * n / uses for link, n in corpus.link_uses.items()}
    best = sorted(scores, key=lambda k: (-scores[k], k))[:limit]
    return [corpus.link_of(k) for k in best]


@dataclass
class Retrieval:
    past_replies: list[Snippet]
    links: list[str]


class OnTheFlyVectors:
    """Vectors embedded by requests, by (tenant, interaction id, hash of the text embedded): the next request
    on the same candidates finds them while the index is still behind."""

    def __init__(self, capacity: int = ON_THE_FLY_KEPT) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[tuple[str, str, int], array[float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, int]) -> array[float] | None:
        with self._lock:
            vector = self._kept.get(key)
            if vector is not None:
                self._kept.move_to_end(key)
            return vector

    def put(self, key: tuple[str, str, int], vector: Sequence[float]) -> None:
        with self._lock:
            self._kept[key] = array("f", vector)
            self._kept.move_to_end(key)
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)


ON_THE_FLY = OnTheFlyVectors()


def _vectors(store: VectorStore, embedder: Embedder, *, tenant_id: str, texts: dict[str, str]
             ) -> dict[str, Sequence[float]]:
    """Vectors by interaction id: the index's where it has them, else ones embedded earlier, else embedded now
    within `EMBED_BUDGET_CHARS` (in the order given: the best candidates first)."""
    found: dict[str, Sequence[float]] = {}
    try:
        found = dict(store.get_embeddings(tenant=tenant_id, ids=list(texts)))
    except Exception:  # the index is derived: embed what is needed instead
        log.warning("vector index unavailable for past replies", exc_info=True)
    missing: list[str] = []
    budget = EMBED_BUDGET_CHARS
    for iid, text in texts.items():
        if iid in found:
            continue
        kept = ON_THE_FLY.get((tenant_id, iid, hash(text)))
        if kept is not None:
            found[iid] = kept
        elif budget > 0:
            missing.append(iid)
            budget -= len(text)
    if missing:
        for iid, vec in zip(missing, embedder.embed([texts[i] for i in missing]), strict=True):
            found[iid] = vec
            ON_THE_FLY.put((tenant_id, iid, hash(texts[iid])), vec)
    return found


def retrieve(*, session: Session, store: VectorStore, embedder: Embedder, corpus: TenantCorpus, customer_id: str,
             message: str, embedding: Sequence[float], facts: Sequence[Fact] = (), customer_name: str | None = None,
             known_text: str = "", previous_reply: str | None = None, limit: int = PAST_REPLIES) -> Retrieval:
    """Past agent replies to other customers' similar messages, adapted to this customer, best first
    (`score`: the message's similarity to the one the reply answered, 0..1), and help-page links."""
    corpus.refresh(session, verify=False)
    tenant_id = corpus.tenant_id
    with corpus.lock:
        candidates: dict[str, Candidate] = {}
        lexical = corpus.bm25.search(message, limit=LEXICAL_CANDIDATES,
                                     keep=lambda k: corpus.exchanges[k].customer_id != customer_id)
        top = corpus.bm25.max_score(message) or 1.0
        for key, score in lexical:
            candidates[key] = Candidate(corpus.exchanges[key], lexical=min(1.0, score / top))
        try:
            hits = store.query(tenant=tenant_id, embedding=list(embedding), n_results=VECTOR_CANDIDATES)
        except Exception:
            log.warning("vector search unavailable for past replies", exc_info=True)
            hits = []
        similarity: dict[str, float] = {}
        for hit in hits:
            key = corpus.by_asked.get(hit.id)
            if key is None or corpus.exchanges[key].customer_id == customer_id:
                continue
            similarity[hit.id] = 1.0 - float(hit.distance)
            candidates.setdefault(key, Candidate(corpus.exchanges[key]))
        if not candidates:
            return Retrieval(past_replies=[], links=rank_links(corpus, []))
        texts = {c.exchange.asked_ids[-1]: c.exchange.asked_text for c in candidates.values()
                 if not any(a in similarity for a in c.exchange.asked_ids)}
    computed = cosines(embedding, _vectors(store, embedder, tenant_id=tenant_id, texts=texts))
    for c in candidates.values():
        best = max((similarity[a] for a in c.exchange.asked_ids if a in similarity), default=None)
        if best is None:
            best = computed.get(c.exchange.asked_ids[-1])
        c.query_similarity = max(0.0, min(1.0, best or 0.0))
    before = tokens(previous_reply) if previous_reply else None
    for c in candidates.values():
        theirs = c.exchange.previous_reply
        if before is None or theirs is None:
            c.stage = 1.0 if before is None and theirs is None else 0.0
        else:
            c.stage = lcs_f1(before, tokens(theirs))
    pool = relevant_pool(list(candidates.values()))
    # Adapted before the vote: replies agree on what this customer would read, not on the other customers'
    # names, ids and sign-offs. A reply with nothing left to say still votes but is not offered.
    owners = _owner_names(session, {c.exchange.customer_id for c in pool})
    for c in pool:
        c.text = adapt_reply(c.exchange.reply_text, owner_names=owners.get(c.exchange.customer_id, []),
                             is_shared=corpus.is_shared, facts=facts, customer_name=customer_name,
                             known_text=known_text)
    ranked = rerank(pool, limit * 2)
    links = rank_links(corpus, ranked)
    usable = [c for c in ranked if _substantial(c.text, c.exchange.reply_text)]
    chosen = _still_others(session, usable[:limit * 2], customer_id=customer_id)
    snippets = [Snippet(source_type="past_reply", source_id=f"reply:{c.exchange.key}", text=c.text,
                        score=round(c.query_similarity, 4)) for c in chosen[:limit]]
    return Retrieval(past_replies=snippets, links=links)


def _substantial(adapted: str, original: str) -> bool:
    """Something left to say: a reply cut down to its courtesy words ("Kind regards", "Thanks") answers
    nothing, so it gives its slot to the next one."""
    kept, was = len(WORD.findall(adapted)), len(WORD.findall(LINK.sub(" ", original)))
    return kept >= 2 and (kept >= SHORT_REPLY_WORDS or kept >= KEPT_SHARE * was)


def _still_others(session: Session, chosen: list[Candidate], *, customer_id: str) -> list[Candidate]:
    """The chosen replies as SQL has them now: gone ones (deleted) and merged ones (now this customer's) drop."""
    from copilot.interactions.models import Interaction

    if not chosen:
        return []
    owner = dict(session.execute(select(Interaction.id, Interaction.customer_id)
                                 .where(Interaction.id.in_([c.exchange.key for c in chosen]))).all())
    return [c for c in chosen if owner.get(c.exchange.key) not in (None, customer_id)]


def _owner_names(session: Session, customer_ids: set[str]) -> dict[str, list[str]]:
    """Every name a customer went by: the record's name, names they signed with, their handles and emails."""
    from copilot.customers.models import Customer, Identity
    from copilot.interactions.models import Interaction

    names: dict[str, list[str]] = {c: [] for c in customer_ids}
    if not customer_ids:
        return names
    ids = list(customer_ids)
    for cid, name in session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids))):
        if name:
            names[cid].append(name)
    for cid, kind, value in session.execute(select(Identity.customer_id, Identity.kind, Identity.value)
                                            .where(Identity.customer_id.in_(ids))):
        if kind == "email":
            names[cid].append(value.split("@")[0])
        elif kind != "phone" and not kind.startswith("ext:"):
            names[cid].append(value)
    for cid, author in session.execute(select(Interaction.customer_id, Interaction.author_name).distinct()
                                       .where(Interaction.customer_id.in_(ids),
                                              Interaction.author_role == "customer")):
        if author:
            names[cid].append(author)
    return names
