"""The packaged MiniLM, offline: ONNX and torch give the same vectors, and meaning is captured."""
from __future__ import annotations

from pathlib import Path

import pytest

from copilot.indexing.embeddings import HashingEmbedder, OmnicopilotEmbeddingFunction, OnnxMiniLM, TorchMiniLM


@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory: pytest.TempPathFactory) -> OnnxMiniLM:
    return OnnxMiniLM(tmp_path_factory.mktemp("cache"))


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_onnx_export_matches_sentence_transformers(onnx_model: OnnxMiniLM) -> None:
    texts = ["My parcel A-10293 never arrived", "internet drops every evening between 7 and 11pm",
             "¿Dónde está mi pedido?", ""]
    onnx_vectors = onnx_model.embed(texts)
    torch_vectors = TorchMiniLM().embed(texts)
    assert [len(v) for v in onnx_vectors] == [384] * 4
    for a, b in zip(onnx_vectors, torch_vectors, strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-4


def test_minilm_ranks_by_meaning_not_words(onnx_model: OnnxMiniLM) -> None:
    anchor, same, other = onnx_model.embed(["my package has not been delivered yet",
                                            "the shipment never arrived at my door",
                                            "how do I change my password"])
    assert cosine(anchor, same) > cosine(anchor, other) + 0.2


def test_the_export_is_reused_from_the_cache(onnx_model: OnnxMiniLM, tmp_path: Path) -> None:
    first = OnnxMiniLM(tmp_path)
    exported = list(tmp_path.glob("*.onnx"))
    assert len(exported) == 1
    mtime = exported[0].stat().st_mtime_ns
    OnnxMiniLM(tmp_path)
    assert exported[0].stat().st_mtime_ns == mtime
    assert first.embed(["x"]) == onnx_model.embed(["x"])


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    embedder = HashingEmbedder()
    a, b = embedder.embed(["refund order 1"]), embedder.embed(["refund order 1"])
    assert a == b and abs(cosine(a[0], a[0]) - 1.0) < 1e-9


def test_chroma_gets_our_registered_function_and_never_its_default() -> None:
    from chromadb.utils.embedding_functions import known_embedding_functions

    assert known_embedding_functions["omnicopilot"] is OmnicopilotEmbeddingFunction
    function = OmnicopilotEmbeddingFunction.build_from_config({"backend": "hashing", "cache_dir": None})
    assert function.get_config() == {"backend": "hashing", "cache_dir": None}
    assert len(function(["hello"])[0]) == 384


def test_the_int8_model_is_made_once_and_stays_close_to_the_full_one(onnx_model: OnnxMiniLM,
                                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    cache = tmp_path_factory.mktemp("int8-cache")
    int8 = OnnxMiniLM(cache, int8=True)
    assert int8.name == "minilm-int8"
    assert sorted(p.name.endswith("-int8.onnx") for p in cache.glob("*.onnx")) == [False, True]
    texts = ["my package has not been delivered yet", "the shipment never arrived at my door",
             "how do I change my password", "Mein Router blinkt rot seit dem Update"]
    for full, small in zip(onnx_model.embed(texts), int8.embed(texts), strict=True):
        assert cosine(full, small) > 0.9
    anchor, same, other, _ = int8.embed(texts)
    assert cosine(anchor, same) > cosine(anchor, other) + 0.2  # still ranks by meaning
    again = OnnxMiniLM(cache, int8=True)  # made once: reused from the cache
    assert len(list(cache.glob("*.onnx"))) == 2
    assert again.embed(texts[:1]) == int8.embed(texts[:1])
