"""One factory turns any `Source` into its raw Dagster assets: land -> parse -> load into `raw`."""


import time
from collections.abc import Iterator

import dagster as dg
import pyarrow as pa

from orchestration.backfill import SOURCE as BACKFILLED_SOURCE
from orchestration.backfill import load_backfill
from orchestration.errors import NothingNew, SourceSkipped, TransientFetchError
from orchestration.landing import LandedFile
from orchestration.loading import (
    check_history_lineage,
    keep_raw_tables,
    keep_unchanged,
    load_raw_tables,
    unchanged_since,
)
from orchestration.progress import megabytes
from orchestration.resources import HttpResource, WarehouseResource
from orchestration.settings import LIVE, SourceMode
from orchestration.sources.base import Source, optional_file_note

PARSE_NOTICE_BYTES = 5 << 20  # parses of larger inputs say when they start and how long they took
WRITER_POOL = "duckdb_writer"  # every DuckDB writer sits in this pool of size 1 (dagster_home/dagster.yaml)


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def unchanged_metadata(table: str, rows: int, since: str) -> dict:
    """A raw table's materialization when its source's files were those of run `since`'s load."""
    return {"dagster/row_count": rows, "table": table,
            "unchanged": f"the files of the load published by run {since} (same sha256); its rows are kept"}


def build_source_assets(source: Source) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            raw_key(table.name),
            group_name=source.name,
            description=table.description,
            kinds={"duckdb"},
            tags={"source": source.name, "layer": "raw"},
            metadata={
                "publisher": source.title,
                "licence": source.licence,
                "publisher_files": dg.MetadataValue.json(
                    [{"file": f.name, "url": source.url_of(f)} for f in source.files if table.fed_by(f.name)]
                ),
                "primary_key": ", ".join(table.primary_key),
                "docs": dg.MetadataValue.url(source.docs_url) if source.docs_url else "",
            },
        )
        for table in source.tables
    ]

    @dg.multi_asset(
        name=f"{source.name}_raw",
        specs=specs,
        pool=WRITER_POOL,
        can_subset=False,
        description=f"Fetch {source.title} per WAREHOUSE_SOURCES, archive the bytes, load raw tables.",
    )
    def _load_source(context: dg.AssetExecutionContext, warehouse: WarehouseResource, http: HttpResource):
        if warehouse.backfill and source.name == BACKFILLED_SOURCE:
            yield from _backfill(context, warehouse, source)
            return
        mode = warehouse.mode()
        context.log.info(f"[{source.name}] reading from {mode.describe()}")
        # live mode: the session, base-URL overrides and API keys, from the http resource's fields
        live = http.live_access() if mode.kind == LIVE else None
        try:
            landed = source.land(warehouse.landing(progress=context.log.info), mode, live)
        except TransientFetchError as fault:
            # a 429/5xx, time-out or dropped connection that outlasted the session's retries: the
            # step runs again later (the run fails once the retries are spent); nothing was loaded
            retry = http.retry_step(fault)
            if context.retry_number >= retry.max_retries:
                raise  # the retries are spent (or off): the run fails with the fault itself
            context.log.warning(f"{fault}; a transient fault: the step runs again in {retry.seconds_to_wait:g} s "
                                f"(attempt {context.retry_number + 1} of {retry.max_retries + 1})")
            raise retry from fault
        except SourceSkipped as notice:
            context.log.warning(f"skipped: {notice}")
            counts = keep_raw_tables(warehouse.store(), context.run_id, source, notice.cause)
            for table in source.tables:
                yield dg.MaterializeResult(
                    asset_key=raw_key(table.name),
                    metadata={"dagster/row_count": counts[table.name], "skipped": notice.cause,
                              "table": f"raw.{table.name}"},
                )
            return
        for name, file in landed.items():
            context.log.info(f"[{source.name}] {name}: {file.size} bytes, sha256 {file.sha256[:12]}…, from {file.origin}")
        with warehouse.store().holding(context.run_id):  # one connection to the build for the rest of the load
            yield from _load_landed(context, warehouse, source, landed, mode)

    return _load_source


