"""Refreshes that run themselves, all in UTC, all through the one `refresh_warehouse` job (so the
same one-writer lock, gates and compare-and-swap publish as the command line):

    ofac_new_publication     sensor, every 15 min: a new publication in OFAC's publication history
                             starts an OFAC refresh (cursor: the last publication id seen)
    ofac_business_days       Mon-Fri 14:00 UTC, the backstop should a publication be missed
    federal_register_daily   Mon-Fri 15:00 UTC
    trade_and_oil_monthly    the 5th of each month 06:00 UTC (IMF, Comtrade, JODI, EIA)
    refresh_warehouse_daily  every source, 06:00 UTC (off by default: the ones above cover it)

Each runs where a Dagster daemon runs (`make dev`); all are on by default except the daily full
refresh. A source refresh runs that source and what is downstream of it (`warehouse refresh
--only`'s selection).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import requests

from orchestration import http_client
from orchestration.errors import NotFound
from orchestration.resources import HttpResource, WarehouseResource
from orchestration.settings import LIVE
from orchestration.sources.ofac import EASTERN, HISTORY, OFAC, read_publications

JOB = "refresh_warehouse"
TRADE_AND_OIL = ["imf", "comtrade", "jodi", "eia"]


def _request(names: list[str], warehouse: WarehouseResource, run_key: str | None, trigger: str,
             tags: dict[str, str]) -> dg.RunRequest:
    from orchestration.selection import refresh_selection

    chosen = refresh_selection(names, warehouse.store().published_tables())
    return dg.RunRequest(run_key=run_key, asset_selection=chosen.keys, asset_check_keys=chosen.checks,
                         tags={"trigger": trigger, "sources": ",".join(names), **tags})


def latest_publication(history_url: str, session: requests.Session | None = None) -> tuple[int, datetime] | None:
    """(id, UTC time) of the newest publication in OFAC's history answer at `history_url`; None when
    the year has no history yet (HTTP 404). Either answer shape; anything else fails naming the cause."""
    with tempfile.TemporaryDirectory(prefix="ofac-history-") as tmp:
        path = Path(tmp) / "history.json"
        try:
            http_client.download(session or http_client.make_session(), OFAC.name, history_url, path)
        except NotFound:
            return None
        publications = read_publications(path, f"history answer of {history_url}")
    if not publications:
        return None
    publication_id, published_utc, _ = max(publications, key=lambda p: p[0])
    return publication_id, published_utc


@dg.sensor(
    name="ofac_new_publication",
    job_name=JOB,
    minimum_interval_seconds=15 * 60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Polls OFAC's publication history (live mode) and starts an OFAC refresh for each new "
    "publication; cursor = the last publication id seen",
)
def ofac_new_publication(context: dg.SensorEvaluationContext, warehouse: WarehouseResource, http: HttpResource):
    if warehouse.mode().kind != LIVE:
        return dg.SkipReason(f"WAREHOUSE_SOURCES is {warehouse.mode().describe()}, not live: there is no "
                             "publication history to poll")
    year = datetime.now(EASTERN).year
    url = OFAC.url_of(HISTORY, http.ofac_base_url).format(year=year)
    latest = latest_publication(url, http.session())  # a malformed answer raises: the tick fails, loudly, in the UI
    if latest is None:
        return dg.SkipReason(f"OFAC's publication history for {year} lists no publication yet")
    publication_id, published_at = latest
    seen = int(context.cursor) if context.cursor else None
    if seen is not None and publication_id <= seen:
        return dg.SkipReason(f"no OFAC publication after {seen} (latest {publication_id}, {published_at:%Y-%m-%d %H:%M} UTC)")
    context.update_cursor(str(publication_id))
    return _request(["ofac"], warehouse, f"ofac-publication-{publication_id}", "ofac_new_publication",
                    {"ofac/publication_id": str(publication_id),
                     "ofac/published_at": published_at.isoformat()})


def _source_schedule(name: str, cron: str, sources: list[str], description: str) -> dg.ScheduleDefinition:
    @dg.schedule(name=name, cron_schedule=cron, execution_timezone="UTC", job_name=JOB,
                 default_status=dg.DefaultScheduleStatus.RUNNING, description=description)
    def _schedule(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
        when = (context.scheduled_execution_time or datetime.now(UTC)).astimezone(UTC)
        return _request(sources, warehouse, None, name, {"scheduled_for": when.isoformat()})

    return _schedule


ofac_business_days = _source_schedule(
    "ofac_business_days", "0 14 * * 1-5", ["ofac"],
    "OFAC lists, Mon-Fri 14:00 UTC: the backstop to the publication sensor")
federal_register_daily = _source_schedule(
    "federal_register_daily", "0 15 * * 1-5", ["federal_register"],
    "Federal Register documents, Mon-Fri 15:00 UTC (it publishes on business days)")
trade_and_oil_monthly = _source_schedule(
    "trade_and_oil_monthly", "0 6 5 * *", TRADE_AND_OIL,
    "IMF, Comtrade, JODI and EIA, the 5th of each month 06:00 UTC (monthly statistics)")

SENSORS = [ofac_new_publication]
SCHEDULES = [ofac_business_days, federal_register_daily, trade_and_oil_monthly]
