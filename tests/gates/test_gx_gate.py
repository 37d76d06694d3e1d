"""The GX gate: whole tables, errored apart from failed, and the row-count floor."""

from __future__ import annotations

import json

import duckdb
import pytest

from orchestration.gates import gx_gate


@pytest.fixture
def suites(tmp_path, monkeypatch):
    monkeypatch.setattr(gx_gate, "EXPECTATIONS_DIR", tmp_path)

    def write(table: str, expectations: list[dict], min_rows: int = 1) -> None:
        (tmp_path / f"{table}.json").write_text(
            json.dumps({"name": table, "meta": {"min_rows": min_rows}, "expectations": expectations})
        )

    return write


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("create schema raw")
    yield connection
    connection.close()


FLOOR = {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": {"$PARAMETER": "row_count_floor"}}}


def test_the_whole_table_is_validated(con, suites):
    # 300,000 rows; only the very last one breaks uniqueness and the value set
    con.execute("create table raw.t as select range::integer as id, 'ok' as kind from range(300000)")
    con.execute("insert into raw.t values (299999, 'bad')")
    suites(
        "raw.t",
        [
            FLOOR,
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
            {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "kind", "value_set": ["ok"]}},
        ],
    )
    result = gx_gate.validate_table(con, "raw.t", previous_rows=None)
    assert result.row_count == 300001
    statuses = {o.expectation: o.status for o in result.outcomes}
    assert statuses == {
        "expect_table_row_count_to_be_between": "passed",
        "expect_column_values_to_be_unique": "failed",
        "expect_column_values_to_be_in_set": "failed",
    }
    assert not result.passed
    assert "'bad'" in next(o for o in result.outcomes if o.expectation.endswith("in_set")).detail


def test_an_expectation_that_raises_is_errored_not_failed(con, suites):
    con.execute("create table raw.t as select 1 as id")
    suites(
        "raw.t",
        [
            FLOOR,
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "no_such_column", "min_value": 0}},
            {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "id", "regex": "("}},
        ],
    )
    result = gx_gate.validate_table(con, "raw.t", previous_rows=None)
    statuses = {o.expectation: o.status for o in result.outcomes}
    assert statuses == {
        "expect_table_row_count_to_be_between": "passed",
        "expect_column_values_to_be_between": "errored",
        "expect_column_values_to_match_regex": "errored",
    }
    assert result.count("errored") == 2 and result.count("failed") == 0
    assert not result.passed
    assert "errored" in result.summary() and "no_such_column" in result.summary()


def test_row_count_floor_is_half_the_last_published_count(con, suites):
    con.execute("create table raw.t as select range as id from range(40)")
    suites("raw.t", [FLOOR], min_rows=5)
    assert gx_gate.validate_table(con, "raw.t", previous_rows=80).passed  # 40 >= 40
    collapsed = gx_gate.validate_table(con, "raw.t", previous_rows=400)  # 40 < 200
    assert not collapsed.passed and collapsed.row_count_floor == 200
    assert gx_gate.row_count_floor({"meta": {"min_rows": 5}}, None) == 5
    assert gx_gate.row_count_floor({"meta": {"min_rows": 5}}, 3) == 5  # never below the suite's minimum


def test_dates_in_the_future_fail(con, suites):
    con.execute("create table raw.t as select date '2020-01-01' as d, timestamptz '2020-01-01 00:00:00+00' as ts")
    con.execute("insert into raw.t values (current_date + 400, now() + interval 400 day)")
    suites(
        "raw.t",
        [
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "d", "max_value": {"$PARAMETER": "today"}}},
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "ts", "max_value": {"$PARAMETER": "today_end"}}},
        ],
        min_rows=0,
    )
    result = gx_gate.validate_table(con, "raw.t", previous_rows=None)
    assert {(o.column, o.status) for o in result.outcomes} == {("d", "failed"), ("ts", "failed")}


def test_missing_suite_is_an_error(con, suites):
    with pytest.raises(gx_gate.SuiteMissing, match=r"raw\.nothing"):
        gx_gate.load_suite("raw.nothing")


