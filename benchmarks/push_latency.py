"""Ingest-to-sidebar latency of the live push (WS /v1/ws), under load.

Starts `omnicopilot serve` in a throw-away data directory (offline engine), seeds CUSTOMERS customers
of one tenant, connects one WebSocket client per customer watching it, then posts one customer
message at a time through `POST /v1/interactions` at RATE per second for SECONDS. For every message
it measures the time from sending the POST to the client receiving the `interaction` push, and to
the first `card` push whose timeline holds it. Prints p50/p95/max (target p95 < 1 s).

    .venv/bin/python benchmarks/push_latency.py [--clients 50] [--rate 20] [--seconds 30] [--backend hashing]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.processes import ServeProcess  # noqa: E402

MASTER = "bench-master-" + uuid.uuid4().hex
MESSAGES = ["Hi, my order {o} never arrived, tracking says delivered.",
            "I already restarted the router, still no signal.",
            "Can you refund the duplicate charge on {o}?", "When will the replacement for {o} ship?",
            "I was promised a call back yesterday about {o}."]


def record(i: int, customer: int, when: datetime, marker: str) -> dict:
    order = f"A-{10000 + customer}"
    return {"source": "bench", "external_id": f"m-{i}-{uuid.uuid4().hex[:6]}", "channel": "chat",
            "direction": "inbound",
            "customer": {"name": f"Customer {customer}", "email": f"c{customer}@bench.example"},
            "thread_id": f"t-{customer}", "text": MESSAGES[i % len(MESSAGES)].format(o=order) + f" [{marker}]",
            "occurred_at": when.isoformat().replace("+00:00", "Z")}


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def report(name: str, values: list[float], expected: int) -> None:
    if not values:
        print(f"{name:12s} no pushes received (expected {expected})")
        return
    ms = sorted(v * 1000 for v in values)
    print(f"{name:12s} n={len(ms)}/{expected}  p50 {pct(ms, 50):7.1f} ms  p95 {pct(ms, 95):7.1f} ms  "
          f"max {ms[-1]:7.1f} ms")


async def client(base: str, key: str, customer_id: str, sent: dict[str, float], got: dict[str, dict[str, float]],
                 ready: asyncio.Event, counter: list[int], total: int) -> None:
    async with connect(base.replace("http", "ws") + "/v1/ws", max_size=None) as ws:
        await ws.send(json.dumps({"type": "auth", "key": key}))
        await ws.recv()
        await ws.send(json.dumps({"type": "watch", "customer_id": customer_id}))
        await ws.recv()
        counter[0] += 1
        if counter[0] == total:
            ready.set()
        async for raw in ws:
            now = time.perf_counter()
            message = json.loads(raw)
            if message["type"] == "interaction":
                marker = message["interaction"]["text"].rsplit("[", 1)[-1].rstrip("]")
                got["interaction"].setdefault(marker, now)
            elif message["type"] == "card":
                for item in message["card"]["timeline"][:5]:
                    marker = item["text"].rsplit("[", 1)[-1].rstrip("]")
                    if marker in sent:
                        got["card"].setdefault(marker, now)
            elif message["type"] == "suggestions":
                marker = message["message"].rsplit("[", 1)[-1].rstrip("]")
                got["suggestions"].setdefault(marker, now)


async def run(args: argparse.Namespace) -> None:
    data = Path(tempfile.mkdtemp(prefix="omnicopilot-push-"))
    server = ServeProcess({"OMNICOPILOT_DATA_DIR": str(data / "data"), "OMNICOPILOT_MASTER_KEY": MASTER,
                           "OMNICOPILOT_EMBEDDING_BACKEND": args.backend, "OMNICOPILOT_PULL_INTERVAL_S": "0",
                           "OMNICOPILOT_LOG_LEVEL": "warning", **({"OMNICOPILOT_CACHE_DIR": str(data / "cache")}
                                                                 if args.backend == "hashing" else {})}).start()
    try:
        keys = {role: server.call("POST", "/v1/admin/api-keys", {"tenant": "bench", "role": role, "name": role},
                                  key=MASTER)[1]["key"] for role in ("agent", "integration")}
        start = datetime(2026, 11, 1, tzinfo=UTC)
        seed = [record(i, i, start, "seed") for i in range(args.clients)]
        assert server.call("POST", "/v1/interactions", {"interactions": seed}, key=keys["integration"])[0] == 200
        server.wait_backlog_zero()
        customers = [server.call("GET", f"/v1/customers/resolve?identity=email:c{i}@bench.example",
                                 key=keys["agent"])[1]["customer_id"] for i in range(args.clients)]
        sent: dict[str, float] = {}
        got: dict[str, dict[str, float]] = {"interaction": {}, "card": {}, "suggestions": {}}
        ready, counter = asyncio.Event(), [0]
        tasks = [asyncio.create_task(client(server.base, keys["agent"], c, sent, got, ready, counter, len(customers)))
                 for c in customers]
        await asyncio.wait_for(ready.wait(), 60)
        total = int(args.rate * args.seconds)
        print(f"{len(customers)} clients watching; ingesting {total} messages at {args.rate}/s "
              f"({args.backend} embeddings, offline engine)")
        async with httpx.AsyncClient(base_url=server.base, timeout=30,
                                     headers={"Authorization": f"Bearer {keys['integration']}"}) as http:
            began = time.perf_counter()
            posts = []
            for i in range(total):
                due = began + i / args.rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                customer = i % len(customers)
                marker = f"k{i}"
                body = {"interactions": [record(i, customer, start + timedelta(minutes=1 + i), marker)]}
                sent[marker] = time.perf_counter()
                posts.append(asyncio.create_task(http.post("/v1/interactions", json=body)))
            statuses = [r.status_code for r in await asyncio.gather(*posts)]
        await asyncio.sleep(3)  # let the last pushes land
        for task in tasks:
            task.cancel()
        print(f"POST /v1/interactions: {statuses.count(200)}/{total} ok, sent over {time.perf_counter() - began:.1f} s")
        for kind in ("interaction", "card", "suggestions"):
            report(kind, [got[kind][m] - sent[m] for m in got[kind] if m in sent], total)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--backend", default=os.environ.get("OMNICOPILOT_EMBEDDING_BACKEND", "hashing"))
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
