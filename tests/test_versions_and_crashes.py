"""Immutable published versions, one writer per home, and runs that die: nothing lost, nothing stale.

Every test here uses real processes (a run is a process; killing one is SIGKILL) and real DuckDB
files. The builds are small: the behaviour under test is the run path, not the marts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main
from orchestration.errors import PublishError
from orchestration.loading import base_row_count
from orchestration.settings import layout
from orchestration.warehouse import Warehouse
from tests.conftest import REPO, sha256_of
from tests.conftest import query_file as query


def build_with(store: Warehouse, run_id: str, rows: int) -> None:
    """A build of `rows` OFAC rows, plus one more list version in a history-like mart."""
    with store.connect(run_id) as con:
        con.execute(f"create or replace table raw.ofac_sdn as select range as ent_num from range({rows})")
        con.execute("create table if not exists marts.versions (run_id varchar)")
        con.execute("insert into marts.versions values (?)", [run_id])


def published(store: Warehouse, run_id: str, rows: int) -> dict:
    build_with(store, run_id, rows)
    report = store.publish(run_id, {"gates": []})
    store.save_report(report)
    store.finish(run_id)
    return report


def in_process(code: str, home: Path, **env: str) -> subprocess.Popen:
    """A Python process working on `home`: the stand-in for another run (same code path as a run)."""
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, env={**os.environ, "WAREHOUSE_HOME": str(home), **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


HOLD_A_BUILD = """
import sys, time
from orchestration.settings import layout
from orchestration.warehouse import Warehouse
store = Warehouse(layout())
with store.connect("run-other") as con:
    con.execute("create or replace table raw.ofac_sdn as select range as ent_num from range(7)")
print("holding", flush=True)
time.sleep(120)
"""


def wait_for(process: subprocess.Popen, line: str) -> None:
    assert process.stdout is not None
    got = process.stdout.readline().strip()
    assert got == line, (got, process.stderr.read() if process.poll() is not None else "")


@pytest.fixture
def store(tmp_path) -> Warehouse:
    return Warehouse(layout(tmp_path / "home"))


def test_the_gates_compare_with_the_version_the_build_started_from(store):
    published(store, "run-0", 1000)
    build_with(store, "run-a", 1000)  # run-a starts from run-0's 1,000 rows
    with store.connect("run-a") as con:
        assert base_row_count(con, "raw.ofac_sdn") == 1000
        assert base_row_count(con, "raw.never_there") is None
    # another version is published meanwhile (here by hand: the writer lock is per process)
    published(store, "run-b", 30)
    with store.connect("run-a") as con:
        # still run-0's count: a gate never judges a build against a version it does not build on
        assert base_row_count(con, "raw.ofac_sdn") == 1000
    with pytest.raises(PublishError, match="run run-b has published since"):
        store.publish("run-a")


def test_one_writer_per_home_whoever_launched_it(store, tmp_path):
    published(store, "run-0", 10)
    other = in_process(HOLD_A_BUILD, store.layout.home)
    try:
        wait_for(other, "holding")
        # a process that does not hold the lock: refused at once when it must not wait ...
        probe = in_process(
            "from orchestration.settings import layout\nfrom orchestration.warehouse import Warehouse\n"
            "Warehouse(layout()).acquire_writer('run-probe', wait=False)",
            store.layout.home,
        )
        assert probe.wait(timeout=60) == 1
        assert f"run run-other (pid {other.pid}) is writing to {store.layout.home}" in probe.stderr.read()
        # ... and a run that waits gives up after WAREHOUSE_WRITER_WAIT seconds, naming the holder
        waiter = in_process(
            "from orchestration.settings import layout\nfrom orchestration.warehouse import Warehouse\n"
            "Warehouse(layout()).ensure_build('run-late')",
            store.layout.home, WAREHOUSE_WRITER_WAIT="1",
        )
        assert waiter.wait(timeout=60) == 1
        err = waiter.stderr.read()
        assert "run run-late waits: run run-other" in err and "waited 1 s for run run-other" in err
        assert not (store.layout.builds / "run-late").exists()
        # a rollback is refused while a run writes
        assert main_in(store, ["rollback"]) == 2
    finally:
        other.kill()
        other.wait()
    # the holder was killed: its lock went with it; the next run removes its build and reports it
    assert (store.layout.builds / "run-other" / "warehouse.duckdb").exists()
    store.ensure_build("run-next")
    assert not (store.layout.builds / "run-other").exists()
    killed = json.loads((store.layout.run_reports / "run-other.json").read_text())
    assert killed["published"] is False and f"pid {other.pid}" in killed["error"] and "killed or crashed" in killed["error"]
    store.finish("run-next")


def main_in(store: Warehouse, argv: list[str]) -> int:
    old = os.environ.get("WAREHOUSE_HOME")
    os.environ["WAREHOUSE_HOME"] = str(store.layout.home)
    try:
        return main(argv)
    finally:
        if old is None:
            os.environ.pop("WAREHOUSE_HOME")
        else:
            os.environ["WAREHOUSE_HOME"] = old


KILLED_AFTER_RENAME = """
import os, signal
from orchestration.settings import layout
from orchestration.warehouse import Warehouse
store = Warehouse(layout())
with store.connect("run-killed") as con:
    con.execute("create or replace table raw.ofac_sdn as select range as ent_num from range(12)")
