"""Each rule is checked once, in the layer that owns it:

- shape (column types, NOT NULL) of a contracted mart: its dbt contract, enforced by DuckDB as the
  table is built;
- the gates users see (row counts and their bounds, NOT NULL elsewhere, uniqueness, accepted values,
  ranges, formats): the Great Expectations suite of each table, in `expectations/`;
- relations and logic across rows or tables (relationships, not-in-future, grain, reconciliations):
  dbt tests.

A dbt test that repeats a GX expectation on the same column, or a NOT NULL checked both by a
contract and by a test or expectation, fails here, so a rule added twice shows up in review.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parent.parent
GX_OF_DBT = {
    "not_null": "expect_column_values_to_not_be_null",
    "unique": "expect_column_values_to_be_unique",
    "accepted_values": "expect_column_values_to_be_in_set",
}


@pytest.fixture(scope="module")
def manifest(dbt_manifest) -> dict:
    return json.loads((REPO / "dbt_project" / "target" / "manifest.json").read_text())


def _table(node: dict) -> str:
    return f"{node['config'].get('schema')}.{node['name']}"


def _contract_not_null(manifest: dict) -> dict[str, set[str]]:
    return {
        _table(n): {c for c, v in n["columns"].items() if any(k["type"] == "not_null" for k in v.get("constraints", []))}
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"].get("contract", {}).get("enforced")
    }


def _suites() -> dict[str, list[dict]]:
    return {s["name"]: s["expectations"] for s in (json.loads(p.read_text()) for p in (REPO / "expectations").glob("*.json"))}


def test_no_dbt_test_repeats_a_gx_expectation_or_a_contract(manifest):
    contract = _contract_not_null(manifest)
    suites = _suites()
    repeated = []
    for node in manifest["nodes"].values():
        test = (node.get("test_metadata") or {}).get("name")
        column = node.get("column_name")
        if node["resource_type"] != "test" or test not in GX_OF_DBT or not column:
            continue
        parent = manifest["nodes"][node["attached_node"]]
        table = _table(parent)
        if test == "not_null" and column in contract.get(table, set()):
            repeated.append(f"{table}.{column}: dbt not_null repeats the contract's NOT NULL")
        for expectation in suites.get(table, []):
            if expectation["type"] == GX_OF_DBT[test] and expectation["kwargs"].get("column") == column:
                repeated.append(f"{table}.{column}: dbt {test} repeats GX {expectation['type']}")
    assert repeated == []


def test_no_gx_not_null_repeats_a_contract(manifest):
    contract = _contract_not_null(manifest)
    repeated = [
        f"{table}.{e['kwargs']['column']}"
        for table, expectations in _suites().items()
        for e in expectations
        if e["type"] == "expect_column_values_to_not_be_null" and e["kwargs"].get("column") in contract.get(table, set())
    ]
    assert repeated == []
    # the layers still carry the rules: contracts on every mart, GX suites on every gated table
    assert sum(len(cols) for cols in contract.values()) >= 50
    assert "ent_num" in contract["marts.dim_sanctioned_entity"] and "month" in contract["marts.fct_iraq_compliance_monthly"]


def test_a_contracts_not_null_is_enforced_in_the_published_tables(published_sample, manifest):
    """The NOT NULL a contract owns is a constraint of the built table itself: DuckDB refuses a NULL
    there while dbt builds it, before any gate runs, so dropping the repeated checks weakened nothing."""
    contract = _contract_not_null(manifest)
    home, _ = published_sample
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        nullable = {
            f"{schema}.{table}.{column}": flag
            for schema, table, column, flag in con.execute(
                "select table_schema, table_name, column_name, is_nullable from information_schema.columns").fetchall()
        }
    finally:
        con.close()
    checked = 0
    for table, columns in contract.items():
        for column in columns:
            if f"{table}.{column}" in nullable:
                assert nullable[f"{table}.{column}"] == "NO", f"{table}.{column} is nullable in the published file"
                checked += 1
    assert checked >= 50
