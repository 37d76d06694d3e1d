"""A refresh from the `warehouse` command and a run launched through Dagster, at once, on one home.

Both run the one `refresh_warehouse` job; the first to write takes the home's writer lock and the
other waits for it, then builds on the version it published: both publish, and every list version
reaches the history. Before, the later publish silently dropped the other's version. (Publishing is
also compare-and-swap, for a run that somehow got past the lock: tests/test_publish.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import REPO, real, real_baseline, shared_path, source_dir


def versions(home: Path) -> list[int]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return [n for (n,) in con.execute("select entity_count from history.ofac_list_observations order by observed_at").fetchall()]
    finally:
        con.close()


def launch(args: list[str], home: Path, sources: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "WAREHOUSE_HOME": str(home), "WAREHOUSE_SOURCES": str(sources)}
    env.pop("DAGSTER_HOME", None)  # an ephemeral instance, as a fresh machine has
    return subprocess.Popen(args, cwd=REPO, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)


def test_a_command_refresh_and_a_dagster_run_at_once_lose_no_list_version(dbt_manifest, warehouse_home, tmp_path):
    shutil.copytree(real_baseline(), warehouse_home, symlinks=True)  # the real list of 2024-01-18, published
    assert versions(warehouse_home) == [13848]

    # the command brings the list of 2024-01-22 (13,869 entries); the Dagster run a list of 2024-01-18
    # with its first entry dropped (13,847), so each run has its own new version to publish
    first_dropped = b"\r\n".join(shared_path("ofac", "snapshot-2024-01-18", "SDN.CSV").read_bytes().split(b"\r\n")[1:])
    command_src = source_dir(tmp_path / "command", real("snapshot-2024-01-22"))
    dagster_src = source_dir(tmp_path / "dagster", {**real("snapshot-2024-01-18"), "SDN.CSV": first_dropped})
    command = [sys.executable, "-m", "orchestration.cli", "refresh", "--only", "ofac"]
    dagster = [str(Path(sys.executable).parent / "dagster"), "job", "execute", "-m", "orchestration.definitions",
               "-j", "refresh_warehouse"]
    logs = {"command": tmp_path / "command.log", "dagster": tmp_path / "dagster.log"}
    runs = {
        "command": launch(command, warehouse_home, command_src, logs["command"]),
        "dagster": launch(dagster, warehouse_home, dagster_src, logs["dagster"]),
    }
    codes = {name: run.wait(timeout=900) for name, run in runs.items()}
    texts = {name: log.read_text(errors="replace") for name, log in logs.items()}
    shown = "\n".join(f"--- {n} (exit {codes[n]}) ---\n{texts[n][-2500:]}" for n in runs)

    assert codes == {"command": 0, "dagster": 0}, shown
    # one of them waited for the other's writer lock, and said so
    waited = [name for name in runs if "waits: run " in texts[name]]
    assert len(waited) == 1, shown
    assert "is writing to" in texts[waited[0]], shown
    # every list version reached the history: the baseline, and both runs' lists, in either order
    history = versions(warehouse_home)
    assert history[0] == 13848 and sorted(history[1:]) == [13847, 13869], (history, shown)
    # and the later run built on the earlier one's version
    con = duckdb.connect(str(warehouse_home / "warehouse.duckdb"), read_only=True)
    try:
        runs_in_file = con.execute("select run_id, base_run_id from meta.published_runs order by published_at").fetchall()
    finally:
        con.close()
    assert len(runs_in_file) == 3 and runs_in_file[2][1] == runs_in_file[1][0] and runs_in_file[1][1] == runs_in_file[0][0]
