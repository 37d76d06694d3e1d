"""Benchmark: peak memory and time of a GX gate over a whole DuckDB table.

The gate reads the table once into one pandas frame (GX's SQL datasource cannot run on DuckDB).
This measures what that costs on a table far larger than OFAC's lists, in a fresh process, and
compares the peak resident memory added by the gate with the size of the frame itself.

    .venv/bin/python benchmarks/gate_memory.py [rows]      (default 2,000,000 rows)
"""

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from orchestration.gates import gx_gate

    with tempfile.TemporaryDirectory() as tmp:
        suites = Path(tmp) / "suites"
        suites.mkdir()
        gx_gate.EXPECTATIONS_DIR = suites
        (suites / "raw.big.json").write_text(json.dumps({
            "name": "raw.big", "meta": {"min_rows": 1},
            "expectations": [
                {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": {"$PARAMETER": "row_count_floor"}}},
                {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "ent_num"}},
                {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "ent_num"}},
                {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "sdn_type", "value_set": ["individual", "vessel", "aircraft"]}},
                {"type": "expect_column_value_lengths_to_be_between", "kwargs": {"column": "remarks", "max_value": 1000}},
                {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "source_sha256", "regex": "^[0-9a-f]{64}$"}},
            ],
        }))
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        con.execute("create schema raw")
        con.execute(f"""
            create table raw.big as
            select range::integer as ent_num,
                   'ENTITY NAME ' || range as sdn_name,
                   case range % 4 when 0 then null when 1 then 'individual' when 2 then 'vessel' else 'aircraft' end as sdn_type,
                   'SDGT] [IRGC' as program,
                   repeat('remarks text ', 20) || range as remarks,
                   sha256(range::varchar) as source_sha256
            from range({ROWS})
        """)
        import great_expectations  # noqa: F401  (import cost is not the gate's)

        before = peak_rss_mb()
        frame_mb = con.sql("select * from raw.big limit 100000").df().memory_usage(deep=True).sum() / 1024 / 1024 * ROWS / 100000
        start = time.perf_counter()
        result = gx_gate.validate_table(con, "raw.big", previous_rows=None)
        elapsed = time.perf_counter() - start
        after = peak_rss_mb()
        print(f"rows validated:        {result.row_count:,}")
        print(f"expectations:          {result.count('passed')} passed, {result.count('failed')} failed, {result.count('errored')} errored")
        print(f"time:                  {elapsed:.1f} s")
        print(f"frame size (pandas):   {frame_mb:,.0f} MB (estimated from a 100k-row slice)")
        print(f"peak RSS before gate:  {before:,.0f} MB")
        print(f"peak RSS after gate:   {after:,.0f} MB (+{after - before:,.0f} MB, {(after - before) / frame_mb:.2f}x the frame)")


if __name__ == "__main__":
    main()
