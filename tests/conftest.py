"""Shared fixtures: a throwaway warehouse home, the dbt manifest, the real files in ../shared/data."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import pytest

from orchestration.http_client import HttpSettings
from orchestration.resources import HttpResource

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE_DIR = REPO / "orchestration" / "sample"
SAMPLE_OFAC = SAMPLE_DIR / "ofac"

pytest_plugins = ("tests.http_fixture",)  # the local HTTP server fixture, for every test module

os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
os.environ["DAGSTER_DISABLE_TELEMETRY"] = "true"
# Every variable the http resource binds (dg.EnvVar: time-outs, base URLs, API keys) must be set when
# a run starts. Set them to their defaults now, as loading orchestration.definitions does, so that a
# test's monkeypatch restores one to its default afterwards instead of deleting it.
HttpResource.from_env()


def shared_path(*parts: str) -> Path:
    """A real published file from ../shared/data, or skip where that folder is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not SHARED_DATA.is_dir():
        pytest.skip(f"../shared/data is absent ({SHARED_DATA}); this test reads real published files from it")
    if not path.exists():
        pytest.skip(f"{path} is not in ../shared/data")
    return path


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """`dbt parse`, as the Makefile does, unless the manifest is newer than every file of the dbt
    project: the code location loads this manifest. Under pytest-xdist every worker asks; the
    first parses, holding a lock on the target folder, and the others find the manifest fresh."""
    project = REPO / "dbt_project"
    manifest = project / "target" / "manifest.json"
    dbt = Path(sys.executable).parent / "dbt"
    manifest.parent.mkdir(exist_ok=True)
    with open(manifest.parent / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        sources = [p for part in ("models", "macros", "seeds", "snapshots", "tests") for p in (project / part).rglob("*")]
        newest = max(p.stat().st_mtime for p in [*sources, project / "dbt_project.yml", project / "profiles.yml"] if p.is_file())
        if not manifest.exists() or manifest.stat().st_mtime <= newest:
            subprocess.run(
                [str(dbt), "parse", "--quiet", "--profiles-dir", str(project)],
                cwd=project,
                check=True,
                env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
            )
    assert manifest.exists()
    return manifest


# HTTP as the tests run it: a fault retried twice, 10 ms apart (the defaults wait 2 to 16 s between
# four retries); the warehouse_home fixture gives whole refreshes the same through WAREHOUSE_HTTP_*
TEST_HTTP = HttpSettings(connect_timeout=2.0, read_timeout=2.0, retries=2, backoff_factor=0.01)


@pytest.fixture
def warehouse_home(tmp_path, monkeypatch) -> Path:
    """An empty WAREHOUSE_HOME; runs use an ephemeral Dagster instance (no DAGSTER_HOME)."""
    home = tmp_path / "home"
    monkeypatch.setenv("WAREHOUSE_HOME", str(home))
    monkeypatch.setenv("WAREHOUSE_SOURCES", "bundled")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("WAREHOUSE_HTTP_BACKOFF", str(TEST_HTTP.backoff_factor))
    monkeypatch.setenv("WAREHOUSE_HTTP_RETRIES", str(TEST_HTTP.retries))
    monkeypatch.setenv("WAREHOUSE_HTTP_READ_TIMEOUT", str(TEST_HTTP.read_timeout))
    monkeypatch.setenv("WAREHOUSE_HTTP_CONNECT_TIMEOUT", str(TEST_HTTP.connect_timeout))
    monkeypatch.setenv("WAREHOUSE_STEP_RETRIES", "0")  # a case that wants a step retried says so
    monkeypatch.setenv("WAREHOUSE_STEP_RETRY_WAIT", "0")
    return home


@pytest.fixture
def refresh(dbt_manifest, warehouse_home, monkeypatch, capsys):
    """Run `warehouse refresh [args]` in-process with WAREHOUSE_SOURCES=`sources`; returns (code, out, err)."""
    from orchestration.cli import main

    def run(*args: str, sources: str | Path = "bundled") -> tuple[int, str, str]:
        monkeypatch.setenv("WAREHOUSE_SOURCES", str(sources))
        code = main(["refresh", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def query(home: Path, sql: str) -> list[tuple]:
    """Rows of `sql` on a home's published file, read-only."""
    return query_file(home / "warehouse.duckdb", sql)


def query_file(path: Path, sql: str) -> list[tuple]:
    """Rows of `sql` on one DuckDB file, read-only."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ofac_dir(tmp_path: Path, files: dict[str, bytes | Path], name: str = "src") -> Path:
    """A directory-mode source folder `<tmp>/<name>/ofac/` holding the given OFAC files."""
    root = tmp_path / name
    folder = root / "ofac"
    folder.mkdir(parents=True)
    for file_name, content in files.items():
        data = content.read_bytes() if isinstance(content, Path) else content
        (folder / file_name).write_bytes(data)
    return root


def sample_ofac_files() -> dict[str, Path]:
    return {name: SAMPLE_OFAC / name for name in ("SDN.CSV", "ADD.CSV", "ALT.CSV", "SDN_COMMENTS.CSV")}


# Homes built once per test run and shared by every pytest-xdist worker: the controller makes the
# folder and hands it to the workers; the first worker to ask for a home builds it under a lock, the
# others wait for it (it is the same work they would do) and reuse it. They are read-only: a test
# that refreshes again copies the home first (shutil.copytree(..., symlinks=True)).
SHARED_BUILDS: Path | None = None


def pytest_configure(config):
    global SHARED_BUILDS
    given = getattr(config, "workerinput", {}).get("warehouse_shared_builds")
    if given:
        SHARED_BUILDS = Path(given)
    else:  # the controller, or a run without xdist
        SHARED_BUILDS = Path(tempfile.mkdtemp(prefix="warehouse-shared-builds-"))
        config.warehouse_shared_builds = SHARED_BUILDS


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    node.workerinput["warehouse_shared_builds"] = str(node.config.warehouse_shared_builds)


def pytest_unconfigure(config):
    if getattr(config, "warehouse_shared_builds", None):  # the controller, after every worker ended
        shutil.rmtree(config.warehouse_shared_builds, ignore_errors=True)


def run_refresh(home: Path, sources: str | Path) -> str:
    """A full `warehouse refresh` in-process into `home` (an ephemeral Dagster instance); its stdout."""
    from orchestration.cli import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WAREHOUSE_HOME", str(home))
        patch.setenv("WAREHOUSE_SOURCES", str(sources))
        patch.delenv("DAGSTER_HOME", raising=False)
        for key in ("EIA_API_KEY", "COMTRADE_API_KEY"):
            patch.setenv(key, "")  # no key: '' (the http resource binds the variable; an unset one fails the run)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["refresh"])
    assert code == 0, f"{home} did not publish from {sources}:\n{out.getvalue()[-3000:]}\n{err.getvalue()[-3000:]}"
    return out.getvalue()


SHARED_BUILD_WAIT = 900  # seconds: a build takes about 20 s; a holder that never lets go fails the test, not CI's 90 minutes


def _wait_for_lock(lock, what: str) -> None:
    deadline = time.monotonic() + SHARED_BUILD_WAIT
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: its lock ({lock.name}) was not released in {SHARED_BUILD_WAIT} s") from None
            time.sleep(0.2)


def shared_build(name: str, build) -> tuple[Path, str]:
    """The home `name`, built once per test run by `build(home, work) -> stdout` (`work`: an empty
    folder for its own files): (home, stdout)."""
    assert SHARED_BUILDS is not None, "pytest_configure did not run"
    folder = SHARED_BUILDS / name
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        _wait_for_lock(lock, f"the shared home {name}")
        done = folder / "stdout.txt"
        if not done.exists():  # written last: a build that failed is built again by the next to ask
            work = folder / "work"  # the build's own files (its source folder), fresh each attempt
            for leftover in (folder / "home", work):
                shutil.rmtree(leftover, ignore_errors=True)
            work.mkdir()
            done.write_text(build(folder / "home", work))
    return folder / "home", done.read_text()


@lru_cache(maxsize=1)
def bundled_build() -> tuple[Path, str]:
    """One full `warehouse refresh` of the bundled sample (`make run`) per test run: (home, its stdout).

    Shared read-only by the tests that inspect it; tests that refresh again copy the home first.
    Needs the dbt manifest (`make test` or the `dbt_manifest` fixture builds it).
    """
    return shared_build("bundled", lambda home, _work: run_refresh(home, "bundled"))


@lru_cache(maxsize=1)
def real_baseline() -> Path:
    """One full refresh in directory mode per test run: the real SDN list of 2024-01-18 (13,848
    entries; ADD.CSV, ALT.CSV) and every other source's sample files. Read-only: copy it first."""
    files = real("snapshot-2024-01-18")
    return shared_build("real-2024-01-18", lambda home, work: run_refresh(home, source_dir(work / "sources", files)))[0]


@lru_cache(maxsize=1)
def sample_dir_build() -> Path:
    """One full refresh in directory mode from the sample's files per test run (every source's folder
    points at its bundled sample): the sample's bytes, but not the bundled mode, for tests that load
    edited copies of them (a bundled sample's list history refuses any other list). Read-only."""

    def build(home: Path, work: Path) -> str:
        for source in sorted(SAMPLE_DIR.iterdir()):
            if source.is_dir():
                (work / source.name).symlink_to(source)
        return run_refresh(home, work)

    return shared_build("sample-dir", build)[0]


@pytest.fixture(scope="session")
def published_sample(dbt_manifest) -> tuple[Path, str]:
    return bundled_build()


def source_dir(root: Path, ofac_files: dict[str, bytes | Path]) -> Path:
    """Directory mode: `ofac/` holds the given files, every other source points at its sample."""
    (root / "ofac").mkdir(parents=True)
    for name, content in ofac_files.items():
        (root / "ofac" / name).write_bytes(content.read_bytes() if isinstance(content, Path) else content)
    for folder in sorted(SAMPLE_DIR.iterdir()):
        if folder.is_dir() and folder.name != "ofac":
            (root / folder.name).symlink_to(folder)
    return root


def real(snapshot: str) -> dict[str, bytes | Path]:
    return {name: shared_path("ofac", snapshot, name) for name in ("SDN.CSV", "ADD.CSV", "ALT.CSV")}
