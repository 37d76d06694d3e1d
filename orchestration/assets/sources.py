"""One factory turns any `Source` into its raw Dagster assets: land -> parse -> load into `raw`."""


import dagster as dg

from orchestration.errors import SourceSkipped
from orchestration.loading import check_history_lineage, keep_raw_tables, load_raw_tables
from orchestration.resources import WarehouseResource
from orchestration.settings import LIVE
from orchestration.sources.base import Source, optional_file_note

WRITER_POOL = "duckdb_writer"  # every DuckDB writer sits in this pool of size 1 (dagster_home/dagster.yaml)


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


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
    def _load_source(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        mode = warehouse.mode()
        context.log.info(f"[{source.name}] reading from {mode.describe()}")
        session = warehouse.http() if mode.kind == LIVE else None
        try:
            landed = source.land(warehouse.landing(), mode, session)
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
        absent = optional_file_note(source, landed)
        tables = source.parse(landed)
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

    return _load_source
