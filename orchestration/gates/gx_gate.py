"""Great Expectations gates over whole DuckDB tables.

GX's SQL datasource cannot validate DuckDB (it closes the connection before reading results, so
every expectation errors: GX issues 10738 and 11579). The gate therefore validates with GX's
pandas datasource, reading every row but only the columns each group of expectations needs, one
group at a time: every row is seen, and the table is never held whole in Python memory. An
expectation decided row by row (not null, in set, regex, length, range) on a column that repeats
(at most half as many distinct values as rows, estimated first) gets each distinct value once:
equal values get equal verdicts, so the verdict is that of every row, and a backfill's five
million rows holding twenty thousand distinct names are validated in one pass rather than
twenty-five. Its unexpected count is then a count of distinct values, and says so.

Suites live in `expectations/<schema>.<table>.json`. Two suite parameters are filled at run time:
`row_count_floor` (half of the last published row count, never below `meta.min_rows`),
`row_count_ceiling` (ten times it, `meta.max_growth`; none on a first run or below 100 rows) and `today`
(for "no date in the future"). An expectation that raised is reported as *errored*, distinct from
a data failure; either one fails the gate.
"""

from __future__ import annotations

import gc
import json
import math
import os
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.settings import EXPECTATIONS_DIR

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

MAX_DROP = 0.5  # a table may shrink by at most half against the last published run
MAX_GROWTH = 10.0  # ... and grow at most tenfold (a list that grew 50x is a broken file, not news)
ROW_COUNT = "expect_table_row_count_to_be_between"


@dataclass
class Outcome:
    expectation: str
    column: str | None
    status: str  # passed | failed | errored
    detail: str
    unexpected_count: int = 0


@dataclass
class GateResult:
    suite: str
    table: str
    row_count: int
    row_count_floor: int
    previous_row_count: int | None
    row_count_ceiling: int | None = None
    accepted_change: str | None = None  # the reason given with --accept-change: count bounds lifted for this run
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and all(o.status == "passed" for o in self.outcomes)

    def summary(self) -> str:
        head = (
            f"suite {self.suite}: {self.count('passed')} passed, {self.count('failed')} failed, "
            f"{self.count('errored')} errored on {self.row_count} rows"
        )
        bad = [f"{o.status.upper()} {o.expectation}({o.column or ''}): {o.detail}" for o in self.outcomes if o.status != "passed"]
        return "\n".join([head, *bad])

    def bounds_note(self, outcome: Outcome) -> str:
        if outcome.expectation != ROW_COUNT:
            return ""
        previous = "none" if self.previous_row_count is None else f"{self.previous_row_count:,}"
        ceiling = "none" if self.row_count_ceiling is None else f"{self.row_count_ceiling:,}"
        return (f" (floor {self.row_count_floor:,}, ceiling {ceiling}, previous published count {previous}; "
                "if the change is genuine, rerun with --accept-change REASON)")

    def as_dict(self) -> dict:
        data = asdict(self)
        data.update(passed=self.passed, counts={s: self.count(s) for s in ("passed", "failed", "errored")})
        return data


class SuiteMissing(FileNotFoundError):
    pass


def suite_path(table: str) -> Path:
    return EXPECTATIONS_DIR / f"{table}.json"


def load_suite(table: str) -> dict:
    path = suite_path(table)
    if not path.exists():
        raise SuiteMissing(f"no Great Expectations suite for {table}: expected {path}")
    return json.loads(path.read_text())


def row_count_floor(suite: dict, previous: int | None) -> int:
    minimum = int(suite.get("meta", {}).get("min_rows", 1))
    if previous is None:
        return minimum
    return max(minimum, math.ceil(previous * (1 - MAX_DROP)))


CEILING_FROM_ROWS = 100  # below this many published rows, growth says nothing: no ceiling


