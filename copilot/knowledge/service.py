"""Knowledge base: import articles (Markdown, HTML, text, JSON), chunk them, index and search them."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from copilot.database.core import utcnow
from copilot.database.ids import new_id
from copilot.engine.schemas import Snippet
from copilot.indexing.vectorstore import VectorStore
from copilot.knowledge.models import Article, Chunk

KIND = "knowledge"
CHUNK_WORDS = 160
# public: may be quoted to customers; internal: agent guidance, shown to agents, never pasted into a reply.
AUDIENCES = ("public", "internal")
FRONT_MATTER = re.compile(r"\A---\s*\n(?P<head>.*?)\n---\s*\n", re.DOTALL)
SUFFIXES = {".md", ".markdown", ".html", ".htm", ".txt", ".json"}


class KnowledgeError(ValueError):
    """An article that cannot be read; the message names the file or field."""


@dataclass
class ArticleIn:
    key: str
    title: str
    body: str
    url: str | None = None
    audience: str = "public"

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise KnowledgeError(f"{self.key}: audience must be one of {', '.join(AUDIENCES)}, "
                                 f"not {self.audience!r}")


class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.title: str | None = None
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self._in_title = tag in ("title", "h1") and self.title is None
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        self._in_title = False
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title and data.strip():
            self.title = data.strip()
        self.parts.append(data)


def html_to_text(html: str) -> tuple[str | None, str]:
    parser = _TextExtractor()
    parser.feed(html)
    text = re.sub(r"[ \t]+", " ", "".join(parser.parts))
    return parser.title, re.sub(r"\n\s*\n+", "\n\n", text).strip()


def read_articles(path: Path, *, audience: str = "public") -> Iterator[ArticleIn]:
    """Articles from a file or every supported file below a directory; `audience` unless an article says
    otherwise (a JSON `audience` field, or `audience:` in a Markdown/text front matter)."""
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES) if path.is_dir() else [path]
    for file in files:
        yield from parse_article_file(file.name if not path.is_dir() else str(file.relative_to(path)),
                                      file.read_bytes(), audience=audience)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """`---` delimited `key: value` lines at the top of a Markdown or text article, and the rest."""
    m = FRONT_MATTER.match(text)
    if not m:
        return {}, text
    fields = {}
    for line in m.group("head").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip().strip("'\"")
    return fields, text[m.end():]


def parse_article_file(key: str, data: bytes, *, audience: str = "public") -> Iterator[ArticleIn]:
    suffix = Path(key).suffix.lower()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise KnowledgeError(f"{key}: not UTF-8 text") from err
    if suffix == ".json":
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as err:
            raise KnowledgeError(f"{key}: not JSON ({err.msg})") from err
        items = payload if isinstance(payload, list) else payload.get("articles", [payload])
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                raise KnowledgeError(f"{key}[{n}]: must be an object")
            body = item.get("body") or item.get("content") or item.get("text")
            if not isinstance(body, str) or not body.strip():
                raise KnowledgeError(f"{key}[{n}].body: required text")
            title = str(item.get("title") or body.strip().splitlines()[0][:200])
            yield ArticleIn(key=f"{key}#{item.get('id', n)}", title=title, body=body, url=item.get("url"),
                            audience=str(item.get("audience") or audience))
        return
    fields: dict[str, str] = {}
    if suffix in (".html", ".htm"):
        title, body = html_to_text(text)
    else:
        fields, text = _front_matter(text)
        lines = text.strip().splitlines()
        title = lines[0].lstrip("#").strip() if lines else None
        body = text
    if not body.strip():
        raise KnowledgeError(f"{key}: empty article")
    yield ArticleIn(key=key, title=fields.get("title") or title or Path(key).stem.replace("-", " "), body=body,
                    url=fields.get("url") or None, audience=fields.get("audience") or audience)


def chunk_text(body: str, *, words: int = CHUNK_WORDS) -> list[str]:
    """Paragraph-aligned chunks of about `words` words; a heading stays with what follows it."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    chunks: list[str] = []
    current: list[str] = []
    count = 0
    for para in paragraphs:
        size = len(para.split())
        if current and count + size > words and not current[-1].startswith("#"):
            chunks.append("\n\n".join(current))
            current, count = [], 0
        current.append(para)
        count += size
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def import_articles(session: Session, store: VectorStore, *, tenant_id: str, articles: Iterable[ArticleIn]) -> int:
    """Store and index articles; an article with the same key is replaced."""
    count = 0
    for item in articles:
        old = session.scalar(select(Article).where(Article.tenant_id == tenant_id, Article.key == item.key))
        if old is not None:
            old_ids = list(session.scalars(select(Chunk.id).where(Chunk.article_id == old.id)))
            store.delete(tenant=tenant_id, ids=old_ids, kind=KIND)
            session.execute(delete(Chunk).where(Chunk.article_id == old.id))
            session.delete(old)
            session.flush()
        article = Article(id=new_id(), tenant_id=tenant_id, key=item.key, title=item.title[:500], url=item.url,
                          body=item.body, audience=item.audience, updated_at=utcnow())
        session.add(article)
        session.flush()
        chunks = [Chunk(id=new_id(), tenant_id=tenant_id, article_id=article.id, ordinal=n, text=text)
                  for n, text in enumerate(chunk_text(item.body))]
        session.add_all(chunks)
        session.flush()
        index_chunks(store, tenant_id=tenant_id, article=article, chunks=chunks)
        count += 1
    session.commit()
    return count


def index_chunks(store: VectorStore, *, tenant_id: str, article: Article, chunks: list[Chunk]) -> None:
    if chunks:
        store.upsert(tenant=tenant_id, ids=[c.id for c in chunks], documents=[c.text for c in chunks],
                     metadatas=[{"article_id": article.id, "title": article.title, "ordinal": c.ordinal,
                                 "audience": article.audience or "public", "url": article.url or ""}
                                for c in chunks], kind=KIND)


def reindex_all(session: Session, store: VectorStore) -> int:
    count = 0
    for article in session.scalars(select(Article)):
        chunks = list(session.scalars(select(Chunk).where(Chunk.article_id == article.id).order_by(Chunk.ordinal)))
        index_chunks(store, tenant_id=article.tenant_id, article=article, chunks=chunks)
        count += len(chunks)
    return count


def search(store: VectorStore, *, tenant_id: str, embedding: list[float], limit: int = 3,
           max_distance: float = 1.2) -> list[Snippet]:
    """The closest chunks, each with its article's title, url and audience (internal ones are agent guidance:
    the reply writer never pastes them)."""
    hits = store.query(tenant=tenant_id, embedding=embedding, n_results=limit, kind=KIND)
    return [Snippet(source_type="knowledge", source_id=f"kb:{hit.id}", title=str(hit.metadata.get("title") or ""),
                    text=hit.document, score=1.0 - float(hit.distance),
                    audience="internal" if hit.metadata.get("audience") == "internal" else "public",
                    url=str(hit.metadata.get("url") or "") or None)
            for hit in hits if hit.distance <= max_distance]
