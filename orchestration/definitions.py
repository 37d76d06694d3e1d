"""The one Dagster code location: raw source assets -> dbt -> GX gates -> publish."""


import logging
import os

import dagster as dg

from orchestration import automation
from orchestration.assets.dbt import dbt_resource, dbt_warehouse
from orchestration.assets.event_study import EVENT_STUDY_KEY, rpt_event_study
from orchestration.assets.publish import PUBLISHED_KEY, build_publish_asset
from orchestration.assets.sources import build_source_assets
from orchestration.freshness import FRESHNESS_CHECKS, NOT_IN_REFRESH, freshness_sensor
from orchestration.gates.checks import gx_gates, nexus_counts
from orchestration.progress import UnreportedCheckFilter, concise_console
from orchestration.reports import record_failure
from orchestration.resources import HttpResource, WarehouseResource
from orchestration.sources import SOURCES

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.getLogger("dagster._core.execution.plan.active").addFilter(UnreportedCheckFilter())

raw_assets = [build_source_assets(source) for source in SOURCES.values()]
raw_keys = [key for assets in raw_assets for key in assets.keys]
dbt_keys = list(dbt_warehouse.keys)
# every raw table (Python-loaded sources and curated dbt seeds) and every mart is gated, in one step
# per group of tables built by one step: the sources' loads, dbt, the event study
gates = [
    gx_gates("gate_raw_tables", raw_keys, "The Great Expectations suites of the raw tables the sources load"),
    gx_gates("gate_dbt_tables", [key for key in dbt_keys if key.path[0] in ("raw", "marts")],
             "The Great Expectations suites of the curated registers (dbt seeds) and the marts dbt builds"),
    gx_gates("gate_event_study", [EVENT_STUDY_KEY], "The Great Expectations suite of the event study"),
    nexus_counts,
]
published_warehouse = build_publish_asset(raw_keys + dbt_keys + [EVENT_STUDY_KEY])

# everything a refresh materializes
all_assets = [*raw_assets, dbt_warehouse, rpt_event_study, published_warehouse]

# The one job every refresh runs, whoever launches it: the `warehouse` command (in process, with an
# asset selection for --only), `dagster job execute`, the UI, the schedule and sensors.
refresh_job = dg.define_asset_job(
    "refresh_warehouse",
    selection=dg.AssetSelection.all() - NOT_IN_REFRESH,
    description="Fetch every source, build, gate and publish the warehouse (freshness checks run apart, "
    "from their sensor).",
)
daily_refresh = dg.ScheduleDefinition(
    name="refresh_warehouse_daily",
    job=refresh_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every source, daily 06:00 UTC; off by default (the per-source schedules and the OFAC sensor cover it)",
)


@dg.run_failure_sensor(name="record_failed_refresh", default_status=dg.DefaultSensorStatus.RUNNING)
def record_failed_refresh(context: dg.RunFailureSensorContext, warehouse: WarehouseResource) -> None:
    """A failed run publishes nothing: keep its build for inspection and write its report (the same
    handler as the `warehouse` command's; a run whose process died is reported by the next run)."""
    store = warehouse.store()
    run_id = context.dagster_run.run_id
    if store.build_dir(run_id).exists():
        record_failure(store, run_id, context.failure_event.message or "the run failed")


def resources() -> dict:
    return {
        "warehouse": WarehouseResource.from_env(),
        "http": HttpResource.from_env(),
        "dbt": dbt_resource(),
    }


defs = dg.Definitions(
    assets=all_assets,
    asset_checks=[*gates, *FRESHNESS_CHECKS],
    jobs=[refresh_job],
    schedules=[daily_refresh, *automation.SCHEDULES],
    sensors=[record_failed_refresh, *automation.SENSORS, freshness_sensor],
    resources=resources(),
    # one short line per step event and gate result, in the terminal and in the run's stdout
    loggers={"console": concise_console},
    # every step writes the one build file: steps run one after another in one process, whatever
    # the instance (an ephemeral one, as `dagster job execute` without DAGSTER_HOME gives, enforces
    # no pool limits, and parallel step processes then collide on DuckDB's file lock)
    executor=dg.in_process_executor,
)

__all__ = ["PUBLISHED_KEY", "defs"]