def _load_landed(context: dg.AssetExecutionContext, warehouse: WarehouseResource, source: Source,
                 landed: dict[str, LandedFile], mode: SourceMode) -> Iterator[dg.MaterializeResult]:
    """The landed files of `source`: kept when unchanged, else parsed, checked and loaded into raw."""
    since = None if warehouse.rebuild else unchanged_since(warehouse.store(), context.run_id, source, landed)
    if since:
        context.log.info(f"[{source.name}] unchanged: its {len(landed)} file(s) have the sha256 of the load "
                         f"published by run {since}; its published rows are kept (--rebuild loads them again)")
        counts = keep_unchanged(warehouse.store(), context.run_id, source, landed, since)
        for table in source.tables:
            yield dg.MaterializeResult(asset_key=raw_key(table.name),
                                       metadata=unchanged_metadata(f"raw.{table.name}", counts[table.name], since))
        return
    absent = optional_file_note(source, landed)
    size = sum(f.size for f in landed.values())
    started = time.monotonic()
    if size >= PARSE_NOTICE_BYTES:
        context.log.info(f"[{source.name}] parsing {len(landed)} files, {megabytes(size)}…")
    tables = source.parse(landed)
    if size >= PARSE_NOTICE_BYTES:
        context.log.info(f"[{source.name}] parsed in {time.monotonic() - started:.1f} s: " + ", ".join(
            f"{name} {rows.num_rows:,} rows" if isinstance(rows, pa.Table) else f"{name} read by the load"
            for name, rows in tables.items()))
    check_history_lineage(warehouse.store(), context.run_id, source, landed)
    summary = source.summarize(tables) if source.summarize else {}
    for name, about in summary.items():
        context.log.info(f"[{source.name}] {name}: {about.get('text', about) if isinstance(about, dict) else about}")
    counts = load_raw_tables(warehouse.store(), context.run_id, source, tables, landed, summary=summary or None)
    for table in source.tables:
        files = [f for n, f in landed.items() if table.fed_by(n)]
        about = {name: value for name, value in summary.items() if table.fed_by(name)}
        yield dg.MaterializeResult(
            asset_key=raw_key(table.name),
            metadata={
                "dagster/row_count": counts[table.name],
                "table": f"raw.{table.name}",
                "source_mode": mode.describe(),
                "is_sample": bool(files and files[0].is_sample),
                "inputs": dg.MetadataValue.json([f.provenance() for f in files]),
                **({"absent_files": dg.MetadataValue.json(absent)} if absent and not files else {}),
                **({"summary": dg.MetadataValue.json(about)} if about else {}),
            },
        )


def _backfill(context: dg.AssetExecutionContext, warehouse: WarehouseResource, source: Source):
    """Every new version of the archive, loaded at once (orchestration/backfill.py)."""
    store = warehouse.store()
    try:
        tables = load_backfill(store, context.run_id, source, warehouse.backfill,
                               warehouse.landing(progress=context.log.info), context.log.info)
    except NothingNew as notice:
        context.log.info(f"{notice}; the published rows are kept")
        since = store.build_info(context.run_id).get("base_run_id") or "none"
        counts = keep_unchanged(store, context.run_id, source, {}, since, notice.cause)
        tables = {name: {"rows": rows, "skipped": notice.cause} for name, rows in counts.items()}
    except SourceSkipped as notice:
        context.log.warning(f"skipped: {notice}")
        counts = keep_raw_tables(store, context.run_id, source, notice.cause)
        tables = {name: {"rows": rows, "skipped": notice.cause} for name, rows in counts.items()}
    for table in source.tables:
        about = tables[table.name]
        yield dg.MaterializeResult(
            asset_key=raw_key(table.name),
            metadata={
                "dagster/row_count": about["rows"],
                "table": f"raw.{table.name}",
                "source_mode": f"backfill from {warehouse.backfill}",
                **({"backfill": dg.MetadataValue.json(about["backfill"])} if "backfill" in about else {}),
                **({"kept": "published rows kept (a backfill loads the CSV exports only)"} if about.get("kept") else {}),
                **({"skipped": about["skipped"]} if "skipped" in about else {}),
            },
        )
