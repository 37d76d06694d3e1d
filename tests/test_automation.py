"""Refreshes that run themselves: the OFAC publication sensor on recorded publication-history
answers (served by a local HTTP server), and the per-source schedules, all through the one job."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import pytest

from orchestration.automation import (
    federal_register_daily,
    ofac_business_days,
    ofac_new_publication,
    trade_and_oil_monthly,
)
from orchestration.errors import FormatError
from orchestration.resources import HttpResource, WarehouseResource
from orchestration.sources.ofac import EASTERN
from tests.conftest import SAMPLE_OFAC
from tests.http_fixture import Reply

HISTORY = (SAMPLE_OFAC / "changes_history_2024.json").read_bytes()  # {"publications": [...]}, ids 101-106
EXPORTS = "/api/PublicationPreview/exports"


@pytest.fixture
def live(http_server, tmp_path, monkeypatch, dbt_manifest):
    """A live-mode warehouse resource whose OFAC service is the local server; returns (resource, script)."""
    monkeypatch.setenv("WAREHOUSE_OFAC_BASE_URL", http_server.url(EXPORTS))
    resource = WarehouseResource(home=str(tmp_path / "home"), sources="live")
    year = datetime.now(EASTERN).year  # the history of the current US Eastern year, as the sensor asks

    def script(*replies: Reply) -> None:
        http_server.script(f"/changes/history/{year}", *replies)

    return resource, script


def evaluate(resource: WarehouseResource, cursor: str | None = None):
    context = dg.build_sensor_context(cursor=cursor, resources={"warehouse": resource, "http": HttpResource.from_env()})
    return ofac_new_publication(context), context


def keys(request: dg.RunRequest) -> set[str]:
    return {key.to_user_string() for key in request.asset_selection}


def test_a_new_publication_starts_an_ofac_refresh_once(live):
    resource, script = live
    script(Reply(200, body=HISTORY, headers={"Content-Type": "application/json"}))
    request, context = evaluate(resource)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == "ofac-publication-106" and context.cursor == "106"
    assert request.tags["ofac/publication_id"] == "106" and request.tags["trigger"] == "ofac_new_publication"
    assert request.tags["ofac/published_at"] == "2024-01-25T19:20:07.015390+00:00"  # 14:20 US Eastern, in UTC
    chosen = keys(request)
    assert {"raw/ofac_sdn", "raw/ofac_publications", "marts/fct_designation_changes", "published_warehouse"} <= chosen
    assert "raw/jodi_crude_oil" not in chosen and "raw/imf_imts_trade" not in chosen
    checks = {(c.asset_key.to_user_string(), c.name) for c in request.asset_check_keys}
    assert {("raw/ofac_sdn", "gx_suite"), ("marts/fct_ofac_list_versions", "nexus_counts")} <= checks
    assert not any(name == "freshness_check" for _, name in checks)  # left to the freshness sensor
    assert {asset for asset, _ in checks} <= chosen

    # nothing new since: skipped, the cursor stays
    skipped, context = evaluate(resource, cursor="106")
    assert isinstance(skipped, dg.SkipReason) and "no OFAC publication after 106" in skipped.skip_message
    # the bare-list shape of the same answer, with one more publication
    publications = json.loads(HISTORY)["publications"] + [{"publicationID": 107, "datePublished": "2024-01-29T09:00:00"}]
    script(Reply(200, body=json.dumps(publications).encode(), headers={"Content-Type": "application/json"}))
    request, context = evaluate(resource, cursor="106")
    assert request.run_key == "ofac-publication-107" and context.cursor == "107"


def test_a_malformed_or_missing_history(live):
    resource, script = live
    script(Reply(200, body=b'{"data": []}', headers={"Content-Type": "application/json"}))
    with pytest.raises(FormatError, match='an object without a "publications" list'):
        evaluate(resource, cursor="106")
    script(Reply(200, body=b'{"publications": [{"publicationID": "x", "datePublished": "2024-01-05T10:12:31"}]}'))
    with pytest.raises(FormatError, match="publicationID 'x' is not an integer"):
        evaluate(resource, cursor="106")
    script(Reply(404, body=b"Not Found"))
    skipped, context = evaluate(resource, cursor="106")
    assert "lists no publication yet" in skipped.skip_message and context.cursor == "106"


def test_the_sensor_polls_only_in_live_mode(tmp_path, dbt_manifest):
    skipped, _ = evaluate(WarehouseResource(home=str(tmp_path), sources="bundled"))
    assert isinstance(skipped, dg.SkipReason) and "not live" in skipped.skip_message


@pytest.mark.parametrize(
    "schedule, cron, wanted, unwanted",
    [
        (ofac_business_days, "0 14 * * 1-5", {"raw/ofac_sdn"}, {"raw/jodi_crude_oil", "raw/federal_register_documents"}),
        (federal_register_daily, "0 15 * * 1-5", {"raw/federal_register_documents"}, {"raw/ofac_sdn", "raw/imf_imts_trade"}),
        (trade_and_oil_monthly, "0 6 5 * *",
         {"raw/imf_imts_trade", "raw/comtrade_mirror_trade", "raw/jodi_crude_oil", "raw/eia_crude_production"},
         {"raw/ofac_sdn", "raw/federal_register_documents"}),
    ],
    ids=["ofac", "federal_register", "trade_and_oil"],
)
def test_schedules_refresh_their_sources_in_utc(schedule, cron, wanted, unwanted, tmp_path, dbt_manifest):
    assert schedule.cron_schedule == cron and schedule.execution_timezone == "UTC"
    assert schedule.job_name == "refresh_warehouse" and schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    when = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    context = dg.build_schedule_context(scheduled_execution_time=when,
                                        resources={"warehouse": WarehouseResource(home=str(tmp_path), sources="bundled")})
    request = schedule.evaluate_tick(context).run_requests[0]
    chosen = keys(request)
    assert wanted <= chosen and not (unwanted & chosen) and "published_warehouse" in chosen
    assert request.tags["scheduled_for"] == when.isoformat() and request.tags["trigger"] == schedule.name
