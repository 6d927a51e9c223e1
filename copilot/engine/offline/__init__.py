"""The offline engine (DESIGN §3): deterministic, grounded, no network.

`analyse` turns one customer's history into facts, open items, a summary, language and sentiment;
`suggest` writes 1-3 replies from templates filled with those facts and from knowledge snippets.
Everything it says comes from the customer's own interactions or the snippets it was given.
"""
from __future__ import annotations

from copilot.engine.offline.analyse import analyse
from copilot.engine.offline.suggest import suggest

VERSION = "offline-1"

__all__ = ["VERSION", "analyse", "suggest"]
