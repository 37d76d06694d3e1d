"""One benchmark stage in this process (bench.py starts one process per stage and reads its peak memory).

    stage.py land SOURCE SRC_DIR HOME          land SOURCE's files into HOME's landing zone
    stage.py load SOURCE SRC_DIR HOME          land (already landed: the zone only checks), parse, load raw.*
                                               (timed on the build opened, as bare times on its file opened)
    stage.py gate HOME TABLE...                the tables' GX suites over the build, as a run's gates do
    stage.py publish HOME                      publish the build
    stage.py bare KIND DB FILE...              the bare DuckDB load of the same bytes (KIND: ofac jodi csv fr comtrade eia)
    stage.py backfill-bare ARCHIVE [LIMIT]     every version's three files read by DuckDB and diffed in one statement
    stage.py queries DB RUNS                   the analyst queries, RUNS times each

Each prints one JSON line: what it did and its own timings (seconds).
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

import duckdb

RUN_ID = "bench"

ANALYST_QUERIES = {
    "pressure and compliance, last 24 months": """
        select p.month, p.pressure_index, c.compliance_index from marts.fct_sanctions_pressure_monthly p
        join marts.fct_iraq_compliance_monthly c using (month) order by p.month desc limit 24""",
    "Iraq-nexus entities listed now, by program": """
        select programs, count(*) from marts.dim_sanctioned_entity where iraq_nexus and is_listed
        group by all order by 2 desc""",
    "designation changes per list version": """
        select list_version, change_type, count(*) from marts.fct_designation_changes group by all order by all""",
    "entity search by name": """
        select ent_num, name, entity_type from marts.dim_sanctioned_entity where name ilike '%bank%' limit 50""",
    "Iraq's crude exports by year": """
        select year(month) as year, avg(exports_kbd) from marts.fct_oil_monthly where country_iso3 = 'IRQ'
        group by all order by 1""",
    "banks barred from dollars": """
        select count(distinct bank_name) from marts.fct_iraqi_bank_restrictions""",
}


def _store(home: str):
    from orchestration.settings import layout
    from orchestration.warehouse import Warehouse

    return Warehouse(layout(home))


def _landed(source_name: str, src: str, home: str) -> dict:
    from orchestration.landing import LandingZone
    from orchestration.settings import layout, source_mode
    from orchestration.sources import SOURCES

    source = SOURCES[source_name]
    return source, source.land(LandingZone(layout(home).landing), source_mode(src), None)


def land(source_name: str, src: str, home: str) -> dict:
    import orchestration.sources  # noqa: F401  (imported by a refresh at start-up: not landing's cost)

    started = time.perf_counter()
    _, landed = _landed(source_name, src, home)
    return {"files": len(landed), "bytes": sum(f.size for f in landed.values()), "seconds": time.perf_counter() - started}


def load(source_name: str, src: str, home: str) -> dict:
    import pandas  # noqa: F401  (a refresh's process imported it at start-up, with its definitions: not a load's cost)

    import orchestration.sources  # noqa: F401
    from orchestration.loading import load_raw_tables

    gc.freeze()  # as `warehouse refresh` does once its modules are imported (orchestration/cli.py)

    started = time.perf_counter()
    source, landed = _landed(source_name, src, home)
    landed_at = time.perf_counter()
    store = _store(home)
    # The build is opened before the clock starts and closed after it stops, as the bare load opens
    # its file before and closes it after: a refresh opens it once per source (Warehouse.holding),
    # whatever the load does. Its open and close (the checkpoint) are reported apart.
    with store.holding(RUN_ID):
        opened_at = time.perf_counter()
        tables = source.parse(landed)
        parsed_at = time.perf_counter()
        counts = load_raw_tables(store, RUN_ID, source, tables, landed)
        done = time.perf_counter()
    closed_at = time.perf_counter()
    return {"rows": counts, "land_check_s": landed_at - started, "parse_s": parsed_at - opened_at,
            "write_s": done - parsed_at, "seconds": done - opened_at,
            "open_close_s": (opened_at - landed_at) + (closed_at - done)}


def gate(home: str, *tables: str) -> dict:
    from orchestration.gates.gx_gate import validate_table

    store = _store(home)
    found = {}
    for table in tables:
        started = time.perf_counter()
        with store.connect(RUN_ID) as con:
            result = validate_table(con, table, None)
        found[table] = {"seconds": time.perf_counter() - started, "rows": result.row_count,
                        "passed": result.count("passed"), "failed": result.count("failed"),
                        "errored": result.count("errored")}
    return {"tables": found, "seconds": sum(t["seconds"] for t in found.values())}


def publish(home: str) -> dict:
    started = time.perf_counter()
    _store(home).publish(RUN_ID, {"run_id": RUN_ID, "benchmark": True})
    return {"seconds": time.perf_counter() - started}


OFAC_COLUMNS = {
    "SDN.CSV": 12, "ADD.CSV": 6, "ALT.CSV": 5,
}


def bare(kind: str, db: str, *files: str) -> dict:
    """The same bytes into DuckDB tables, nothing else: the floor a raw load is measured against."""
    opening = time.perf_counter()
    con = duckdb.connect(db)
    con.execute("set enable_progress_bar = false")
    started = time.perf_counter()
    if kind == "ofac":
        for path in files:
            name = Path(path).name.upper()
            if name not in OFAC_COLUMNS:
                continue
            columns = {f"c{i}": "VARCHAR" for i in range(OFAC_COLUMNS[name])}
            con.execute(f"create table \"{name}\" as select * from read_csv(?, header = false, columns = ?, "
                        "quote = '\"', escape = '\"', auto_detect = false, comment = chr(26))", [path, columns])
    elif kind == "jodi":
        con.execute("create table jodi as select * from read_csv(?, header = true, all_varchar = true) "
                    "where REF_AREA in ('IQ', 'IR') and ENERGY_PRODUCT = 'CRUDEOIL' "
                    "and FLOW_BREAKDOWN in ('INDPROD', 'TOTEXPSB')", [list(files)])
    elif kind == "csv":
        con.execute("create table series as select * from read_csv(?, header = true, union_by_name = true)", [list(files)])
    else:  # the rows of JSON answers: Federal Register `results`, Comtrade `data`, EIA `response.data`
        rows = {"fr": "results", "comtrade": "data", "eia": "response.data"}[kind]
        con.execute(f"create table answers as select unnest({rows}, max_depth := 2) "
                    "from read_json(?, format = 'auto', maximum_object_size = 1000000000)", [list(files)])
    seconds = time.perf_counter() - started
    rows = sum(con.execute(f'select count(*) from "{t}"').fetchone()[0] for (t,) in con.execute("show tables").fetchall())
    closing = time.perf_counter()
    con.close()
    return {"rows": rows, "seconds": seconds, "open_close_s": (started - opening) + (time.perf_counter() - closing)}


def backfill_bare(archive: str, memory_limit: str = "") -> dict:
    """All versions' SDN, ADD and ALT files read by DuckDB, then one statement: per version, the
    entries added, removed and modified (any field of the entry, its addresses or aliases). Under
    `memory_limit` (as the warehouse's WAREHOUSE_DUCKDB_MEMORY), or DuckDB's default (80% of RAM)."""
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    if memory_limit:
        con.execute(f"set memory_limit = '{memory_limit}'")
    started = time.perf_counter()
    for name, width in OFAC_COLUMNS.items():
        columns = {f"c{i}": "VARCHAR" for i in range(width)}
        con.execute(f"create table \"{name}\" as select regexp_extract(filename, '/(\\d{{4}}-\\d{{2}}-\\d{{2}})/', 1) "
                    "as version, * exclude (filename) from read_csv(?, header = false, columns = ?, quote = '\"', "
                    "escape = '\"', auto_detect = false, comment = chr(26), filename = true)",
                    [f"{archive}/ofac/*/{name}", columns])
    loaded = time.perf_counter()
    rows = con.execute("""
        with addresses as (
            select version, c0 as ent_num, string_agg(concat_ws('|', c1, c2, c3, c4, c5), '~' order by c1) as h
            from "ADD.CSV" group by all
        ),
        aliases as (
            select version, c0 as ent_num, string_agg(concat_ws('|', c1, c2, c3, c4), '~' order by c1) as h
            from "ALT.CSV" group by all
        ),
        states as (
            select s.version, s.c0 as ent_num,
                   hash(concat_ws('|', s.c1, s.c2, s.c3, s.c4, s.c5, s.c6, s.c7, s.c8, s.c9, s.c10, s.c11), a.h, l.h) as state
            from "SDN.CSV" s
            left join addresses a on a.version = s.version and a.ent_num = s.c0
            left join aliases l on l.version = s.version and l.ent_num = s.c0
        ),
        versions as (select version, lag(version) over (order by version) as previous
                     from (select distinct version from states)),
        now as (select s.* from states s join versions v using (version) where v.previous is not null),
        before as (select v.version, s.ent_num, s.state from states s join versions v on s.version = v.previous)
        select coalesce(n.version, b.version) as version,
               count(*) filter (where b.ent_num is null) as added,
               count(*) filter (where n.ent_num is null) as removed,
               count(*) filter (where n.state <> b.state) as modified
        from now n full join before b on n.version = b.version and n.ent_num = b.ent_num
        group by 1 order by 1
    """).fetchall()
    done = time.perf_counter()
    return {"versions": len(rows) + 1, "added": sum(r[1] for r in rows), "removed": sum(r[2] for r in rows),
            "modified": sum(r[3] for r in rows),
            "load_s": loaded - started, "diff_s": done - loaded, "seconds": done - started}


def queries(db: str, runs: str) -> dict:
    con = duckdb.connect(db, read_only=True)
    found = {}
    for name, sql in ANALYST_QUERIES.items():
        times = []
        for _ in range(int(runs)):
            started = time.perf_counter()
            con.execute(sql).fetchall()
            times.append(time.perf_counter() - started)
        times.sort()
        found[name] = {"p50_ms": 1000 * times[len(times) // 2], "p95_ms": 1000 * times[min(len(times) - 1, int(len(times) * 0.95))]}
    con.close()
    return found


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    print(json.dumps(globals()[command.replace("-", "_")](*args), default=str))