def row_count_ceiling(suite: dict, previous: int | None) -> int | None:
    """At most `meta.max_growth` (default MAX_GROWTH) times the last published count; none on a first
    run, below CEILING_FROM_ROWS published rows, or where the suite sets `max_growth: null` (tables
    that accumulate, such as the designation changes)."""
    meta = suite.get("meta", {})
    growth = meta.get("max_growth", MAX_GROWTH)
    if previous is None or growth is None or previous < CEILING_FROM_ROWS:
        return None
    return math.floor(previous * growth)


@lru_cache(maxsize=1)
def _batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("warehouse_gate").add_dataframe_asset("table")
    return asset.add_batch_definition_whole_dataframe("whole_table")


SCHEMA_EXPECTATIONS = {
    "expect_table_columns_to_match_ordered_list",
    "expect_table_columns_to_match_set",
    "expect_table_column_count_to_equal",
    "expect_table_column_count_to_be_between",
    "expect_column_to_exist",
}


def columns_needed(expectation: dict) -> tuple[str, ...] | None:
    """The columns an expectation reads; None for schema-only ones; () for row-count ones."""
    kwargs = expectation["kwargs"]
    if expectation["type"] in SCHEMA_EXPECTATIONS:
        return None
    if "column" in kwargs:
        return (kwargs["column"],)
    if "column_A" in kwargs:
        return (kwargs["column_A"], kwargs["column_B"])
    if "column_list" in kwargs:
        return tuple(kwargs["column_list"])
    return ()


CHUNK_ROWS = 200_000
ALL_COLUMNS = ("*",)
# Column-map expectations that still need the whole column at once (not decidable row by row).
WHOLE_COLUMN = {
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    "expect_multicolumn_values_to_be_unique",
}


def row_local(expectation: dict) -> bool:
    """True when the expectation is decided row by row, so it can be validated in chunks."""
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.registry import get_expectation_impl

    if expectation["type"] in WHOLE_COLUMN or "mostly" in expectation["kwargs"]:
        return False
    return issubclass(get_expectation_impl(expectation["type"]), ColumnMapExpectation)


def validate_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    previous_rows: int | None,
    not_loaded: bool = False,
    accepted_change: str | None = None,
    backfill: str | None = None,
) -> GateResult:
    """Validate every row of `table` against its suite; never raises for a data problem.

    Expectations are grouped by the columns they read. Row-by-row expectations (not null, in set,
    regex, lengths, ranges) stream over every row in chunks of CHUNK_ROWS, or over each distinct
    value once where the column repeats (`_repetitive`); the others (unique,
    row count, schema) get the whole of just the columns they need. Every row is seen, and Python
    never holds the table whole (benchmarks/gate_memory.py). `not_loaded`: the table was not loaded
    this run (optional file absent, source skipped), so no row-count floor applies; `backfill`: the
    run loads an archive of list versions, so no row-count ceiling applies.
    """
    suite_json = load_suite(table)
    lifted = not_loaded or bool(accepted_change)  # --accept-change lifts the count bounds for one run
    floor = 0 if lifted else row_count_floor(suite_json, previous_rows)
    # a backfill adds many list versions at once: growth is its purpose, so no ceiling (floors stay)
    ceiling = None if lifted or backfill else row_count_ceiling(suite_json, previous_rows)
    row_count = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    result = GateResult(suite_json["name"], table, row_count, floor, previous_rows, ceiling, accepted_change or None)
    parameters = {
        "row_count_floor": floor,
        "row_count_ceiling": ceiling,
        "today": date.today().isoformat(),
        "today_end": f"{date.today().isoformat()}T23:59:59",
    }
    suite_json = {**suite_json, "expectations": [_without_unset(e, parameters) for e in suite_json["expectations"]]}
    groups: dict[tuple, list[dict]] = {}
    if row_count <= CHUNK_ROWS:
        # small enough to hold whole: one GX validation over every column (GX's per-call cost
        # dominates on small tables)
        groups[(ALL_COLUMNS, False)] = list(suite_json["expectations"])
    for expectation in suite_json["expectations"] if row_count > CHUNK_ROWS else ():
        columns = columns_needed(expectation)
        chunked = columns is not None and bool(columns) and row_local(expectation)
        groups.setdefault((columns, chunked), []).append(expectation)
    for (columns, chunked), expectations in groups.items():
        merged: dict[int, Outcome] = {}
        largest = 0
        try:
            distinct = chunked and _repetitive(con, table, columns, row_count)
            for frame in _frames(con, table, columns, CHUNK_ROWS if chunked else None, distinct):
                largest = max(largest, len(frame))
                for index, outcome in enumerate(_validate_frame(suite_json["name"], frame, expectations, parameters, distinct)):
                    merged[index] = _merge(merged.get(index), outcome)
                del frame
        except duckdb.Error as exc:
            message = str(exc).strip().splitlines()[0]
            merged = {
                i: Outcome(e["type"], e["kwargs"].get("column"), "errored", message) for i, e in enumerate(expectations)
            }
        result.outcomes.extend(merged[i] for i in sorted(merged))
        if largest >= CHUNK_ROWS:
            gc.collect()  # GX keeps cycles around a large frame; collecting costs 0.1 s, so only then
    for outcome in result.outcomes:
        if outcome.status == "failed":
            outcome.detail += result.bounds_note(outcome)  # the console names floor, ceiling and previous count
    return result


