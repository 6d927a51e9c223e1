"""The offline engine (DESIGN §3): deterministic, grounded, no network.

A pipeline of typed stages, one module each: `segment` (speaker turns) -> `extract` (one extractor per
`kinds.FactKind`) -> `state` (corrections, promises, requests) -> `summarise`, wired by `analyse` into the
card's insights; and `retrieve` (past replies by BM25 and MiniLM, reranked by agreement) -> `adapt` ->
`suggest`/`compose` (grounded replies). Everything it says comes from the customer's own interactions, the
tenant's past replies or its public articles.
"""
from __future__ import annotations

from copilot.engine.offline.analyse import analyse
from copilot.engine.offline.suggest import suggest

VERSION = "offline-2"

__all__ = ["VERSION", "analyse", "suggest"]
