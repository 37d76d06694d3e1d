"""Readers of the published file are never blocked by a refresh and always see one whole version.

The real 2024-01-18 list is published first; then `warehouse refresh --only ofac` on the
2024-01-22 list runs as a separate process while this process keeps opening the published file
read-only and reading three tables in one connection. Every reading must be either all old
(13,848 entries) or all new (13,869): never a lock error, never a mix.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO, real_baseline, shared_path

OLD, NEW = 13848, 13869
WHOLE_VERSIONS = {(OLD, OLD, OLD), (NEW, NEW, NEW)}
DEADLINE_SECONDS = 180
QUERIES = (
    "select count(*) from raw.ofac_sdn",
    "select count(*) from marts.dim_sanctioned_entity where is_listed",
    "select max(entity_count) from marts.fct_ofac_list_versions "
    "where observed_at = (select max(observed_at) from marts.fct_ofac_list_versions)",
)


def snapshot_dir(tmp_path: Path, snapshot: str) -> Path:
    """A directory-mode folder whose `ofac/` is the real snapshot."""
    root = tmp_path / snapshot
    root.mkdir()
    (root / "ofac").symlink_to(shared_path("ofac", snapshot))
    return root


def reading(published: Path) -> tuple[int, ...]:
    """One consistent reading: the three counts through one read-only connection."""
    con = duckdb.connect(str(published), read_only=True)
    try:
        return tuple(con.execute(sql).fetchall()[0][0] for sql in QUERIES)
    finally:
        con.close()


def test_readers_see_whole_versions_during_a_refresh(dbt_manifest, warehouse_home: Path, tmp_path: Path):
    second = snapshot_dir(tmp_path, "snapshot-2024-01-22")
    shutil.copytree(real_baseline(), warehouse_home, symlinks=True)  # the real list of 2024-01-18, published
    published = warehouse_home / "warehouse.duckdb"
    assert reading(published) == (OLD, OLD, OLD)

    env = {**os.environ, "WAREHOUSE_HOME": str(warehouse_home), "WAREHOUSE_SOURCES": str(second)}
    env.pop("DAGSTER_HOME", None)
    log_out, log_err = tmp_path / "refresh.out", tmp_path / "refresh.err"
    readings: list[tuple[int, ...]] = []
    errors: list[str] = []
    with open(log_out, "wb") as stdout, open(log_err, "wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "refresh", "--only", "ofac"],
            cwd=REPO,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
        started = time.monotonic()
        try:
            while child.poll() is None:
                if time.monotonic() - started > DEADLINE_SECONDS:
                    pytest.fail(f"the refresh did not finish within {DEADLINE_SECONDS} s")
                try:
                    readings.append(reading(published))
                except duckdb.Error as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                time.sleep(0.02)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=30)
    final = reading(published)
    tail = f"\n--- refresh stderr (tail) ---\n{log_err.read_text(errors='replace')[-3000:]}"

    assert child.returncode == 0, f"the refresh failed (exit {child.returncode}){tail}"
    assert not errors, f"{len(errors)} of {len(readings) + len(errors)} readings failed, first: {errors[0]}"
    mixed = [r for r in readings if r not in WHOLE_VERSIONS]
    assert not mixed, f"readings mixing versions: {sorted(set(mixed))[:5]}"
    assert len(readings) >= 5, f"only {len(readings)} readings were taken while the refresh ran"
    assert readings[0] == (OLD, OLD, OLD), "the first reading, taken as the refresh started, must be the old version"
    print(f"{len(readings)} readings: {readings.count((OLD, OLD, OLD))} old, {readings.count((NEW, NEW, NEW))} new")
    assert final == (NEW, NEW, NEW)
    # the readings never go back: old ... old, new ... new
    assert readings == sorted(readings), "a reader saw the old version after the new one"
