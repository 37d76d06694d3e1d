"""Great Expectations gates over whole DuckDB tables.

GX's SQL datasource cannot validate DuckDB (it closes the connection before reading results, so
every expectation errors: GX issues 10738 and 11579). The gate therefore reads the whole table
once, through Arrow, into a single pandas frame and validates it with GX's pandas datasource:
every row is seen, and the table is held in Python memory once.

Suites live in `expectations/<schema>.<table>.json`. Two suite parameters are filled at run time:
`row_count_floor` (half of the last published row count, never below `meta.min_rows`) and `today`
(for "no date in the future"). An expectation that raised is reported as *errored*, distinct from
a data failure; either one fails the gate.
"""

from __future__ import annotations

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


@dataclass
class Outcome:
    expectation: str
    column: str | None
    status: str  # passed | failed | errored
    detail: str


@dataclass
class GateResult:
    suite: str
    table: str
    row_count: int
    row_count_floor: int
    previous_row_count: int | None
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


@lru_cache(maxsize=1)
def _batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("warehouse_gate").add_dataframe_asset("table")
    return asset.add_batch_definition_whole_dataframe("whole_table")


def validate_table(
    con: duckdb.DuckDBPyConnection, table: str, previous_rows: int | None, not_loaded: bool = False
) -> GateResult:
    """Validate every row of `table` against its suite; never raises for a data problem.

    `not_loaded`: the table was not loaded this run (optional file absent, source skipped), so
    no row-count floor applies; every other expectation still does.
    """
    from great_expectations.core import ExpectationSuite

    suite_json = load_suite(table)
    floor = 0 if not_loaded else row_count_floor(suite_json, previous_rows)
    frame = _frame(con, table)
    result = GateResult(suite_json["name"], table, len(frame), floor, previous_rows)
    suite = ExpectationSuite(name=suite_json["name"], expectations=suite_json["expectations"])
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    validation = batch.validate(
        suite,
        result_format="SUMMARY",
        expectation_parameters={
            "row_count_floor": floor,
            "today": date.today().isoformat(),
            "today_end": f"{date.today().isoformat()}T23:59:59",
        },
    )
    for item in validation.results:
        config = item.expectation_config
        column = config.kwargs.get("column")
        error = _exception_message(item.exception_info)
        if error:
            result.outcomes.append(Outcome(config.type, column, "errored", error))
        elif item.success:
            result.outcomes.append(Outcome(config.type, column, "passed", ""))
        else:
            result.outcomes.append(Outcome(config.type, column, "failed", _failure_detail(item.result)))
    del frame
    return result


def _frame(con: duckdb.DuckDBPyConnection, table: str):
    """The whole table as one pandas frame, dates and timestamps as Python objects GX can compare.

    DuckDB hands DATE over as datetime64 and TIMESTAMPTZ as tz-aware datetime64; GX compares
    bounds parsed from the suite as naive dates/datetimes, so both are normalised (UTC, naive).
    """
    relation = con.sql(f"select * from {table}")
    kinds = dict(zip(relation.columns, (str(t) for t in relation.types)))
    frame = relation.df()
    for column, kind in kinds.items():
        if kind == "DATE":
            frame[column] = frame[column].dt.date.astype(object)
        elif kind.startswith("TIMESTAMP"):
            values = frame[column]
            if values.dt.tz is not None:
                values = values.dt.tz_convert("UTC").dt.tz_localize(None)
            frame[column] = pd.Series(values.dt.to_pydatetime(), index=frame.index, dtype=object)
    return frame


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


def _failure_detail(result: dict) -> str:
    if "observed_value" in result:
        return f"observed {result['observed_value']!r}"
    unexpected = result.get("unexpected_count")
    sample = result.get("partial_unexpected_list") or []
    return f"{unexpected} unexpected values, e.g. {sample[:5]!r}"
