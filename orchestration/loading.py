"""Writing parsed source tables into the build's `raw` schema, each row with its provenance."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

import duckdb
import pyarrow as pa

from orchestration.errors import SourceError
from orchestration.landing import LandedFile
from orchestration.reports import report_of
from orchestration.settings import LIVE, code_fingerprint, source_mode
from orchestration.sources.base import PROVENANCE_TYPES, RawQuery, Source, with_provenance
from orchestration.warehouse import BASE_COUNTS_TABLE, Warehouse, tables_in, utcnow

PROVENANCE_COLUMNS = tuple(PROVENANCE_TYPES)


def base_row_count(con, table: str) -> int | None:
    """The table's row count in the version this run's build started from (recorded once, when the
    build was made): the base for its gate's floor and ceiling. None if that version had no such table."""
    row = con.execute(f"select row_count from {BASE_COUNTS_TABLE} where table_name = ?", [table]).fetchall()
    return row[0][0] if row else None


def check_history_lineage(warehouse: Warehouse, run_id: str, source: Source, landed: Mapping[str, LandedFile]) -> None:
    """The bundled sample never chains into a real list history, nor a real list into the sample's.

    A real list compared with the sample's 51 entries would record some 13,800 "added" designations
    (and Fly Baghdad "removed") on the day of the run; the sample after a real list, the reverse.
    Refused, naming a fresh WAREHOUSE_HOME, before anything is loaded. Judged on the version this
    run's build started from, the one its changes are computed against.
    """
    if source.history_table is None or not landed:
        return
    loading_sample = all(f.is_sample for f in landed.values())
    with warehouse.connect(run_id) as con:
        if source.history_table not in tables_in(con):
            return
        sample_versions, real_versions = con.execute(
            f"select count(*) filter (where is_sample), count(*) filter (where not is_sample) from {source.history_table}"
        ).fetchall()[0]
    home = warehouse.layout.home
    first = next(iter(landed))
    if not loading_sample and sample_versions:
        raise SourceError(
            source.name,
            first,
            f"this WAREHOUSE_HOME ({home}) holds the bundled sample's list history ({sample_versions} sample "
            f"version(s), from `make run`); a real list loaded here would be compared with the sample and record "
            f"thousands of false changes. Use a fresh WAREHOUSE_HOME for real lists, e.g. WAREHOUSE_HOME={home}-real",
        )
    if loading_sample and real_versions:
        raise SourceError(
            source.name,
            first,
            f"this WAREHOUSE_HOME ({home}) holds a real list history ({real_versions} version(s)); the bundled "
            f"sample would be recorded as a new version of it. Run the sample in a fresh WAREHOUSE_HOME, e.g. "
            f"WAREHOUSE_HOME={home}-sample",
        )


def load_raw_tables(
    warehouse: Warehouse,
    run_id: str,
    source: Source,
    tables: Mapping[str, pa.Table | RawQuery],
    landed: Mapping[str, LandedFile],
    summary: dict | None = None,
    files_of: Mapping[str, list[LandedFile]] | None = None,
) -> dict[str, int]:
    """Replace raw.<table> in the run's build with the parsed rows plus provenance columns;
    `summary` (Source.summarize's counts) goes into the load report. Only the tables in `tables`
    are replaced; `files_of` names each one's files where `landed` is not keyed by the publisher's
    file names (a backfill lands many versions of each). One transaction: a query that fails (as
    its source's error, `RawQuery.failed`) or a source's check on the written tables
    (`RawQuery.check`) leaves the build's raw tables as they were."""
    counts: dict[str, int] = {}
    loaded_at = utcnow()
    with warehouse.connect(run_id) as con:
        con.execute("begin")
        try:
            for spec in source.tables:
                if spec.name in tables:
                    files = (files_of[spec.name] if files_of is not None
                             else [landed[name] for name in landed if spec.fed_by(name)])
                    counts[spec.name] = _write_table(con, spec.name, tables[spec.name], files)
                    _record_load(con, source, spec.name, counts[spec.name], files, run_id, loaded_at)
            for rows in tables.values():
                if isinstance(rows, RawQuery) and rows.check is not None:
                    rows.check(con)
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
    warehouse.record_report(
        run_id,
        f"load-{source.name}",
        {
            "kind": "load",
            "source": source.name,
            "tables": {f"raw.{k}": v for k, v in counts.items()},
            "files": [f.provenance() for f in landed.values()],
            **({"summary": summary} if summary else {}),
        },
    )
    return counts


def _write_table(con, table: str, rows: pa.Table | RawQuery, files: list[LandedFile]) -> int:
    """raw.<table> replaced by `rows` (a query the build runs, or Arrow rows given their files'
    provenance); its row count."""
    if isinstance(rows, pa.Table):
        con.register("incoming", file_provenance(rows, files))
        con.execute(f"create or replace table raw.{table} as select * from incoming")
        con.unregister("incoming")
        return rows.num_rows
    for name, relation in rows.inputs.items():
        con.register(name, relation)
    try:
        con.execute(f"create or replace table raw.{table} as {rows.sql}", rows.params)
    except duckdb.Error as exc:  # the transaction is aborted: the caller rolls it back
        if rows.failed is None:
            raise
        raise rows.failed(exc) from None
    for name in rows.inputs:
        con.unregister(name)
    return con.execute(f"select count(*) from raw.{table}").fetchall()[0][0]


