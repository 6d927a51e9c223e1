"""The one way rows get their ids."""
from __future__ import annotations

import uuid


def new_id() -> str:
    """A random UUID: ids are never guessable from one another and need no coordination between workers."""
    return str(uuid.uuid4())
