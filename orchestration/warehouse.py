"""Write, audit, publish: every run builds into its own copy; only a clean run replaces the published file.

    <home>/warehouse.duckdb                         the published file consumers open (read-only)
    <home>/builds/<run_id>/warehouse.duckdb         the run's build: a copy of the published file
    <home>/builds/<run_id>/reports/                 gate and load results collected for the report
    <home>/runs/<run_id>.json, <home>/last_run.json the run reports, published or not

The build starts as a byte copy of the published file, so history tables (designation changes,
list versions) carry over and a `--only` refresh keeps every other source as last published. The
published file is never opened for writing: publishing is `os.replace` of a checkpointed build, so
readers are never blocked and always see one whole version. A failed run leaves the published file
byte-identical; its build is kept as `builds/failed-latest/` for inspection.

The build file keeps the name `warehouse.duckdb` so DuckDB's catalog name (the file stem) is the
same in the build and the published file, which keeps dbt's views valid after the move.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb

from orchestration.errors import PublishError
from orchestration.settings import Layout

SCHEMAS = ("raw", "staging", "marts", "meta")
STALE_BUILD_SECONDS = 24 * 3600

# Which run published each version of the file, inside the file itself (the last row is this version).
PUBLISHED_RUNS_DDL = """
create table if not exists meta.published_runs (
    run_id varchar not null,
    published_at timestamptz not null,
    base_run_id varchar
)
"""

SOURCE_LOADS_DDL = """
create table if not exists meta.source_loads (
    source varchar not null,
    table_name varchar not null,
    row_count bigint not null,
    files json not null,
    source_mode varchar not null,
    is_sample boolean not null,
    run_id varchar not null,
    loaded_at timestamptz not null
)
"""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def tables_in(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every table and view of a warehouse connection, as `schema.table`."""
    return {f"{s}.{t}" for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()}


def _latest_run(con: duckdb.DuckDBPyConnection) -> str | None:
    if "meta.published_runs" not in tables_in(con):
        return None
    row = con.execute("select run_id from meta.published_runs order by published_at desc limit 1").fetchall()
    return row[0][0] if row else None


class Warehouse:
    def __init__(self, layout: Layout):
        self.layout = layout

    # -- build ---------------------------------------------------------------------------
    def build_dir(self, run_id: str) -> Path:
        return self.layout.builds / run_id

    def build_path(self, run_id: str) -> Path:
        return self.build_dir(run_id) / "warehouse.duckdb"

    def reports_dir(self, run_id: str) -> Path:
        path = self.build_dir(run_id) / "reports"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def ensure_build(self, run_id: str) -> Path:
        """The run's build database, created on first use as a copy of the published file."""
        build = self.build_path(run_id)
        with _file_lock(self.layout.builds / ".lock"):
            if build.exists():
                return build
            self._remove_stale_builds()
            build.parent.mkdir(parents=True, exist_ok=True)
            tmp = build.with_suffix(".copying")
            if self.layout.published.exists():
                shutil.copyfile(self.layout.published, tmp)
            con = duckdb.connect(str(tmp))
            try:
                for schema in SCHEMAS:
                    con.execute(f"create schema if not exists {schema}")
                con.execute(SOURCE_LOADS_DDL)
                con.execute(PUBLISHED_RUNS_DDL)
                base = _latest_run(con)
                con.execute("checkpoint")
            finally:
                con.close()
            os.replace(tmp, build)
            (build.parent / "started_at").write_text(utcnow().isoformat())
            # the version this run started from: publishing is refused if another run published since
            (build.parent / "base_run_id").write_text(base or "")
        return build

    def _remove_stale_builds(self) -> None:
        if not self.layout.builds.exists():
            return
        cutoff = time.time() - STALE_BUILD_SECONDS
        for folder in self.layout.builds.iterdir():
            if folder.is_dir() and folder.name != "failed-latest" and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def connect(self, run_id: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived write connection to the run's build (callers sit in the writer pool)."""
        con = duckdb.connect(str(self.ensure_build(run_id)))
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def read_published(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """Read-only view of the published file, or None before the first publish."""
        if not self.layout.published.exists():
            yield None
            return
        con = duckdb.connect(str(self.layout.published), read_only=True)
        try:
            yield con
        finally:
            con.close()

    # -- publish -------------------------------------------------------------------------
    def publish(self, run_id: str) -> Path:
        """Atomically replace the published file with this run's checkpointed build."""
        build = self.build_path(run_id)
        if not build.exists():
            raise PublishError(f"run {run_id} has no build to publish at {build}")
        base = (self.build_dir(run_id) / "base_run_id").read_text() or None
        con = duckdb.connect(str(build))
        try:
            con.execute(PUBLISHED_RUNS_DDL)
            con.execute("insert into meta.published_runs values (?, ?, ?)", [run_id, utcnow(), base])
            con.execute("checkpoint")
            tables = con.execute(
                "select count(*) from information_schema.tables where table_schema in ('raw', 'marts')"
            ).fetchall()[0][0]
        finally:
            con.close()
        if tables == 0:
            raise PublishError(f"run {run_id}: the build has no raw or mart tables; refusing to publish it")
        wal = Path(str(build) + ".wal")
        if wal.exists():
            raise PublishError(f"run {run_id}: {wal} still exists after checkpoint; a writer is still open")
        staged = self.layout.home / f".warehouse.{run_id}.duckdb.tmp"
        with _file_lock(self.layout.home / ".publish.lock"):
            # compare and swap: the published version must still be the one this run started from
            current = self.published_run_id()
            if current != base:
                raise PublishError(
                    f"run {run_id} started from the version published by {base or 'no run (empty home)'}, but run "
                    f"{current} has published since; publishing now would drop that run's changes. Nothing was "
                    "published and nothing is lost: run the refresh again"
                )
            os.replace(build, staged)  # same filesystem: a rename, not a copy
            os.replace(staged, self.layout.published)
        return self.layout.published

    def published_tables(self) -> set[str]:
        """Every table and view of the published file (none before the first publish)."""
        with self.read_published() as con:
            return set() if con is None else tables_in(con)

    def published_run_id(self) -> str | None:
        """The run that published the current file (recorded inside it), or None."""
        with self.read_published() as con:
            return None if con is None else _latest_run(con)

    def discard(self, run_id: str) -> Path | None:
        """Keep a failed run's build for inspection as builds/failed-latest (one at a time)."""
        folder = self.build_dir(run_id)
        if not folder.exists():
            return None
        target = self.layout.builds / "failed-latest"
        shutil.rmtree(target, ignore_errors=True)
        os.replace(folder, target)
        return target

    def finish(self, run_id: str) -> None:
        shutil.rmtree(self.build_dir(run_id), ignore_errors=True)

    # -- records -------------------------------------------------------------------------
    def record_report(self, run_id: str, name: str, payload: dict) -> None:
        path = self.reports_dir(run_id) / f"{name}.json"
        path.write_text(json.dumps(payload, indent=2, default=str))

    def collected_reports(self, run_id: str) -> list[dict]:
        folder = self.build_dir(run_id) / "reports"
        if not folder.exists():
            folder = self.layout.builds / "failed-latest" / "reports"
        if not folder.exists():
            return []
        return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
