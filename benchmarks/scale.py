"""Scale-out, measured: the product as deployed (PostgreSQL, a `chroma run` server, Redis, `serve` + workers).

Two parts, printed as tables (nothing is asserted; the README quotes the figures):

1. Ingest with 1 and with 2 `omnicopilot worker` processes (each single-threaded in its embedder, the real
   MiniLM model): records are stored through the API with no worker running, then the workers start and
   the time until the outbox is empty gives the rate.
2. Storage at scale: synthetic multi-channel histories (customers spread over tenants, a few to tens of
   interactions each) ingested through the API with hashing embeddings (to isolate storage from the model),
   with context and suggestion p50/p95 measured at each checkpoint on customers picked at random, the RSS of
   the API process and the workers, and the disk per 100k interactions (PostgreSQL database + Chroma).

    .venv/bin/python benchmarks/scale.py --quick          # 100k interactions, minutes
    .venv/bin/python benchmarks/scale.py                  # 1M interactions, 100k customers, 10 tenants

PostgreSQL (`--postgres`, default the test server's) gets a fresh database `omnicopilot_scale`.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.processes import ChromaServer, ServeProcess, WorkerProcess  # noqa: E402

MASTER = "scale-master-" + "k" * 24
SECRET = "scale-secret-" + "s" * 32
BATCH = 500

# Invented histories: a problem, what was tried, an id, a promise. Words vary so retrieval has work to do.
PRODUCTS = ["router", "modem", "phone", "tablet", "tent", "jacket", "boots", "stove", "headlamp", "backpack"]
PROBLEMS = ["stopped working", "arrived damaged", "keeps disconnecting", "was charged twice", "never arrived",
            "is the wrong size", "makes a grinding noise", "will not turn on", "drops calls", "leaks at the seam"]
TRIED = ["restarted it", "reset it to factory settings", "checked the cables", "tried another outlet",
         "updated the firmware", "followed the manual", "contacted the courier"]
CHANNELS = ["email", "chat", "sms", "whatsapp", "voice", "ticket", "social"]


def customer_block(tenant_no: int, n: int) -> dict:
    return {"name": f"Customer {tenant_no}-{n}", "email": f"c{n}@t{tenant_no}.example"}


def history(rng: random.Random, tenant_no: int, n: int, count: int, start: datetime) -> list[dict]:
    product, problem = rng.choice(PRODUCTS), rng.choice(PROBLEMS)
    order = f"ORD-{rng.randint(100000, 999999)}"
    out = []
    for k in range(count):
        inbound = k % 2 == 0
        if inbound:
            text = (f"My {product} {problem}. Order {order}. I {rng.choice(TRIED)} already."
                    if k == 0 else f"Any update on order {order}? The {product} still {problem}.")
        else:
            text = (f"Sorry to hear that. I have opened case CS-{rng.randint(10000, 99999)} for order {order} "
                    f"and we will send a replacement by {(start + timedelta(days=3)).strftime('%b %d')}.")
        out.append({"tenant": f"scale-{tenant_no}", "source": "bench", "external_id": f"t{tenant_no}-c{n}-{k}",
                    "channel": rng.choice(CHANNELS), "direction": "inbound" if inbound else "outbound",
                    "customer": customer_block(tenant_no, n), "thread_id": f"t{tenant_no}-c{n}",
                    "text": text, "occurred_at": (start + timedelta(hours=k)).isoformat().replace("+00:00", "Z")})
    return out


def synthetic(total: int, customers: int, tenants: int, seed: int = 7) -> list[dict]:
    """`total` interactions over `customers` customers and `tenants` tenants, histories of varying length."""
    rng = random.Random(seed)
    per = max(2, total // customers)
    records: list[dict] = []
    start = datetime(2026, 1, 5, tzinfo=UTC)
    n = 0
    while len(records) < total:
        count = min(total - len(records), max(2, int(rng.expovariate(1 / per))))
        records += history(rng, n % tenants, n, count, start + timedelta(minutes=n))
        n += 1
    return records


class Deployment:
    """PostgreSQL + a Chroma server + Redis + one `serve` (background work in workers) + M workers."""

    def __init__(self, workdir: Path, postgres: str, redis: str, backend: str) -> None:
        self.workdir = workdir
        self.chroma = ChromaServer(workdir / "chroma").start()
        self.env = {"OMNICOPILOT_DATABASE_URL": postgres, "OMNICOPILOT_CHROMA_URL": self.chroma.url,
                    "OMNICOPILOT_REDIS_URL": redis, "OMNICOPILOT_BACKGROUND": "workers",
                    "OMNICOPILOT_MASTER_KEY": MASTER, "OMNICOPILOT_SECRET_KEY": SECRET,
                    "OMNICOPILOT_EMBEDDING_BACKEND": backend, "OMNICOPILOT_EMBED_THREADS": "1",
                    "OMNICOPILOT_PULL_INTERVAL_S": "0", "OMNICOPILOT_LOG_LEVEL": "warning",
                    "OMNICOPILOT_MAX_BATCH": str(BATCH), "OMNICOPILOT_RATE_LIMIT_PER_KEY": "0",
                    "OMNICOPILOT_RATE_LIMIT_PER_IP": "0"}
        self.serve = ServeProcess({**self.env, "OMNICOPILOT_DATA_DIR": str(workdir / "serve")}).start()
        self.workers: list[WorkerProcess] = []
        self.keys: dict[tuple[str, str], str] = {}

    def key(self, tenant: str, role: str) -> str:
        if (tenant, role) not in self.keys:
            status, body = self.serve.call("POST", "/v1/admin/api-keys", {"tenant": tenant, "role": role,
                                                                         "name": role}, key=MASTER)
            assert status == 201, body
            self.keys[(tenant, role)] = body["key"]
        return self.keys[(tenant, role)]

    def start_workers(self, count: int) -> None:
        for n in range(count):
            env = {**self.env, "OMNICOPILOT_DATA_DIR": str(self.workdir / f"worker-{len(self.workers)}")}
            self.workers.append(WorkerProcess(env, self.workdir / f"worker-{len(self.workers)}-{n}.log").start())

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []

    def ingest(self, records: list[dict], parallel: int = 2) -> float:
        """Records per second accepted by the API (stored in SQL with their outbox rows)."""
        by_tenant: dict[str, list[dict]] = {}
        for record in records:
            by_tenant.setdefault(record["tenant"], []).append({k: v for k, v in record.items() if k != "tenant"})
        jobs = [(tenant, rows[i:i + BATCH]) for tenant, rows in by_tenant.items()
                for i in range(0, len(rows), BATCH)]
        for tenant in by_tenant:
            self.key(tenant, "integration")  # one at a time, before the parallel posts
        started = time.perf_counter()

        def post(job: tuple[str, list[dict]]) -> None:
            tenant, rows = job
            status, body = self.serve.call("POST", "/v1/interactions", {"interactions": rows},
                                           key=self.key(tenant, "integration"))
            assert status == 200 and not body["rejected"], (status, str(body)[:300])

        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(post, jobs))
        return len(records) / (time.perf_counter() - started)

    def backlog(self) -> int:
        return self.serve.call("GET", "/healthz")[1]["index_backlog"]

    def wait_indexed(self, timeout_s: float = 7200) -> float:
        started = time.perf_counter()
        deadline = time.time() + timeout_s
        while self.backlog():
            if time.time() > deadline:
                raise TimeoutError("the outbox did not drain")
            time.sleep(0.5)
        return time.perf_counter() - started

    def latencies(self, records: list[dict], samples: int) -> dict[str, tuple[float, float]]:
        rng = random.Random(11)
        picked = rng.sample(records, min(samples, len(records)))
        context, suggest = [], []
        for record in picked:
            key = self.key(record["tenant"], "agent")
            _, customer = self.serve.call("GET", f"/v1/customers/resolve?identity=email:{record['customer']['email']}",
                                          key=key)
            started = time.perf_counter()
            status, _ = self.serve.call("GET", f"/v1/customers/{customer['customer_id']}/context", key=key)
            context.append((time.perf_counter() - started) * 1000)
            assert status == 200
            started = time.perf_counter()
            status, _ = self.serve.call("POST", f"/v1/customers/{customer['customer_id']}/suggestions",
                                        {"message": "Any update on my order?", "channel": "chat"}, key=key)
            suggest.append((time.perf_counter() - started) * 1000)
            assert status == 200
        return {"context": percentiles(context), "suggestions": percentiles(suggest)}

    def rss_mb(self) -> dict[str, float]:
        procs = {"serve": self.serve.proc} | {f"worker {n + 1}": w.proc for n, w in enumerate(self.workers)}
        return {name: tree_rss_mb(proc.pid) for name, proc in procs.items() if proc is not None}

    def close(self) -> None:
        self.stop_workers()
        self.serve.stop()
        self.chroma.stop()


def percentiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[max(0, int(len(values) * 0.95) - 1)]


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn runs the app in the process it starts)."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)], capture_output=True, text=True)
    return sum(int(x) for x in out.stdout.split()) / 1024


def fresh_database(admin_url: str, name: str) -> str:
    import psycopg

    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def database_mb(url: str) -> float:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20


def directory_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def ingest_rates(args: argparse.Namespace, workdir: Path) -> list[tuple[int, float]]:
    """Records per second indexed by 1 and by 2 workers on the real embedding model."""
    rates = []
    records = synthetic(args.rate_records, max(1, args.rate_records // 8), 2, seed=3)
    for workers in (1, 2):
        url = fresh_database(args.postgres, "omnicopilot_scale")
        deployment = Deployment(workdir / f"rate-{workers}", url, args.redis, "minilm")
        try:
            deployment.ingest(records)
            deployment.start_workers(workers)
            rates.append((workers, len(records) / deployment.wait_indexed()))
        finally:
            deployment.close()
    return rates


def storage_at_scale(args: argparse.Namespace, workdir: Path) -> list[dict]:
    url = fresh_database(args.postgres, "omnicopilot_scale")
    deployment = Deployment(workdir / "scale", url, args.redis, "hashing")
    rows = []
    try:
        deployment.start_workers(2)
        records = synthetic(args.interactions, args.customers, args.tenants)
        done = 0
        for checkpoint in [c for c in (10_000, 100_000, 1_000_000) if c <= args.interactions] or [args.interactions]:
            accepted = deployment.ingest(records[done:checkpoint])
            deployment.wait_indexed()
            done = checkpoint
            lat = deployment.latencies(records[:done], args.samples)
            disk = database_mb(url) + directory_mb(workdir / "scale" / "chroma")
            rows.append({"interactions": done, "api_rate": accepted, "context": lat["context"],
                         "suggestions": lat["suggestions"], "rss": deployment.rss_mb(),
                         "disk_per_100k": disk / done * 100_000})
            print(f"  {done:>9,} interactions: context p95 {lat['context'][1]:.0f} ms, "
                  f"suggestions p95 {lat['suggestions'][1]:.0f} ms", flush=True)
    finally:
        deployment.close()
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100k interactions, 10k customers, 3k records per rate run")
    ap.add_argument("--interactions", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--tenants", type=int, default=10)
    ap.add_argument("--rate-records", type=int, default=8000, help="records indexed in each worker-count run")
    ap.add_argument("--samples", type=int, default=200, help="customers asked for context and suggestions")
    ap.add_argument("--postgres", default=os.environ.get("OMNICOPILOT_TEST_POSTGRES_URL",
                                                        "postgresql+psycopg://127.0.0.1:5432/test"))
    ap.add_argument("--redis", default=os.environ.get("OMNICOPILOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"))
    ap.add_argument("--skip", choices=["rates", "storage"])
    args = ap.parse_args()
    if args.quick:
        args.interactions, args.customers, args.rate_records, args.samples = 100_000, 10_000, 3000, 100
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    with tempfile.TemporaryDirectory(prefix="omnicopilot-scale-") as tmp:
        workdir = Path(tmp)
        if args.skip != "rates":
            rates = ingest_rates(args, workdir)
            print("\n| workers (single-threaded embedder, MiniLM) | records indexed per second | vs one worker |")
            print("|---|---|---|")
            for workers, rate in rates:
                print(f"| {workers} | {rate:.0f} | {rate / rates[0][1]:.2f}x |")
        if args.skip != "storage":
            rows = storage_at_scale(args, workdir)
            print(f"\n| interactions ({args.tenants} tenants, hashing embeddings) | API ingest /s | context p50 / p95 "
                  "| suggestions p50 / p95 | RSS serve / workers | disk per 100k |")
            print("|---|---|---|---|---|---|")
            for row in rows:
                rss = row["rss"]
                workers = " + ".join(f"{v:.0f}" for k, v in rss.items() if k != "serve")
                print(f"| {row['interactions']:,} | {row['api_rate']:.0f} | {row['context'][0]:.0f} / "
                      f"{row['context'][1]:.0f} ms | {row['suggestions'][0]:.0f} / {row['suggestions'][1]:.0f} ms "
                      f"| {rss['serve']:.0f} MB / {workers} MB | {row['disk_per_100k']:.0f} MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