store.publish("run-killed", {"gates": []})
os.kill(os.getpid(), signal.SIGKILL)  # right after the rename: no report beside the file, build folder left
"""


def test_a_run_killed_right_after_publishing_is_named_by_status(store, capsys):
    published(store, "run-0", 10)
    killed = in_process(KILLED_AFTER_RENAME, store.layout.home)
    assert killed.wait(timeout=120) == -signal.SIGKILL
    # the copies beside the file still name run-0, but status reads the file itself
    assert json.loads((store.layout.home / "published_run.json").read_text())["run_id"] == "run-0"
    assert main_in(store, ["status"]) == 0
    out = capsys.readouterr().out
    assert "Published by run run-killed at" in out and "(built on run run-0)" in out
    assert "raw.ofac_sdn" in out and "12 rows" in out
    # the next run cleans the killed run's folder at once and writes the report it had stored in the file
    assert (store.layout.builds / "run-killed").exists()
    store.ensure_build("run-next")
    assert not (store.layout.builds / "run-killed").exists()
    report = json.loads((store.layout.run_reports / "run-killed.json").read_text())
    assert report["published"] is True and report["tables"]["raw.ofac_sdn"] == 12 and report["base_run_id"] == "run-0"
    assert json.loads((store.layout.home / "published_run.json").read_text())["run_id"] == "run-killed"
    store.finish("run-next")


def test_versions_are_kept_and_a_rollback_is_atomic(store, monkeypatch, capsys):
    monkeypatch.setenv("WAREHOUSE_KEEP_VERSIONS", "3")
    for number, rows in enumerate((10, 20, 30, 40)):
        published(store, f"run-{number}", rows)
        time.sleep(0.01)  # distinct publication times
    kept = store.versions()
    assert [v["run_id"] for v in kept] == ["run-1", "run-2", "run-3"]  # the 3 latest, the current one included
    # the current version is a hard link, not a copy
    assert kept[-1]["path"].stat().st_ino == store.layout.published.stat().st_ino
    # the run report and run id are inside each kept file
    stored = query(kept[0]["path"], "select run_id, report from meta.published_runs order by published_at desc limit 1")
    assert stored[0][0] == "run-1" and json.loads(stored[0][1])["tables"]["raw.ofac_sdn"] == 20

    reader = duckdb.connect(str(store.layout.published), read_only=True)  # a reader open during the rollback
    before, after = store.rollback()  # no RUN_ID: the version before the current one
    assert (before["run_id"], after["run_id"]) == ("run-3", "run-2")
    assert sha256_of(store.layout.published) == sha256_of(kept[1]["path"])
    # the open reader keeps the version it opened, whole; this process sees the new one once it has
    # closed every connection to the file (DuckDB shares one database per path within a process)
    assert reader.execute("select count(*) from raw.ofac_sdn").fetchall() == [(40,)]
    reader.close()
    assert query(store.layout.published, "select count(*) from raw.ofac_sdn") == [(30,)]
    assert query(store.layout.published, "select list(run_id order by run_id) from marts.versions") == [(["run-0", "run-1", "run-2"],)]
    assert store.published_run_id() == "run-2"

    # the command: a prefix of a kept run id; a run that builds next starts from the rolled-back version
    # the Parquet set followed the rollback: parquet/current is run-2's, whole
    assert store.parquet_version() == "run-2"
    current = store.parquet_dir / "current"
    assert json.loads((current / "_version.json").read_text())["run_id"] == "run-2"
    assert query(store.layout.published, f"select count(*) from '{current / 'versions.parquet'}'") == [(3,)]
    assert sorted(p.name for p in store.parquet_dir.iterdir()) == ["current", "run-1", "run-2", "run-3"]  # pruned with the versions

    assert main_in(store, ["rollback", "run-3"]) == 0
    assert "now the version of run run-3" in capsys.readouterr().out
    assert main_in(store, ["status"]) == 0
    out = capsys.readouterr().out
    assert "Published by run run-3" in out and "current since a rollback" in out and "run-3  published" in out
    assert main_in(store, ["rollback", "run-0"]) == 2  # pruned: no longer kept
    err = capsys.readouterr().err
    assert "no kept version matches run 'run-0'; kept versions (oldest first): run-1, run-2, run-3" in err
    build_with(store, "run-4", 50)
    assert store.build_info("run-4")["base_run_id"] == "run-3"
    store.finish("run-4")


def test_a_held_build_is_opened_once_and_released_checkpointed(tmp_path, monkeypatch):
    """`Warehouse.holding`: every connect of a step shares one connection to the build (one open,
    one checkpoint); no other process can open the file meanwhile; after it, the file is whole
    (no write-ahead log left) and free."""
    import orchestration.warehouse as warehouse_module

    store = Warehouse(layout(tmp_path / "home"))
    build = store.ensure_build("held")
    opened = []
    real_connect = warehouse_module.duckdb.connect
    monkeypatch.setattr(warehouse_module.duckdb, "connect", lambda *a, **k: opened.append(a[0]) or real_connect(*a, **k))
    probe = [sys.executable, "-c", f"import duckdb; duckdb.connect({str(build)!r}, read_only=True).close()"]
    with store.holding("held"):
        with store.connect("held") as con:
            con.execute("create table raw.t as select 42 as x")
        with store.connect("held") as con:
            assert con.execute("select x from raw.t").fetchall() == [(42,)]
        with store.holding("held"), store.connect("held") as con:  # nested: the same connection
            con.execute("insert into raw.t values (43)")
        blocked = subprocess.run(probe, capture_output=True, text=True)
        assert blocked.returncode != 0 and "lock" in blocked.stderr.lower()
    assert opened == [str(build)]
    assert not Path(f"{build}.wal").exists()
    assert subprocess.run(probe).returncode == 0
    with store.connect("held") as con:
        assert con.execute("select sum(x) from raw.t").fetchone()[0] == 85