def _without_unset(expectation: dict, parameters: dict) -> dict:
    """Drop arguments whose suite parameter is unset this run (no ceiling on a first run): an
    absent bound is no bound, and GX drops None arguments itself, so the results still match."""
    kwargs = {
        k: v for k, v in expectation["kwargs"].items()
        if not (isinstance(v, dict) and "$PARAMETER" in v and parameters.get(v["$PARAMETER"]) is None)
    }
    return {**expectation, "kwargs": kwargs}


def _merge(seen: Outcome | None, new: Outcome) -> Outcome:
    """Combine one expectation's outcomes over chunks: errored beats failed beats passed."""
    if seen is None:
        return new
    rank = {"passed": 0, "failed": 1, "errored": 2}
    worst = seen if rank[seen.status] >= rank[new.status] else new
    if seen.status == new.status == "failed":
        return Outcome(
            seen.expectation, seen.column, "failed", f"{seen.detail}; {new.detail}"[:500],
            seen.unexpected_count + new.unexpected_count,
        )
    return worst


def _validate_frame(name: str, frame, expectations: list[dict], parameters: dict, distinct: bool = False) -> list[Outcome]:
    """Outcomes in the order of `expectations` (`distinct`: the frame holds distinct values, not rows)."""
    from great_expectations.core import ExpectationSuite

    suite = ExpectationSuite(name=name, expectations=expectations)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    # the verdicts alone cost GX half as much as with the details (unexpected counts and values,
    # observed values): those are computed again only where an expectation failed or raised
    validation = batch.validate(suite, result_format="BOOLEAN_ONLY", expectation_parameters=parameters)
    if not validation.success:
        validation = batch.validate(suite, result_format="SUMMARY", expectation_parameters=parameters)
    by_config = {}
    for item in validation.results:
        config = item.expectation_config
        column = config.kwargs.get("column")
        error = _exception_message(item.exception_info)
        if error:
            outcome = Outcome(config.type, column, "errored", error)
        elif item.success:
            outcome = Outcome(config.type, column, "passed", "")
        else:
            outcome = Outcome(
                config.type, column, "failed", _failure_detail(item.result, distinct), int(item.result.get("unexpected_count") or 0)
            )
        by_config.setdefault(_result_key(config.type, config.kwargs), []).append(outcome)
    # GX returns results in its own order and with suite parameters substituted: match on
    # type, column and argument names, in suite order among equals
    return [by_config[_result_key(e["type"], e["kwargs"])].pop(0) for e in expectations]


def _result_key(kind: str, kwargs) -> tuple:
    return kind, kwargs.get("column"), tuple(sorted(k for k in kwargs if k != "batch_id"))