def _record_load(con, source: Source, table: str, count: int, files: list[LandedFile], run_id: str, loaded_at) -> None:
    """meta.source_loads: what raw.<table> was loaded from, by which run, when."""
    con.execute("delete from meta.source_loads where table_name = ?", [f"raw.{table}"])
    con.execute(
        "insert into meta.source_loads values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            source.name,
            f"raw.{table}",
            count,
            json.dumps([f.provenance() for f in files]),
            files[0].mode if files else "absent",
            bool(files and files[0].is_sample),
            run_id,
            loaded_at,
        ],
    )


def file_provenance(arrow: pa.Table, files: list[LandedFile]) -> pa.Table:
    """Every raw row with its provenance, attached by the one function that does it
    (`with_provenance`): multi-file parsers (paged APIs) already named each row's file and
    attached it; a table parsed from one file gets that file's; a table of no file (an absent
    optional file, a skipped source on a first run) is empty, with the columns typed."""
    if set(PROVENANCE_COLUMNS) <= set(arrow.column_names):
        return arrow
    if "source_file" not in arrow.column_names:
        if arrow.num_rows and len(files) != 1:
            raise ValueError(f"{arrow.num_rows} rows from {len(files)} files, and the parser did not name each row's file")
        name = files[0].name if files else None
        arrow = arrow.append_column("source_file", pa.array([name] * arrow.num_rows, pa.string()))
    return with_provenance(arrow, {f.name: f for f in files})


def keep_raw_tables(
    warehouse: Warehouse, run_id: str, source: Source, reason: str, empty: Mapping[str, pa.Table] | None = None
) -> dict[str, int]:
    """A skipped source keeps its last published rows; on a first run its tables start empty.

    The empty tables take their columns from the parser run on no files, so dbt models still build.
    Given `empty` (its tables with no rows), only those tables are kept (the rest of a backfill).
    """
    kept = [spec for spec in source.tables if empty is None or spec.name in empty]
    if empty is None:
        empty = source.parse({}) if source.parse_empty_ok else {}
    counts: dict[str, int] = {}
    with warehouse.connect(run_id) as con:
        existing = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
        for spec in kept:
            if spec.name not in existing:
                if spec.name not in empty:
                    raise RuntimeError(f"[{source.name}] skipped on a first run, and its parser cannot build empty tables")
                con.register("incoming", file_provenance(empty[spec.name], []))
                con.execute(f"create table raw.{spec.name} as select * from incoming")
                con.unregister("incoming")
            counts[spec.name] = con.execute(f"select count(*) from raw.{spec.name}").fetchall()[0][0]
            con.execute(
                "update meta.source_loads set source_mode = 'skipped', run_id = ?, loaded_at = ? where table_name = ?",
                [run_id, utcnow(), f"raw.{spec.name}"],
            )
            if spec.name not in existing:
                con.execute(
                    "insert into meta.source_loads values (?, ?, 0, '[]', 'skipped', false, ?, ?)",
                    [source.name, f"raw.{spec.name}", run_id, utcnow()],
                )
    warehouse.record_report(run_id, f"load-{source.name}", {"kind": "load", "source": source.name, "skipped": reason,
                                                            "tables": {f"raw.{k}": v for k, v in counts.items()}})
    return counts


def unchanged_since(warehouse: Warehouse, run_id: str, source: Source, landed: Mapping[str, LandedFile]) -> str | None:
    """The run whose published load of `source` read exactly these files (same names, same sha256)
    with the same code (settings.code_fingerprint): its rows are what loading them again would give.
    None when anything differs, or when the version this build started from says nothing of it."""
    if not landed:
        return None
    with warehouse.connect(run_id) as con:
        if _same_code_as_published(con) is None:
            return None
        rows = con.execute("select table_name, files, run_id from meta.source_loads where source = ? "
                           "order by loaded_at", [source.name]).fetchall()
    return _load_of(rows, source, landed)


def _load_of(rows: list[tuple], source: Source, landed: Mapping[str, LandedFile]) -> str | None:
    """The run of the load in `rows` (table_name, files, run_id of `source`'s raw tables, in load
    order) that read exactly the `landed` files, or None."""
    if not landed or {table for table, _, _ in rows} != {f"raw.{spec.name}" for spec in source.tables}:
        return None
    # the same bytes from another mode (the bundled sample's bytes served live or from a directory)
    # are loaded again: the rows' provenance must say where they came from
    loaded = {(f["file"], f["sha256"], f["mode"], f["is_sample"]) for _, files, _ in rows for f in json.loads(files)}
    if loaded != {(name, f.sha256, f.mode, f.is_sample) for name, f in landed.items()}:
        return None
    return rows[-1][2]


