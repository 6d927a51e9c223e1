"""Prometheus text: connector counters (from SQL, so every worker agrees) and ingest latency (per worker)."""
from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily

from copilot.integrations.models import ConnectorStats

REGISTRY = CollectorRegistry()
INGEST_SECONDS = Histogram("omnicopilot_ingest_seconds", "Time to store one ingest request or webhook delivery",
                           ["path"], registry=REGISTRY,
                           buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))


COUNTERS = ("received", "ingested", "duplicates", "rejected", "signature_failures")


def render_metrics(stats: Iterable[ConnectorStats], *, with_tenants: bool) -> str:
    """Without `with_tenants` (no metrics key configured) counters are summed per connector, so an open
    endpoint does not tell who the customers of this deployment are."""
    labels = ["tenant", "connector"] if with_tenants else ["connector"]
    families = {name: CounterMetricFamily(f"omnicopilot_connector_{name}", f"Connector {name.replace('_', ' ')}",
                                          labels=labels)
                for name in COUNTERS}
    totals: dict[tuple[str, ...], dict[str, int]] = {}
    for row in stats:
        key = (row.tenant_id, row.connector) if with_tenants else (row.connector,)
        counts = totals.setdefault(key, dict.fromkeys(COUNTERS, 0))
        for name in COUNTERS:
            counts[name] += getattr(row, name)
    for key, counts in totals.items():
        for name, family in families.items():
            family.add_metric(list(key), counts[name])
    text = "".join(generate_latest(_Fixed(list(families.values()))).decode())
    return text + generate_latest(REGISTRY).decode()


class _Fixed:
    """A one-shot collector for metric families computed just now."""

    def __init__(self, families: list) -> None:
        self.families = families

    def collect(self) -> list:
        return self.families