def test_chunked_path_merges_chunks_and_reports_missing_columns(con, suites, monkeypatch):
    monkeypatch.setattr(gx_gate, "CHUNK_ROWS", 10)  # 25 rows, grouped by column; 'kind' holds 15 distinct values (rows stream)
    con.execute("create table raw.t as select (range % 24)::integer as id, 'ok-' || (range % 13) as kind from range(25)")
    con.execute("update raw.t set kind = 'bad-' || id where id in (3, 23)")
    suites(
        "raw.t",
        [
            FLOOR,
            {"type": "expect_table_columns_to_match_ordered_list", "kwargs": {"column_list": ["id", "kind"]}},
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
            {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "kind", "value_set": [f"ok-{i}" for i in range(13)]}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "gone"}},
        ],
    )
    frames = []
    validate = gx_gate._validate_frame
    monkeypatch.setattr(gx_gate, "_validate_frame", lambda *a: frames.append(len(a[1])) or validate(*a))
    result = gx_gate.validate_table(con, "raw.t", previous_rows=None)
    assert sum(1 for n in frames if n <= 10) >= 2  # 'kind''s 15 distinct values came in chunks of at most 10
    by_type = {o.expectation: o for o in result.outcomes}
    assert by_type["expect_table_row_count_to_be_between"].status == "passed"
    assert by_type["expect_table_columns_to_match_ordered_list"].status == "passed"
    assert by_type["expect_column_values_to_be_unique"].status == "failed"  # rows 0 and 24 (id 0) sit in different chunks
    in_set = by_type["expect_column_values_to_be_in_set"]
    assert in_set.status == "failed" and in_set.unexpected_count == 2  # 'bad-3' and 'bad-23', in different chunks
    assert "bad-3" in in_set.detail and "bad-23" in in_set.detail
    assert by_type["expect_column_values_to_not_be_null"].status == "errored"
    assert "gone" in by_type["expect_column_values_to_not_be_null"].detail


def test_row_by_row_expectations_see_each_distinct_value_once(con, suites, monkeypatch):
    """A large table's row-local expectations on a column that repeats are validated on its distinct
    values: the same verdict as on every row (equal values, equal verdicts), counted in distinct
    values; a column of distinct values streams its rows; uniqueness still sees every row."""
    monkeypatch.setattr(gx_gate, "CHUNK_ROWS", 100)
    con.execute("create table raw.t as select range::integer as id, if(range % 100 = 7, 'bad', 'ok') as kind, "
                "'name ' || range as name from range(1000)")
    suites(
        "raw.t",
        [
            FLOOR,
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
            {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "kind", "value_set": ["ok"]}},
            {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "name", "regex": "^name [0-9]+$"}},
        ],
    )
    frames = {}

    def counted(name, frame, expectations, *rest):
        kind = expectations[0]["type"]
        frames[kind] = frames.get(kind, 0) + len(frame)
        return validate(name, frame, expectations, *rest)

    validate = gx_gate._validate_frame
    monkeypatch.setattr(gx_gate, "_validate_frame", counted)
    result = gx_gate.validate_table(con, "raw.t", previous_rows=None)
    by_type = {o.expectation: o for o in result.outcomes}
    assert frames["expect_column_values_to_be_in_set"] == 2  # 'ok' and 'bad' (in one chunk or two), not 1,000 rows
    assert frames["expect_column_values_to_be_unique"] == 1000  # uniqueness needs every row
    assert frames["expect_column_values_to_match_regex"] == 1000  # 1,000 distinct names: every row, in chunks
    assert by_type["expect_column_values_to_match_regex"].status == "passed"
    in_set = by_type["expect_column_values_to_be_in_set"]
    assert in_set.status == "failed" and in_set.unexpected_count == 1 and "1 distinct unexpected values" in in_set.detail
    assert by_type["expect_column_values_to_be_unique"].status == "passed"
    assert result.row_count == 1000
