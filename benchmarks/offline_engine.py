"""Direct harness for the offline engine: the scenario and TweetSumm figures without a server.

Builds HistoryItems the way the server would (history + next contact, deduped on (source, external_id),
oldest first) and calls `copilot.engine.offline.analyse` / `suggest` directly, then computes the same
metrics as ../shared/eval/score_scenarios.py (fact recall, repeat asks, empty suggestions, leaks) and
../shared/eval/score_tweetsumm.py (ROUGE-L best reference, against the LEAD baseline).

    .venv/bin/python benchmarks/offline_engine.py [--scenarios PATH] [--tweetsumm PATH] [--limit N] [-v]
The last line holds the figures.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EVAL = ROOT.parent / "shared" / "eval"

from copilot.engine import offline  # noqa: E402
from copilot.interactions.schemas import TimelineItem  # noqa: E402

SUMMARY_WORDS = 120
MAX_FACTS = 15
MENTION = re.compile(r"@\w+")


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip().lower()


def to_items(records: list[dict]) -> list[TimelineItem]:
    """Canonical interactions -> HistoryItems, deduped like the server and sorted oldest first."""
    seen: set[tuple[str, str]] = set()
    items: list[TimelineItem] = []
    for n, rec in enumerate(records):
        key = (rec["source"], rec["external_id"])
        if key in seen:
            continue
        seen.add(key)
        direction = rec["direction"]
        role = rec.get("author_role") or {"inbound": "customer", "outbound": "agent", "internal": "agent"}[direction]
        items.append(TimelineItem(
            interaction_id=f"int-{n:04d}", source=rec["source"], external_id=rec["external_id"],
            channel=rec["channel"], direction=direction, author_role=role, author_name=rec.get("author_name"),
            thread_id=rec.get("thread_id"), subject=rec.get("subject"), text=rec["text"],
            occurred_at=datetime.fromisoformat(rec["occurred_at"].replace("Z", "+00:00"))))
    items.sort(key=lambda i: i.occurred_at)
    return items


def rank_relevant(items: list[TimelineItem], message: str) -> list[str]:
    """A bag-of-words stand-in for the server's embedding ranking of the customer's own history."""
    words = set(re.findall(r"\w{4,}", message.lower()))
    scored = [(len(words & set(re.findall(r"\w{4,}", i.text.lower()))), i.interaction_id) for i in items]
    return [iid for score, iid in sorted(scored, reverse=True) if score > 0]


def score_scenarios(path: Path, verbose: bool) -> dict:
    scenarios = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    found = total = repeats = empty = leaks = 0
    timings: list[float] = []
    for sc in scenarios:
        items = to_items(sc["history"] + [sc["next_contact"]])
        message = sc["next_contact"]["text"]
        now = items[-1].occurred_at + timedelta(minutes=5)
        t0 = time.perf_counter()
        card = offline.analyse(items, now=now, relevant_ids=rank_relevant(items, message))
        timings.append(time.perf_counter() - t0)
        replies = offline.suggest(items=items, insights=card, message=message, channel=sc["next_contact"]["channel"],
                                  snippets=[], customer_name=sc["next_contact"]["customer"].get("name"))
        problems: list[str] = []
        summary = " ".join(card.summary.split()[:SUMMARY_WORDS])
        glance = norm(summary + " \n " + " \n ".join(f.value for f in card.facts[:MAX_FACTS]))
        for alternatives in sc["expect"].get("must_surface", []):
            total += 1
            if any(norm(a) in glance for a in alternatives):
                found += 1
            else:
                problems.append(f"not surfaced: {alternatives}")
        texts = [r.text for r in replies]
        if not any(t.strip() for t in texts):
            empty += 1
            problems.append("no suggested reply")
        for pattern in sc["expect"].get("must_not_ask", []):
            for text in texts:
                if re.search(pattern, text, re.IGNORECASE):
                    repeats += 1
                    problems.append(f"asks again ({pattern[:40]}): {text[:160]!r}")
        everything = norm(card.model_dump_json() + " " + " ".join(texts))
        for secret in sc["expect"].get("must_not_surface", []):
            if norm(secret) in everything:
                leaks += 1
                problems.append(f"leaked {secret!r}")
        if verbose and problems:
            print(sc["id"])
            for p in problems:
                print("   -", p)
        if verbose == 2:
            print("   SUMMARY:", card.summary)
            for f in card.facts:
                print("   FACT", f.kind, "|", f.value)
            for t in texts:
                print("   REPLY:", t.replace("\n", " / "))
    return {"recall": found / max(total, 1), "found": found, "total": total, "repeat_asks": repeats,
            "empty": empty, "leaks": leaks, "analyse_p95_ms": 1000 * sorted(timings)[int(0.95 * (len(timings) - 1))]}


def tweetsumm_items(dialog: dict) -> list[TimelineItem]:
    """Same conversion as score_tweetsumm.py's to_interactions."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    handle = "cust" + dialog["conversation_id"][:12]
    records = []
    for i, turn in enumerate(dialog["turns"]):
        inbound = turn["role"] == "customer"
        records.append({
            "source": "twitter", "external_id": str(turn["tweet_id"]), "channel": "social",
            "direction": "inbound" if inbound else "outbound", "author_role": "customer" if inbound else "agent",
            "author_name": handle if inbound else dialog.get("company") or "agent",
            "thread_id": dialog["conversation_id"],
            "text": turn["text"], "occurred_at": (start + timedelta(minutes=3 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        })
    return to_items(records)


def lead(dialog: dict) -> str:
    first_c = next((t["text"] for t in dialog["turns"] if t["role"] == "customer"), "")
    first_a = next((t["text"] for t in dialog["turns"] if t["role"] == "agent"), "")
    return MENTION.sub("", first_c + " " + first_a).strip()


def score_tweetsumm(path: Path, limit: int, verbose: bool) -> dict:
    from rouge_score import rouge_scorer

    dialogs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    dialogs = [d for d in dialogs if d.get("abstractive_summaries")]
    if limit:
        dialogs = dialogs[:limit]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    ours, base, words = [], [], []
    for d in dialogs:
        items = tweetsumm_items(d)
        card = offline.analyse(items, now=items[-1].occurred_at + timedelta(minutes=5))
        words.append(len(card.summary.split()))
        ours.append(max(scorer.score(ref, card.summary)["rougeL"].fmeasure for ref in d["abstractive_summaries"]))
        base.append(max(scorer.score(ref, lead(d))["rougeL"].fmeasure for ref in d["abstractive_summaries"]))
        if verbose == 2:
            print("OURS:", card.summary, "\nREF: ", d["abstractive_summaries"][0], "\n")
    o, b = 100 * statistics.mean(ours), 100 * statistics.mean(base)
    return {"dialogs": len(dialogs), "rougeL": o, "lead_rougeL": b, "ratio": o / max(b, 1e-9),
            "words": statistics.mean(words)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", type=Path, default=EVAL / "scenarios-dev.jsonl")
    ap.add_argument("--tweetsumm", type=Path, default=EVAL / "public" / "tweetsumm" / "dev.jsonl")
    ap.add_argument("--limit", type=int, default=0, help="TweetSumm dialogs (0 = all)")
    ap.add_argument("--skip", choices=["scenarios", "tweetsumm"])
    ap.add_argument("-v", "--verbose", action="count", default=0)
    args = ap.parse_args()
    sc = score_scenarios(args.scenarios, args.verbose) if args.skip != "scenarios" else {}
    ts = score_tweetsumm(args.tweetsumm, args.limit, args.verbose) if args.skip != "tweetsumm" else {}
    parts = []
    if sc:
        parts.append(f"fact_recall={sc['recall']:.3f} ({sc['found']}/{sc['total']}) repeat_asks={sc['repeat_asks']} "
                     f"empty={sc['empty']} leaks={sc['leaks']} analyse_p95_ms={sc['analyse_p95_ms']:.1f}")
    if ts:
        parts.append(f"tweetsumm dialogs={ts['dialogs']} rougeL={ts['rougeL']:.2f} lead_rougeL={ts['lead_rougeL']:.2f} "
                     f"ratio={ts['ratio']:.3f} summary_words={ts['words']:.0f}")
    print(" | ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
