"""One published bundled warehouse shared by the oil tests, copied into each test's WAREHOUSE_HOME."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.conftest import bundled_build


def bundled_home() -> Path:
    """The session's full bundled refresh (tests/conftest.py), built on first use."""
    return bundled_build()[0]


def start_from_baseline(warehouse_home: Path) -> Path:
    """Copy the published baseline into this test's WAREHOUSE_HOME; returns the published file."""
    shutil.copytree(bundled_home(), warehouse_home, symlinks=True)
    return warehouse_home / "warehouse.duckdb"


def source_dir(tmp: Path, source: str, files: dict[str, bytes]) -> Path:
    """A directory-mode root `<tmp>/src/` holding `<source>/<file>` for each file given."""
    root = tmp / "src"
    folder = root / source
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return root


def tree_bytes(root: Path) -> bytes:
    """Every byte under `root` (files only), for "the secret is nowhere" checks."""
    chunks = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            if path.is_file():
                chunks.append(path.read_bytes())
    return b"\n".join(chunks)
