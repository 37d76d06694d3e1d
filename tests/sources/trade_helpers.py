"""Shared by the IMF and Comtrade tests: land files as a source mode would, and trade directories."""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestration.landing import LandedFile, LandingZone
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures"
SAMPLE = REPO / "orchestration" / "sample"


def land(tmp_path: Path, source: str, files: dict[str, bytes | Path], expect: str) -> dict[str, LandedFile]:
    """Land bytes under the given publisher file names, as directory mode does."""
    zone = LandingZone(tmp_path / "landing")
    folder = tmp_path / "in" / source
    folder.mkdir(parents=True, exist_ok=True)
    landed = {}
    for name, content in files.items():
        (folder / name).write_bytes(content.read_bytes() if isinstance(content, Path) else content)
        landed[name] = zone.land_local(source, name, folder / name, "directory", expect)
    return landed


def trade_dir(tmp_path: Path, name: str = "src") -> Path:
    """A directory-mode root holding copies of the bundled IMF and Comtrade samples."""
    root = tmp_path / name
    for source in ("imf", "comtrade"):
        shutil.copytree(SAMPLE / source, root / source, ignore=shutil.ignore_patterns("README.md"))
    return root
