"""Publishing is compare-and-swap: a run publishes only over the version it started from."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.errors import PublishError
from orchestration.settings import layout
from orchestration.warehouse import Warehouse
from tests.conftest import sha256_of


def build_with(store: Warehouse, run_id: str, list_version: str) -> None:
    with store.connect(run_id) as con:
        con.execute("create or replace table raw.ofac_sdn as select ? as list_version", [list_version])
        con.execute("create table if not exists marts.versions (list_version varchar)")
        con.execute("insert into marts.versions values (?)", [list_version])


def versions(store: Warehouse) -> list[str]:
    con = duckdb.connect(str(store.layout.published), read_only=True)
    try:
        return [v for (v,) in con.execute("select list_version from marts.versions order by 1").fetchall()]
    finally:
        con.close()


def test_a_run_that_started_from_an_older_version_is_refused_and_loses_nothing(tmp_path):
    store = Warehouse(layout(tmp_path / "home"))
    build_with(store, "run-0", "v0")
    store.publish("run-0")
    assert store.published_run_id() == "run-0"

    # two runs start from the same published version (a CLI refresh and a Dagster-launched run)
    build_with(store, "run-a", "va")
    build_with(store, "run-b", "vb")
    store.publish("run-b")
    published = sha256_of(store.layout.published)

    with pytest.raises(PublishError) as refused:
        store.publish("run-a")
    message = str(refused.value)
    assert "run run-a started from the version published by run-0" in message
    assert "run run-b has published since" in message and "run the refresh again" in message
    # the refused run changed nothing: run-b's version stands, whole
    assert sha256_of(store.layout.published) == published
    assert store.published_run_id() == "run-b" and versions(store) == ["v0", "vb"]
    store.discard("run-a")

    # rerun: it starts from run-b's version, so both list versions reach the history
    build_with(store, "run-a2", "va")
    store.publish("run-a2")
    assert versions(store) == ["v0", "va", "vb"]
    con = duckdb.connect(str(store.layout.published), read_only=True)
    try:
        runs = con.execute("select run_id, base_run_id from meta.published_runs order by published_at").fetchall()
    finally:
        con.close()
    assert runs == [("run-0", None), ("run-b", "run-0"), ("run-a2", "run-b")]  # each version knows its parent
