"""What the service writes to disk is readable by its owner only: the database, the index, the key file."""
from __future__ import annotations

import stat
from pathlib import Path

from tests.indexing.test_service import env_of, run_cli


def test_data_directory_files_are_private(settings_factory) -> None:  # noqa: ANN001 - fixture
    settings = settings_factory()
    result = run_cli(env_of(settings), "reindex", "--json")
    assert result.returncode == 0, result.stderr
    written = [p for p in Path(settings.data_dir).rglob("*")]
    assert any(p.suffix == ".db" for p in written)
    exposed = [str(p) for p in written if p.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)]
    assert exposed == []
