"""Is a shared secret strong enough? Placeholders from docs and short or near-constant strings are refused."""
from __future__ import annotations

import re

from copilot.config import PLACEHOLDER_SECRETS

MIN_SHARED_SECRET_CHARS = 32
# Words that mark a value copied from documentation rather than generated (compared without punctuation).
PLACEHOLDER_WORDS = ("changeme", "changethis", "replaceme", "placeholder", "yoursecret", "yourtoken", "example",
                     "secrethere", "tokenhere", "insert", "todo")
MIN_DISTINCT_CHARS = 8  # "aaaa…" or "abab…" of any length is not random


def secret_problem(value: str, *, shared: bool = True) -> str | None:
    """Why `value` is not acceptable as a secret, or None when it is. A `shared` secret (one we choose, e.g. a
    webhook signing secret) must be long and random; any other is only refused when empty or a placeholder."""
    stripped = value.strip().lower()
    if not stripped:
        return "must not be empty"
    if stripped in PLACEHOLDER_SECRETS:
        return "is a placeholder; set the real value"
    if not shared:
        return None
    folded = re.sub(r"[^a-z0-9]", "", stripped)
    if any(word in folded for word in PLACEHOLDER_WORDS):
        return "is a placeholder; generate a random secret (e.g. `openssl rand -hex 32`)"
    if len(value) < MIN_SHARED_SECRET_CHARS:
        return f"must be at least {MIN_SHARED_SECRET_CHARS} characters (e.g. `openssl rand -hex 32`)"
    if len(set(value)) < MIN_DISTINCT_CHARS:
        return "is not random enough; generate one (e.g. `openssl rand -hex 32`)"
    return None
