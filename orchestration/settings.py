"""The two settings that decide where a run reads from and writes to.

WAREHOUSE_SOURCES: `bundled` (the sample shipped in the repo), `live` (the publishers), or a
directory holding `<source>/<publisher's file name>`.
WAREHOUSE_HOME: landing zone, build databases, published warehouse and run reports.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"

# What builds the warehouse from its inputs: a published version made by other code (parsers,
# models, seeds, suites) is rebuilt even when no input changed
CODE_FILES = (
    (REPO_ROOT / "orchestration", "**/*.py"),
    (DBT_PROJECT_DIR, "dbt_project.yml"),
    *((DBT_PROJECT_DIR / part, "**/*") for part in ("models", "macros", "seeds", "snapshots", "tests")),
    (EXPECTATIONS_DIR, "**/*.json"),
)

BUNDLED = "bundled"
LIVE = "live"
DIRECTORY = "directory"


class SettingsError(ValueError):
    """A setting has a value the warehouse cannot use."""


@dataclass(frozen=True)
class SourceMode:
    kind: str  # bundled | live | directory
    directory: Path | None = None

    def describe(self) -> str:
        return f"directory {self.directory}" if self.kind == DIRECTORY else self.kind


def source_mode(value: str | None = None) -> SourceMode:
    raw = value if value is not None else os.environ.get("WAREHOUSE_SOURCES", BUNDLED)
    raw = raw.strip()
    if raw in (BUNDLED, LIVE):
        return SourceMode(raw)
    if not raw:
        raise SettingsError("WAREHOUSE_SOURCES is empty: use 'bundled', 'live' or a directory path")
    directory = Path(raw).expanduser().resolve()
    if not directory.is_dir():
        raise SettingsError(
            f"WAREHOUSE_SOURCES={raw!r} is neither 'bundled' nor 'live' nor an existing directory"
        )
    return SourceMode(DIRECTORY, directory)


MEMORY_LIMIT = "2GB"  # DuckDB's own default is 80% of RAM: a 5-million-row backfill took 18 GB
MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def duckdb_memory_limit(value: str | None = None) -> str:
    """WAREHOUSE_DUCKDB_MEMORY: the most memory DuckDB may use in a build connection or in dbt
    (default 2GB); past it, DuckDB spills to a temporary folder beside the database."""
    raw = (value if value is not None else os.environ.get("WAREHOUSE_DUCKDB_MEMORY", MEMORY_LIMIT)).strip()
    if not MEMORY_SIZE.fullmatch(raw):
        raise SettingsError(f"WAREHOUSE_DUCKDB_MEMORY={raw!r} is not a memory size such as 2GB or 512MB")
    return raw


def duckdb_config() -> dict[str, str]:
    """The settings of every DuckDB connection that writes a build."""
    return {"memory_limit": duckdb_memory_limit()}


def warehouse_home(value: str | None = None) -> Path:
    raw = value if value is not None else os.environ.get("WAREHOUSE_HOME", "data")
    return Path(raw).expanduser().resolve()


@dataclass(frozen=True)
class Layout:
    """Where every file of a warehouse home lives."""

    home: Path

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def published(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def builds(self) -> Path:
        return self.home / "builds"

    @property
    def run_reports(self) -> Path:
        return self.home / "runs"


def layout(home: str | Path | None = None) -> Layout:
    return Layout(warehouse_home(str(home)) if home is not None else warehouse_home())


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 over the path and bytes of every file that turns inputs into tables (CODE_FILES)."""
    digest = hashlib.sha256()
    for root, pattern in CODE_FILES:
        for path in sorted(p for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts):
            digest.update(f"{path.relative_to(REPO_ROOT)}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
