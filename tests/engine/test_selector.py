"""What the engines read of one customer is bounded, whatever the customer sent."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from copilot.engine.selector import ENGINE_MAX_CHARS, ENGINE_MAX_ITEMS, engine_window
from copilot.interactions.schemas import TimelineItem

START = datetime(2026, 3, 1, tzinfo=UTC)


def item(n: int, text: str) -> TimelineItem:
    return TimelineItem(interaction_id=f"i{n}", source="chat", external_id=str(n), channel="chat",
                        direction="inbound", author_role="customer", text=text,
                        occurred_at=START + timedelta(minutes=n))


def test_the_window_keeps_the_newest_interactions_up_to_the_count() -> None:
    items = [item(n, f"message {n}") for n in range(ENGINE_MAX_ITEMS + 50)]
    window = engine_window(items)
    assert len(window) == ENGINE_MAX_ITEMS and window[-1] is items[-1] and window[0] is items[50]


def test_the_window_keeps_the_newest_text_within_the_budget() -> None:
    big = "x" * (ENGINE_MAX_CHARS // 3)
    items = [item(n, big) for n in range(6)]
    window = engine_window(items)
    assert [i.interaction_id for i in window] == ["i3", "i4", "i5"]
    assert sum(len(i.text) for i in window) <= ENGINE_MAX_CHARS


def test_the_newest_message_stays_even_when_it_alone_is_too_long() -> None:
    items = [item(0, "hello"), item(1, "y" * (ENGINE_MAX_CHARS + 1))]
    assert [i.interaction_id for i in engine_window(items)] == ["i1"]


def test_a_short_history_is_read_whole() -> None:
    items = [item(n, "hi") for n in range(3)]
    assert list(engine_window(items)) == items
