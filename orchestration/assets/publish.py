"""The publish step: runs last, only when every upstream asset and blocking check passed."""


from collections.abc import Iterable

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
            "blocking check passed, and writes the run report beside it."
        ),
    )
    def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        store = warehouse.store()
        store.ensure_build(context.run_id)
        changes = detect_changes(store, context.run_id)
        report = store.publish(context.run_id, {**compose_report(store, context.run_id, published=True), "changes": changes})
        # only once published: a failed POST is reported, never undoes the publish
        report["alert"] = notify(changes, report)
        store.save_report(report)
        store.finish(context.run_id)
        path = store.layout.published
        counts = report["tables"]
        context.log.info(f"published {path} ({len(counts)} tables; the report is stored inside it)")
        for line in summary_lines(changes):
            context.log.info(line.strip())
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
            }
        )

    return published_warehouse
