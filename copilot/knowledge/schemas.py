"""Knowledge-base import over the API."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ArticleCreate(BaseModel):
    key: str | None = Field(None, max_length=500, description="your id for the article; the same key replaces it")
    title: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=1_000_000)
    url: str | None = Field(None, max_length=2000)
    audience: Literal["public", "internal"] = Field(
        "public", description="public: may be quoted to customers; internal: agent guidance, never pasted into a reply")


class ArticlesCreate(BaseModel):
    articles: list[ArticleCreate] = Field(min_length=1, max_length=1000)


class ArticlesImported(BaseModel):
    imported: int
