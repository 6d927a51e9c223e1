"""An app with the real MiniLM embedder, for the tests where ranking by meaning matters."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api


@pytest.fixture(scope="session")
def minilm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export of the packaged model for the whole session (a few seconds)."""
    return tmp_path_factory.mktemp("minilm-cache")


@pytest.fixture
def minilm_api(settings_factory, tmp_path: Path, minilm_cache: Path) -> Iterator[Api]:  # noqa: ANN001
    from copilot.main import create_app

    settings = settings_factory(OMNICOPILOT_DATABASE_URL=f"sqlite:///{tmp_path / 'minilm.db'}",
                                OMNICOPILOT_EMBEDDING_BACKEND="minilm", OMNICOPILOT_CACHE_DIR=minilm_cache)
    with TestClient(create_app(settings)) as client:
        yield Api(client)