def unchanged_before_run(warehouse: Warehouse, names: list[str] | None) -> dict | None:
    """The report of a refresh that finds, before any run starts, that nothing changed: in bundled
    or directory mode, every source it would load (all, or `names`) has the files of its published
    load (same names, sizes and sha256, read in place: nothing is landed) and the code is the code
    of the published version. Exactly the cases in which a run would end in `nothing_changed`,
    decided without starting one. None when anything differs, or cannot be told before a run
    (live mode, a curated register named, nothing published, another run writing to the home or
    a killed run's build left in it): the run then decides, and reports any error itself."""
    from orchestration.landing import Changed, RecognisingZone
    from orchestration.sources import SOURCES

    mode = source_mode()
    chosen = list(SOURCES) if names is None else names
    if mode.kind == LIVE or not chosen or any(name not in SOURCES for name in chosen) or warehouse.busy():
        return None
    started = utcnow()
    with warehouse.read_published() as con:
        if con is None or (base := _same_code_as_published(con)) is None:
            return None
        rows = con.execute("select source, table_name, files, run_id, row_count from meta.source_loads "
                           "order by loaded_at").fetchall()
    known = {(f["source"], f["file"]): (f["sha256"], f["size"]) for row in rows for f in json.loads(row[2])}
    zone = RecognisingZone(warehouse.layout.landing, known)
    loads = []
    for name in chosen:
        source = SOURCES[name]
        try:
            landed = source.land(zone, mode, None)
        except (Changed, SourceError, OSError):
            return None  # a changed, missing or misnamed file: the run loads it (or says what is wrong)
        own = [row for row in rows if row[0] == name]
        since = _load_of([row[1:4] for row in own], source, landed)
        if since is None:
            return None
        loads.append(unchanged_load(name, since, {table: count for _, table, _, _, count in own}, landed,
                                    checked_before_run=True))
    zone.log_arrivals()
    return {**report_of(warehouse, str(uuid.uuid4()), started.isoformat(), base, loads, published=False),
            "unchanged": unchanged_reason(loads, base)}


def _same_code_as_published(con) -> str | None:
    """The run that published the version this build started from, if the code that built it is
    this code (settings.code_fingerprint, recorded in its report); else None."""
    row = con.execute("select run_id, report->>'code_fingerprint' from meta.published_runs "
                      "order by published_at desc limit 1").fetchall()
    return row[0][0] if row and row[0][1] == code_fingerprint() else None


def keep_unchanged(warehouse: Warehouse, run_id: str, source: Source, landed: Mapping[str, LandedFile],
                   since: str, nothing_new: str | None = None) -> dict[str, int]:
    """An unchanged source: its raw tables, their loads and the history built from them stay as
    published by run `since` (meta.source_loads keeps that load); the run's report says so."""
    with warehouse.connect(run_id) as con:
        counts = {spec.name: con.execute(f"select count(*) from raw.{spec.name}").fetchall()[0][0]
                  for spec in source.tables}
    warehouse.record_report(run_id, f"load-{source.name}", unchanged_load(
        source.name, since, {f"raw.{k}": v for k, v in counts.items()}, landed, nothing_new))
    return counts


def unchanged_load(source: str, since: str, tables: dict[str, int], landed: Mapping[str, LandedFile],
                   nothing_new: str | None = None, **more) -> dict:
    """The load report of a source kept as run `since` published it (`tables`: raw table -> rows)."""
    return {"kind": "load", "source": source, "unchanged": since, "tables": tables,
            "files": [f.provenance() for f in landed.values()],
            **({"nothing_new": nothing_new} if nothing_new else {}), **more}


def unchanged_reason(loads: list[dict], base: str) -> str:
    """Why nothing is built, from the unchanged sources' load reports, against published run `base`."""
    same = sorted(r["source"] for r in loads if r.get("files"))
    recorded = sorted(f"{r['source']} ({r['nothing_new']})" for r in loads if r.get("nothing_new"))
    return "; ".join(part for part in (
        f"the files of {', '.join(same)} have the sha256 of their published load" if same else "",
        f"nothing new: {', '.join(recorded)}" if recorded else "",
    ) if part) + f"; the published version (run {base}) stands"


def nothing_changed(warehouse: Warehouse, run_id: str, rebuild: bool = False) -> str | None:
    """Why this run has nothing new to build, or None: every source it loaded was unchanged and the
    code is the code of the published version. (A skipped source is a change: the published file
    records the skip, which gates and freshness read.)"""
    if rebuild:
        return None
    loads = [r for r in warehouse.collected_reports(run_id) if r.get("kind") == "load"]
    if not loads or any(not r.get("unchanged") for r in loads):
        return None
    with warehouse.connect(run_id) as con:
        base = _same_code_as_published(con)
    return None if base is None else unchanged_reason(loads, base)


def unchanged_tables(warehouse: Warehouse, run_id: str) -> dict[str, tuple[str, int]]:
    """Raw tables this run kept as published because their source's files were unchanged -> the
    run that published them and their row count (from the load's report)."""
    return {table: (report["unchanged"], rows) for report in warehouse.collected_reports(run_id)
            if report.get("kind") == "load" and report.get("unchanged") for table, rows in report["tables"].items()}
