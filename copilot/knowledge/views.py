"""POST /v1/knowledge: add or replace knowledge-base articles (admin)."""
from __future__ import annotations

from fastapi import APIRouter, UploadFile

from copilot.deps import AdminDep, ServicesDep, SessionDep
from copilot.exceptions import Unprocessable
from copilot.knowledge.schemas import ArticlesCreate, ArticlesImported
from copilot.knowledge.service import ArticleIn, KnowledgeError, import_articles, parse_article_file

router = APIRouter(prefix="/v1/knowledge", tags=["knowledge"])


@router.post("", response_model=ArticlesImported)
def add_articles(body: ArticlesCreate, principal: AdminDep, session: SessionDep,
                 services: ServicesDep) -> ArticlesImported:
    articles = [ArticleIn(key=a.key or a.title, title=a.title, body=a.body, url=a.url, audience=a.audience)
                for a in body.articles]
    return ArticlesImported(imported=import_articles(session, services.indexer.store, tenant_id=principal.tenant_id,
                                                     articles=articles))


@router.post("/files", response_model=ArticlesImported)
async def upload_articles(files: list[UploadFile], principal: AdminDep, session: SessionDep,
                          services: ServicesDep) -> ArticlesImported:
    articles: list[ArticleIn] = []
    for upload in files:
        try:
            articles.extend(parse_article_file(upload.filename or "upload.txt", await upload.read()))
        except KnowledgeError as err:
            raise Unprocessable(str(err)) from None
    return ArticlesImported(imported=import_articles(session, services.indexer.store, tenant_id=principal.tenant_id,
                                                     articles=articles))
