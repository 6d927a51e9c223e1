"""The fact kinds are one enum shared by the engine."""
from __future__ import annotations

from copilot.engine.offline.kinds import ID_KIND_VALUES, ID_KINDS, FactKind


def test_kinds_are_strings_and_ids_are_a_subset() -> None:
    assert FactKind.AMOUNT == "amount"
    assert FactKind("tracking_number") is FactKind.TRACKING_NUMBER
    assert ID_KINDS.issubset(set(FactKind))
    assert "order_id" in ID_KIND_VALUES and "amount" not in ID_KIND_VALUES
