"""The publish step: runs last, only when every upstream asset and blocking check passed."""

import base64
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from orchestration.alerts import detect_changes, notify, summary_lines
from orchestration.assets.sources import WRITER_POOL
from orchestration.reports import compose_report
from orchestration.resources import WarehouseResource

PUBLISHED_KEY = dg.AssetKey(["published_warehouse"])


def build_publish_asset(upstream: Iterable[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_KEY,
        deps=sorted(set(upstream), key=lambda k: k.to_user_string()),
        group_name="publish",
        pool=WRITER_POOL,
        kinds={"duckdb"},
        description=(
            "Atomically replaces WAREHOUSE_HOME/warehouse.duckdb with this run's build once every "
            "blocking check passed, with its Parquet set and its charts and HTML report "
            "(WAREHOUSE_HOME/report/current/index.html), and writes the run report beside it."
        ),
    )
    def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        store = warehouse.store()
        store.ensure_build(context.run_id)
        changes = detect_changes(store, context.run_id)
        report = store.publish(context.run_id, {**compose_report(store, context.run_id, published=True), "changes": changes})
        html = store.report_dir / context.run_id / "index.html"
        charts = charts_markdown(html.parent, report["charts"])  # read while this run still holds the writer lock
        # only once published: a failed POST is reported, never undoes the publish
        report["alert"] = notify(changes, report)
        store.save_report(report)
        store.finish(context.run_id)
        path = store.layout.published
        counts = report["tables"]
        context.log.info(f"published {path} ({len(counts)} tables; the report is stored inside it)")
        for line in summary_lines(changes):
            context.log.info(line.strip())
        context.log.info(f"charts and report: {html}")
        alert = report["alert"]
        if alert.get("error"):
            context.log.warning(f"alert not delivered ({alert['error']}); the publish stands")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "tables": dg.MetadataValue.json(counts),
                "gates": dg.MetadataValue.json(
                    {g["table"]: g["counts"] for g in report["gates"]}
                ),
                "run_report": dg.MetadataValue.path(str(store.layout.run_reports / f"{context.run_id}.json")),
                "changes": dg.MetadataValue.json(changes),
                "alert": dg.MetadataValue.json(alert),
                "report": dg.MetadataValue.path(str(html)),
                "charts": dg.MetadataValue.md(charts),
            }
        )

    return published_warehouse


def charts_markdown(folder: Path, charts: list[dict]) -> str:
    """Every chart embedded as a data-URI image (the UI's Markdown renders `data:` images), each
    under its title, with the reason when it had no data."""
    parts = []
    for chart in charts:
        encoded = base64.b64encode((folder / chart["file"]).read_bytes()).decode("ascii")
        empty = f"\n\n**No data:** {chart['note']}" if not chart["has_data"] else ""
        parts.append(f"### {chart['title']}{empty}\n\n![{chart['title']}](data:image/png;base64,{encoded})")
    return "\n\n".join(parts)
