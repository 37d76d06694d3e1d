"""DuckDB's memory limit (WAREHOUSE_DUCKDB_MEMORY): every build connection and dbt use it, and a
value that is not a size stops the command before anything starts."""

from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.settings import SettingsError, duckdb_memory_limit, layout
from orchestration.warehouse import Warehouse

REPO = Path(__file__).resolve().parent.parent


def test_a_bad_memory_setting_stops_the_refresh_before_anything_starts(refresh, warehouse_home, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DUCKDB_MEMORY", "lots")
    code, _out, err = refresh()
    assert code != 0
    assert "WAREHOUSE_DUCKDB_MEMORY='lots' is not a memory size" in err
    assert not (warehouse_home / "warehouse.duckdb").exists() and not (warehouse_home / "builds").exists()


@pytest.mark.parametrize("value", ["2GB", "512MB", "1.5GiB", " 4gb "])
def test_memory_sizes_accepted(value):
    assert duckdb_memory_limit(value) == value.strip()


@pytest.mark.parametrize("value", ["", "2", "two GB", "80%"])
def test_memory_sizes_refused(value):
    with pytest.raises(SettingsError, match="WAREHOUSE_DUCKDB_MEMORY"):
        duckdb_memory_limit(value)


def test_build_connections_use_the_limit(warehouse_home, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DUCKDB_MEMORY", "512MB")
    expected = duckdb.connect(config={"memory_limit": "512MB"}).execute("select current_setting('memory_limit')").fetchone()[0]
    default = duckdb.connect().execute("select current_setting('memory_limit')").fetchone()[0]
    assert expected != default  # DuckDB's own default (80% of RAM) is not what a build gets
    store = Warehouse(layout())
    try:
        with store.connect("run-memory") as con:
            assert con.execute("select current_setting('memory_limit')").fetchone()[0] == expected
    finally:
        store.discard("run-memory")


def test_dbt_gets_the_same_setting():
    output = yaml.safe_load((REPO / "dbt_project" / "profiles.yml").read_text())["iraq_iran_sanctions"]["outputs"]["build"]
    assert output["settings"]["memory_limit"] == "{{ env_var('WAREHOUSE_DUCKDB_MEMORY', '2GB') }}"
