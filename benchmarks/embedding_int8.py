"""`minilm-int8` against `minilm`: speed on one thread, and how far the vectors move.

Embeds the turns of a dialogs file (TweetSumm JSONL: `{"turns": [{"text": ...}]}`) with both models on one
thread each (as a worker runs them) and prints sentences per second, the mean cosine between the two models'
vectors of a sentence, and how many of each sentence's 5 nearest neighbours the int8 model keeps.

    .venv/bin/python benchmarks/embedding_int8.py [--dialogs ../shared/eval/public/tweetsumm/dev.jsonl]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from copilot.indexing.embeddings import OnnxMiniLM  # noqa: E402


def turns(path: Path, limit: int) -> list[str]:
    texts: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            texts += [t["text"] for t in json.loads(line)["turns"] if t.get("text", "").strip()]
            if len(texts) >= limit:
                break
    return texts[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dialogs", type=Path, default=ROOT.parent / "shared/eval/public/tweetsumm/dev.jsonl")
    parser.add_argument("--sentences", type=int, default=2000)
    args = parser.parse_args()
    texts = turns(args.dialogs, args.sentences)
    cache = Path(tempfile.mkdtemp(prefix="omnicopilot-int8-"))
    vectors = {}
    for name, int8 in (("minilm", False), ("minilm-int8", True)):
        model = OnnxMiniLM(cache, threads=1, int8=int8)
        model.embed(texts[:32])  # warm up
        started = time.perf_counter()
        vectors[name] = np.asarray(model.embed(texts), dtype=np.float32)
        print(f"{name:12s} {len(texts) / (time.perf_counter() - started):6.1f} sentences/s (1 thread)")
    full, small = vectors["minilm"], vectors["minilm-int8"]
    cosines = (full * small).sum(axis=1)

    def top5(v: np.ndarray) -> np.ndarray:
        sims = v @ v.T
        np.fill_diagonal(sims, -np.inf)
        return np.argsort(-sims, axis=1)[:, :5]

    kept = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(top5(full), top5(small), strict=True)])
    print(f"sentences={len(texts)} mean_cosine={cosines.mean():.4f} min_cosine={cosines.min():.4f} "
          f"top5_neighbours_kept={kept:.3f}")


if __name__ == "__main__":
    main()
