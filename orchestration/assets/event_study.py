"""marts.rpt_event_study: the event study, a Python asset on the dbt marts, gated like the rest."""

import dagster as dg
import pandas as pd

from orchestration.analysis.event_study import DRAWS, KEY_EVENTS_SQL, WINDOWS, KeyEvent, run_event_study
from orchestration.assets.sources import WRITER_POOL
from orchestration.resources import WarehouseResource

EVENT_STUDY_KEY = dg.AssetKey(["marts", "rpt_event_study"])
UPSTREAM = (dg.AssetKey(["marts", "fct_iraq_compliance_monthly"]), dg.AssetKey(["marts", "fct_sanctions_events"]))


@dg.asset(
    key=EVENT_STUDY_KEY,
    deps=list(UPSTREAM),
    group_name="marts",
    pool=WRITER_POOL,
    kinds={"duckdb", "python"},
    description=(
        "For each key event (NSPM-2, the waiver lapse, each bank-ban wave) and each compliance outcome: "
        f"means before and after over {' and '.join(map(str, WINDOWS))} months, the difference, a 95% "
        f"block-bootstrap interval ({DRAWS} draws) and a placebo-month p-value."
    ),
)
def rpt_event_study(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.store().connect(context.run_id) as con:
        compliance = con.execute("select * from marts.fct_iraq_compliance_monthly order by month").df()
        events = [
            KeyEvent(event_type, pd.Timestamp(event_date), title)
            for event_type, event_date, title in con.execute(KEY_EVENTS_SQL).fetchall()
        ]
        if not events:
            raise ValueError("[event_study] marts.fct_sanctions_events holds none of the key events (NSPM-2, waiver lapse, bank bans)")
        study = run_event_study(compliance.set_index(pd.to_datetime(compliance["month"])), events)
        con.register("study", study)
        con.execute(
            "create or replace table marts.rpt_event_study as select * replace "
            "(cast(event_date as date) as event_date, cast(event_month as date) as event_month) from study"
        )
        con.unregister("study")
    estimated = int(study["difference"].notna().sum())
    context.log.info(f"event study: {len(events)} key events, {len(study)} rows, {estimated} with a difference")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(study),
            "table": "marts.rpt_event_study",
            "key_events": dg.MetadataValue.json([f"{e.event_type} {e.event_date:%Y-%m-%d}" for e in events]),
            "rows_with_difference": estimated,
        }
    )