def _repetitive(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...], rows: int) -> bool:
    """Do `columns` hold at most half as many distinct values as the table has rows (DuckDB's
    HyperLogLog estimate, one scan in constant memory)? Then validating the distinct values is the
    shorter way; otherwise every row streams through in chunks, and no hash table of them is built."""
    estimate = con.execute(
        f"select approx_count_distinct(hash({', '.join(_quote(c) for c in dict.fromkeys(columns))})) from {table}"
    ).fetchall()[0][0]
    return estimate * 2 <= rows


def _frames(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...] | None, chunk_rows: int | None,
            distinct: bool = False):
    """Frames over every row of `columns`: one frame, or (row-local expectations) a stream of chunks
    of `chunk_rows` rows, over the distinct values of `columns` where `distinct`."""
    if chunk_rows is None:
        yield _frame(con, table, columns)
        return
    # row by row, equal values get equal verdicts: each distinct value once is every row's verdict
    relation = con.sql(f"select {'distinct ' if distinct else ''}{', '.join(_quote(c) for c in dict.fromkeys(columns))} "
                       f"from {table}")
    kinds = dict(zip(relation.columns, (str(t) for t in relation.types)))
    reader = relation.fetch_arrow_reader(chunk_rows)
    seen_any = False
    for batch in reader:
        seen_any = True
        yield _normalise(batch.to_pandas(), kinds)
    if not seen_any:
        yield _normalise(relation.limit(0).fetch_arrow_table().to_pandas(), kinds)


def _frame(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...] | None):
    """Every row of `columns` (("*",): all; None: no rows, all columns; (): one tiny column) as a frame.

    Dates and timestamps become Python objects GX can compare with the suite's bounds: DuckDB
    hands DATE over as datetime64 and TIMESTAMPTZ as tz-aware datetime64 (normalised to UTC, naive).
    """
    if columns == ALL_COLUMNS:
        relation = con.sql(f"select * from {table}")
    elif columns is None:
        relation = con.sql(f"select * from {table} limit 0")
    elif not columns:
        relation = con.sql(f"select true as _row from {table}")
    else:
        relation = con.sql(f"select {', '.join(_quote(c) for c in dict.fromkeys(columns))} from {table}")
    kinds = dict(zip(relation.columns, (str(t) for t in relation.types)))
    # through Arrow: strings stay in Arrow buffers (pandas' pyarrow-backed str), not Python objects
    return _normalise(relation.fetch_arrow_table().to_pandas(), kinds)


def _normalise(frame, kinds: dict[str, str]):
    for column, kind in kinds.items():
        if not pd.api.types.is_datetime64_any_dtype(frame[column]):
            continue  # Arrow already gave datetime.date objects (or the column is not temporal)
        if kind == "DATE":
            frame[column] = frame[column].dt.date.astype(object)
        elif kind.startswith("TIMESTAMP"):
            values = frame[column]
            if values.dt.tz is not None:
                values = values.dt.tz_convert("UTC").dt.tz_localize(None)
            frame[column] = pd.Series(values.dt.to_pydatetime(), index=frame.index, dtype=object)
    return frame


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _exception_message(info) -> str:
    if not info:
        return ""
    if isinstance(info, dict) and info.get("raised_exception"):
        return str(info.get("exception_message") or "raised an exception")
    if isinstance(info, dict):
        for value in info.values():
            if isinstance(value, dict) and value.get("raised_exception"):
                return str(value.get("exception_message") or "raised an exception").splitlines()[0]
    return ""


def _failure_detail(result: dict, distinct: bool = False) -> str:
    if "observed_value" in result:
        return f"observed {result['observed_value']!r}"
    unexpected = result.get("unexpected_count")
    sample = result.get("partial_unexpected_list") or []
    return f"{unexpected} {'distinct ' if distinct else ''}unexpected values, e.g. {sample[:5]!r}"
