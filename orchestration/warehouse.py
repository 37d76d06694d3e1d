"""Write, audit, publish: every run builds into its own copy; only a clean run replaces the published file.

    <home>/warehouse.duckdb                         the published file consumers open (read-only)
    <home>/builds/<run_id>/warehouse.duckdb         the run's build: a copy of the published file
    <home>/builds/<run_id>/reports/                 gate and load results collected for the report
    <home>/runs/<run_id>.json, <home>/last_run.json the run reports, published or not
    <home>/versions/<published_at>_<run_id>.duckdb the last WAREHOUSE_KEEP_VERSIONS published versions
                                                    (hard links: the current one costs no space)
    <home>/parquet/<run_id>/<mart>.parquet          every mart of a kept version as Parquet, with _version.json;
    <home>/parquet/current -> <run_id>              switched right after the DuckDB file, under the same lock
    <home>/report/<run_id>/index.html, *.png        a kept version's charts and static HTML report (orchestration/charts.py);
    <home>/report/current -> <run_id>               switched with parquet/current, followed by a rollback

The build starts as a byte copy of the published file, so history tables (designation changes,
list versions) carry over and a `--only` refresh keeps every other source as last published. The
published file is never opened for writing: publishing is `os.replace` of a checkpointed build, so
readers are never blocked and always see one whole version. A failed run leaves the published file
byte-identical; its build is kept as `builds/failed-latest/` for inspection.

One run writes to a home at a time, whoever launched it (the `warehouse` command, `dagster job
execute`, the UI, a schedule or sensor): a run takes the home's writer lock when it first writes its
build and holds it until it has published or failed; a second run waits for it. The lock is an
`flock`, so a killed run's lock goes with its process, and the next run removes the killed run's
build. Publishing is also compare-and-swap on the run id recorded inside the published file, so
even a run that got past the lock could never drop another run's version.

The build file keeps the name `warehouse.duckdb` so DuckDB's catalog name (the file stem) is the
same in the build and the published file, which keeps dbt's views valid after the move.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import duckdb

from orchestration.errors import PublishError
from orchestration.settings import Layout, duckdb_config

SCHEMAS = ("raw", "staging", "marts", "meta")
COUNTED_SCHEMAS = ("raw", "history", "marts")
STALE_BUILD_SECONDS = 24 * 3600  # only for build folders without an owner record (an older layout)
KEEP_VERSIONS = 5  # published versions kept under versions/ (WAREHOUSE_KEEP_VERSIONS)
WRITER_WAIT_SECONDS = 4 * 3600  # how long a run waits for another run's writer lock (WAREHOUSE_WRITER_WAIT)

# Which run published each version of the file, inside the file itself (the last row is this
# version), with that run's report: status and rollback read it from the file, never from beside it.
PUBLISHED_RUNS_DDL = """
create table if not exists meta.published_runs (
    run_id varchar not null,
    published_at timestamptz not null,
    base_run_id varchar,
    report json
)
"""
PUBLISHED_RUNS_UPGRADE = "alter table meta.published_runs add column if not exists report json"

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

# The row counts of the version a build started from, taken once when the build is made: every
# gate's floor and ceiling compare with these, never with whatever is published by then.
BASE_COUNTS_TABLE = "meta.base_row_counts"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _int_setting(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise PublishError(f"{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise PublishError(f"{name}={raw!r} must be at least 1")
    return value


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
    """Every table and view of the connection's own database (not of one it attached), as `schema.table`."""
    return {f"{s}.{t}" for s, t in con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = current_database()").fetchall()}


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows of every table (not view) in the raw, history and marts schemas, in one query."""
    names = [n for (n,) in con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        f"where table_schema in {COUNTED_SCHEMAS} and table_type = 'BASE TABLE' order by 1"
    ).fetchall()]
    if not names:
        return {}
    union = " union all ".join(f"select '{name}', count(*) from {name}" for name in names)
    return dict(sorted(con.execute(union).fetchall()))


def _published_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    if "meta.published_runs" not in tables_in(con):
        return []
    columns = {c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_schema = 'meta' and table_name = 'published_runs'"
    ).fetchall()}
    report = "report" if "report" in columns else "null"
    return con.execute(
        f"select run_id, published_at, base_run_id, {report} from meta.published_runs order by published_at desc"
    ).fetchall()


def _latest_run(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = _published_rows(con)
    return rows[0][0] if rows else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# The writer lock this process holds, per home, and the runs in this process that hold it.
_HELD: dict[Path, tuple[IO[str], set[str]]] = {}
# A run's build -> the connection `Warehouse.holding` keeps open for one step of this process.
_OPEN_BUILDS: dict[Path, duckdb.DuckDBPyConnection] = {}


class Warehouse:
    def __init__(self, layout: Layout):
        self.layout = layout

    # -- one writer at a time ---------------------------------------------------------------
    @property
    def writer_lock(self) -> Path:
        return self.layout.home / ".writer.lock"

    def acquire_writer(self, run_id: str, *, wait: bool = True) -> None:
        """Take the home's writer lock for `run_id` (re-entrant within this process).

        Another process's run holding it: wait for it (a note on stderr says which run), up to
        WAREHOUSE_WRITER_WAIT seconds, or refuse at once when `wait` is false.
        """
        home = self.layout.home
        held = _HELD.get(home)
        if held is not None:
            held[1].add(run_id)
            return
        home.mkdir(parents=True, exist_ok=True)
        handle = open(self.writer_lock, "a+")  # noqa: SIM115 (held past this call: until the run publishes or fails)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another run"
            if not wait:
                handle.close()
                raise PublishError(f"{holder} is writing to {home}; wait for it to finish") from None
            limit = _int_setting("WAREHOUSE_WRITER_WAIT", WRITER_WAIT_SECONDS)
            print(f"[warehouse] run {run_id} waits: {holder} is writing to {home}; this run then builds on "
                  "the version that one publishes", file=sys.stderr, flush=True)
            deadline = time.monotonic() + limit
            while True:
                time.sleep(0.5)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        handle.close()
                        raise PublishError(
                            f"run {run_id} waited {limit} s for {holder} to finish writing to {home}; nothing was "
                            "written. Run the refresh again once it has finished (or stop it)"
                        ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"run {run_id} (pid {os.getpid()})")
        handle.flush()
        _HELD[home] = (handle, {run_id})

    def busy(self) -> bool:
        """A run writes to this home now (it holds the writer lock), or left a build behind (a
        killed run's, which the next run removes and reports)."""
        if self.layout.home in _HELD:
            return True
        if self.layout.builds.exists() and any(p.name != "failed-latest" for p in self.layout.builds.iterdir()):
            return True
        if not self.writer_lock.exists():
            return False
        with open(self.writer_lock) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
        return False

    def release_writer(self, run_id: str) -> None:
        held = _HELD.get(self.layout.home)
        if held is None:
            return
        handle, runs = held
        runs.discard(run_id)
        if not runs:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
            del _HELD[self.layout.home]

    # -- build ---------------------------------------------------------------------------
    def build_dir(self, run_id: str) -> Path:
        return self.layout.builds / run_id

    def build_path(self, run_id: str) -> Path:
        return self.build_dir(run_id) / "warehouse.duckdb"

    def build_info(self, run_id: str) -> dict:
        """Who made the build and from which published version: pid, run_id, started_at, base_run_id."""
        path = self.build_dir(run_id) / "build.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def reports_dir(self, run_id: str) -> Path:
        path = self.build_dir(run_id) / "reports"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def ensure_build(self, run_id: str) -> Path:
        """The run's build database, created on first use as a copy of the published file.

        Takes the writer lock first (held until the run publishes or fails), removes the builds of
        runs whose process is gone, and records in the build the row counts it starts from.
        """
        self.acquire_writer(run_id)
        build = self.build_path(run_id)
        if build.exists():
            return build
        self._remove_dead_builds()
        build.parent.mkdir(parents=True, exist_ok=True)
        tmp = build.with_suffix(".copying")
        if self.layout.published.exists():
            shutil.copyfile(self.layout.published, tmp)
        con = duckdb.connect(str(tmp), config=duckdb_config())
        try:
            for schema in SCHEMAS:
                con.execute(f"create schema if not exists {schema}")
            con.execute(SOURCE_LOADS_DDL)
            con.execute(PUBLISHED_RUNS_DDL)
            con.execute(PUBLISHED_RUNS_UPGRADE)
            base = _latest_run(con)
            counts = table_counts(con)
            con.execute(f"create or replace table {BASE_COUNTS_TABLE} (table_name varchar primary key, row_count bigint not null)")
            if counts:
                con.executemany(f"insert into {BASE_COUNTS_TABLE} values (?, ?)", list(counts.items()))
            con.execute("checkpoint")
        finally:
            con.close()
        os.replace(tmp, build)
        # the version this run started from: publishing is refused if another run published since
        info = {"run_id": run_id, "pid": os.getpid(), "started_at": utcnow().isoformat(), "base_run_id": base}
        (build.parent / "build.json").write_text(json.dumps(info))
        return build

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder for this home's runs (its partial parse is reused from run to run)."""
        return self.layout.home / ".dbt-target"

    def link_dbt_build(self, run_id: str) -> Path:
        """`<home>/.dbt-build`, a link to the run's build folder: the one path dbt opens in every run."""
        link = self.layout.home / ".dbt-build"
        staged = self.layout.home / f".dbt-build-{run_id}"
        staged.unlink(missing_ok=True)
        os.symlink(self.build_dir(run_id), staged, target_is_directory=True)
        os.replace(staged, link)
        return link

    def _remove_dead_builds(self) -> None:
        """Builds of runs whose process is gone (killed, crashed, or failed with no failure sensor
        running): removed now, each with a run report saying so if it wrote none."""
        if not self.layout.builds.exists():
            return
        cutoff = time.time() - STALE_BUILD_SECONDS
        for folder in self.layout.builds.iterdir():
            if not folder.is_dir() or folder.name == "failed-latest":
                continue
            info = self.build_info(folder.name)
            if not info:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
                continue
            if info["pid"] == os.getpid() or _pid_alive(info["pid"]):
                continue
            self._report_abandoned(info)
            shutil.rmtree(folder, ignore_errors=True)

    def _report_abandoned(self, info: dict) -> None:
        run_id = info["run_id"]
        if (self.layout.run_reports / f"{run_id}.json").exists():
            return
        current = self.published_version()  # read only when a dead run has no report
        if current is not None and current["run_id"] == run_id and current["report"]:
            # killed after the publish rename: the file holds its report; only the copies beside it were missing
            self.save_report(current["report"])
            return
        self.save_report({
            "run_id": run_id, "finished_at": utcnow().isoformat(), "published": False,
            "error": f"the run's process (pid {info['pid']}) ended without publishing or reporting (killed or "
                     "crashed); its build was removed by the next run",
            "started_at": info.get("started_at"), "base_run_id": info.get("base_run_id"),
        })

    @contextmanager
    def connect(self, run_id: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived write connection to the run's build (callers sit in the writer pool);
        inside `holding(run_id)`, a cursor of the connection held open there."""
        build = self.ensure_build(run_id)
        held = _OPEN_BUILDS.get(build)
        con = held.cursor() if held is not None else duckdb.connect(str(build), config=duckdb_config())
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def holding(self, run_id: str) -> Iterator[None]:
        """One connection to the run's build for a whole step (a source's load): every `connect`
        in this process shares it, so the step opens the file once and checkpoints it once as the
        connection closes, not once per connect (about 14 ms and 7 ms each on a 25 MB build).
        Held by one step at a time, never across a step that hands the file to another process
        (the gates' worker, dbt): the open connection would keep them out."""
        build = self.ensure_build(run_id)
        if build in _OPEN_BUILDS:
            yield  # held further up this step
            return
        _OPEN_BUILDS[build] = duckdb.connect(str(build), config=duckdb_config())
        try:
            yield
        finally:
            _OPEN_BUILDS.pop(build).close()

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
    def publish(self, run_id: str, report: dict | None = None) -> dict:
        """Atomically replace the published file with this run's checkpointed build.

        The run's report (with the table counts, taken here once) is stored inside the file, then the
        file is renamed into place only if the published version is still the one the run started
        from; the version is kept under versions/. Returns the report as stored.
        """
        build = self.build_path(run_id)
        if not build.exists():
            raise PublishError(f"run {run_id} has no build to publish at {build}")
        base = self.build_info(run_id).get("base_run_id")
        published_at = utcnow()
        con = duckdb.connect(str(build), config=duckdb_config())
        try:
            con.execute(PUBLISHED_RUNS_DDL)
            con.execute(PUBLISHED_RUNS_UPGRADE)
            counts = table_counts(con)
            charts, figures = self._render_report(con, run_id, published_at)
            stored = {**(report or {}), "run_id": run_id, "published": True, "error": None,
                      "published_at": published_at.isoformat(), "finished_at": published_at.isoformat(),
                      "base_run_id": base, "warehouse": str(self.layout.published), "tables": counts,
                      "charts": charts, "key_figures": figures}
            con.execute("insert into meta.published_runs values (?, ?, ?, ?)",
                        [run_id, published_at, base, json.dumps(stored, default=str)])
            con.execute("checkpoint")
            parquet = self._export_parquet(con, run_id, published_at)
        finally:
            con.close()
        if not any(name.split(".")[0] in ("raw", "marts") for name in counts):
            raise PublishError(f"run {run_id}: the build has no raw or mart tables; refusing to publish it")
        wal = Path(str(build) + ".wal")
        if wal.exists():
            raise PublishError(f"run {run_id}: {wal} still exists after checkpoint; a writer is still open")
        staged = self.layout.home / f".warehouse.{run_id}.duckdb.tmp"
        with _file_lock(self.layout.home / ".publish.lock"):
            # compare and swap: the published version must still be the one this run started from
            current = self.published_version()
            if (current or {}).get("run_id") != base:
                raise PublishError(
                    f"run {run_id} started from the version published by {base or 'no run (empty home)'}, but run "
                    f"{current['run_id'] if current else None} has published since; publishing now would drop that "
                    "run's changes. Nothing was published and nothing is lost: run the refresh again"
                )
            if current is not None:
                self._keep_version(current)
            os.replace(build, staged)  # same filesystem: a rename, not a copy
            os.replace(staged, self.layout.published)
            self._switch_current(self.parquet_dir, parquet, run_id)
            self._switch_current(self.report_dir, self.build_dir(run_id) / "report", run_id)
            self._keep_version({"run_id": run_id, "published_at": published_at})
            self._prune_versions(run_id)
        return stored

    # -- Parquet -------------------------------------------------------------------------
    @property
    def parquet_dir(self) -> Path:
        return self.layout.home / "parquet"

    def _export_parquet(self, con: duckdb.DuckDBPyConnection, run_id: str, published_at: datetime) -> Path:
        """Every mart as Parquet, written into the build's folder (moved into place by the publish)."""
        folder = self.build_dir(run_id) / "parquet"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        marts = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_type = 'BASE TABLE' order by 1").fetchall()]
        for table in marts:
            con.execute(f"copy marts.{table} to '{folder / (table + '.parquet')}' (format parquet, compression zstd)")
        (folder / "_version.json").write_text(json.dumps(
            {"run_id": run_id, "published_at": published_at.isoformat(), "tables": marts,
             "warehouse": str(self.layout.published)}, indent=2))
        return folder

    def _switch_current(self, root: Path, folder: Path, run_id: str) -> None:
        """<root>/<run_id>/ holds a version's files (its Parquet set, its report), moved there from
        `folder` in the build; <root>/current, a symlink, is switched to it with one rename, right after
        the DuckDB file, under the same lock."""
        root.mkdir(parents=True, exist_ok=True)
        target = root / run_id
        if not target.exists():
            os.replace(folder, target)
        link = root / f".current-{os.getpid()}"
        link.unlink(missing_ok=True)
        link.symlink_to(run_id, target_is_directory=True)
        os.replace(link, root / "current")

    def parquet_version(self) -> str | None:
        """The run id of the Parquet set parquet/current points at, or None."""
        current = self.parquet_dir / "current"
        return os.readlink(current) if current.is_symlink() else None

    # -- charts and report -----------------------------------------------------------------
    @property
    def report_dir(self) -> Path:
        return self.layout.home / "report"

    def _render_report(self, con: duckdb.DuckDBPyConnection, run_id: str, published_at: datetime) -> tuple[list[dict], list[dict]]:
        """The version's charts and index.html, written into the build's folder (moved into place by
        the publish). Returns per chart its file, title and whether it had data, and the key figures,
        for the run report."""
        from orchestration.charts import render_report  # matplotlib is loaded only to publish

        folder = self.build_dir(run_id) / "report"
        shutil.rmtree(folder, ignore_errors=True)
        rendered = render_report(con, folder, run_id=run_id, published_at=published_at)
        charts = [{key: chart[key] for key in ("file", "title", "has_data", "note", "is_sample")}
                  for chart in rendered["charts"]]
        return charts, rendered["key_figures"]

    def report_version(self) -> str | None:
        """The run id of the report report/current points at, or None."""
        current = self.report_dir / "current"
        return os.readlink(current) if current.is_symlink() else None

    # -- versions ------------------------------------------------------------------------
    @property
    def versions_dir(self) -> Path:
        return self.layout.home / "versions"

    def _version_path(self, version: dict) -> Path:
        at = version["published_at"]
        stamp = (at if isinstance(at, datetime) else datetime.fromisoformat(str(at))).astimezone(UTC)
        return self.versions_dir / f"{stamp:%Y%m%dT%H%M%S%fZ}_{version['run_id']}.duckdb"

    def _keep_version(self, version: dict) -> None:
        """The published file, kept under versions/ as a hard link (no copy; the published file is
        never written in place, only replaced)."""
        target = self._version_path(version)
        if target.exists():
            return
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self.layout.published, target)
        except OSError:  # a filesystem without hard links
            shutil.copyfile(self.layout.published, target)

    def _prune_versions(self, current_run: str) -> None:
        keep = _int_setting("WAREHOUSE_KEEP_VERSIONS", KEEP_VERSIONS)
        kept = self.versions()
        for version in kept[:-keep] if len(kept) > keep else []:
            if version["run_id"] != current_run:
                version["path"].unlink(missing_ok=True)
        # a Parquet set and a report are kept as long as their version is (the current one always)
        wanted = {v["run_id"] for v in self.versions()} | {current_run}
        for root in (self.parquet_dir, self.report_dir):
            for folder in root.iterdir() if root.exists() else []:
                if folder.is_dir() and not folder.is_symlink() and folder.name not in wanted:
                    shutil.rmtree(folder, ignore_errors=True)

    def versions(self) -> list[dict]:
        """The kept published versions, oldest first: run_id, published_at, path."""
        if not self.versions_dir.exists():
            return []
        found = []
        for path in sorted(self.versions_dir.glob("*.duckdb")):
            stamp, _, run_id = path.stem.partition("_")
            found.append({"run_id": run_id, "published_at": datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ")
                          .replace(tzinfo=UTC), "path": path})
        return found

    def rollback(self, run_id: str | None = None) -> tuple[dict, dict]:
        """Make a kept version current, atomically (a copy renamed into place): the given run's, or
        the one published before the current one. Refused while a run is writing. Returns
        (from, to) versions."""
        self.acquire_writer("rollback", wait=False)
        try:
            with _file_lock(self.layout.home / ".publish.lock"):
                current = self.published_version()
                if current is None:
                    raise PublishError(f"nothing is published under {self.layout.home}; nothing to roll back")
                self._keep_version(current)
                kept = self.versions()
                if run_id is None:
                    older = [v for v in kept if v["published_at"] < current["published_at"]
                             and v["run_id"] != current["run_id"]]
                    if not older:
                        raise PublishError(f"no version older than the current one (run {current['run_id']}) is kept "
                                           f"under {self.versions_dir}")
                    target = older[-1]
                else:
                    matches = [v for v in kept if v["run_id"] == run_id] or [v for v in kept if v["run_id"].startswith(run_id)]
                    if len({v["run_id"] for v in matches}) != 1:
                        listing = ", ".join(v["run_id"] for v in kept) or "none"
                        raise PublishError(f"{'no' if not matches else 'more than one'} kept version matches run "
                                           f"{run_id!r}; kept versions (oldest first): {listing}")
                    target = matches[-1]
                if target["run_id"] == current["run_id"]:
                    raise PublishError(f"run {run_id} is already the published version")
                staged = self.layout.home / f".warehouse.rollback-{os.getpid()}.duckdb.tmp"
                shutil.copyfile(target["path"], staged)
                restored = self._version_in(staged)
                os.replace(staged, self.layout.published)
                for root in (self.parquet_dir, self.report_dir):
                    if (root / target["run_id"]).is_dir():
                        self._switch_current(root, root / target["run_id"], target["run_id"])
                    else:  # a version from before Parquet sets (or reports) were kept: none matches it, so none is current
                        (root / "current").unlink(missing_ok=True)
            event = {"rolled_back_at": utcnow().isoformat(), "from_run_id": current["run_id"],
                     "to_run_id": target["run_id"]}
            with open(self.layout.home / "rollbacks.jsonl", "a") as log:
                log.write(json.dumps(event) + "\n")
            if restored and restored["report"]:
                (self.layout.home / "published_run.json").write_text(json.dumps(restored["report"], indent=2, default=str))
            return current, {**target, **(restored or {})}
        finally:
            self.release_writer("rollback")

    def published_tables(self) -> set[str]:
        """Every table and view of the published file (none before the first publish)."""
        with self.read_published() as con:
            return set() if con is None else tables_in(con)

    def published_version(self) -> dict | None:
        """The current version, from inside the published file: run_id, published_at, base_run_id,
        report (None for a file published before reports were stored in it)."""
        return self._version_in(self.layout.published)

    @staticmethod
    def _version_in(path: Path) -> dict | None:
        if not path.exists():
            return None
        con = duckdb.connect(str(path), read_only=True)
        try:
            rows = _published_rows(con)
        finally:
            con.close()
        if not rows:
            return None
        run_id, published_at, base, report = rows[0]
        return {"run_id": run_id, "published_at": published_at, "base_run_id": base,
                "report": json.loads(report) if report else None}

    def published_run_id(self) -> str | None:
        """The run that published the current file (recorded inside it), or None."""
        version = self.published_version()
        return version["run_id"] if version else None

    def discard(self, run_id: str) -> Path | None:
        """Keep a failed run's build for inspection as builds/failed-latest (one at a time)."""
        folder = self.build_dir(run_id)
        try:
            if not folder.exists():
                return None
            target = self.layout.builds / "failed-latest"
            shutil.rmtree(target, ignore_errors=True)
            os.replace(folder, target)
            return target
        finally:
            self.release_writer(run_id)

    def finish(self, run_id: str) -> None:
        shutil.rmtree(self.build_dir(run_id), ignore_errors=True)
        self.release_writer(run_id)

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

    def save_report(self, report: dict) -> None:
        """runs/<run_id>.json for every run, last_run.json for the latest, published_run.json if published."""
        self.layout.run_reports.mkdir(parents=True, exist_ok=True)
        text = json.dumps(report, indent=2, default=str)
        (self.layout.run_reports / f"{report['run_id']}.json").write_text(text)
        (self.layout.home / "last_run.json").write_text(text)
        if report.get("published"):
            (self.layout.home / "published_run.json").write_text(text)
