"""How stale each source may become: the Dagster freshness checks and `warehouse freshness`."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.cli import main
from orchestration.freshness import FRESHNESS_CHECKS
from orchestration.sources import SOURCES


def _evaluate(job: dg.JobDefinition, instance: dg.DagsterInstance) -> dict[str, tuple[bool, str]]:
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    found = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            assert data.severity == dg.AssetCheckSeverity.ERROR
            found[data.asset_check_key.asset_key.to_user_string()] = (data.passed, data.description)
    return found


def test_a_source_never_refreshed_fails_its_freshness_check_and_a_fresh_one_passes():
    """The real checks, run by Dagster on a real (ephemeral) instance: never materialized fails,
    materialized just now passes, each against its own source's limit."""
    keys = {spec.asset_key for check in FRESHNESS_CHECKS for spec in check.check_specs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        defs = dg.Definitions(assets=[dg.AssetSpec(k) for k in keys], asset_checks=FRESHNESS_CHECKS,
                              jobs=[dg.define_asset_job("freshness", selection=dg.AssetSelection.checks(*FRESHNESS_CHECKS))])
    job = defs.resolve_job_def("freshness")
    instance = dg.DagsterInstance.ephemeral()
    first = _evaluate(job, instance)
    assert set(first) == {f"raw/{t.name}" for s in SOURCES.values() for t in s.tables}
    assert first["raw/ofac_sdn"] == (False, "Asset has never been observed/materialized.")

    instance.report_runless_asset_event(dg.AssetMaterialization(dg.AssetKey(["raw", "ofac_sdn"])))
    instance.report_runless_asset_event(dg.AssetMaterialization(dg.AssetKey(["raw", "jodi_crude_oil"])))
    second = _evaluate(job, instance)
    # Dagster words OFAC's 5 days as "5 days" or "4 days, 23 hours, 59 minutes, 59 seconds" (its rounding)
    assert second["raw/ofac_sdn"][0] is True
    assert re.search(r"within the allowed time range of (5 days|4 days, 23 hours)", second["raw/ofac_sdn"][1])
    assert second["raw/jodi_crude_oil"][0] is True
    assert re.search(r"within the allowed time range of (35 days|34 days, 23 hours)", second["raw/jodi_crude_oil"][1])
    assert second["raw/ofac_addresses"][0] is False  # another table of the same source: judged on its own


@pytest.fixture
def sample_home(published_sample, tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "home"
    shutil.copytree(published_sample[0], home, symlinks=True)
    monkeypatch.setenv("WAREHOUSE_HOME", str(home))
    return home


def _age_loads(home: Path, source: str, days: int, mode: str | None = None) -> None:
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    try:
        con.execute(f"update meta.source_loads set loaded_at = loaded_at - interval {days} day"
                    + (f", source_mode = '{mode}'" if mode else "") + " where source = ?", [source])
    finally:
        con.close()


def test_warehouse_freshness_passes_on_a_fresh_build(sample_home: Path, capsys):
    assert main(["freshness"]) == 0
    out = capsys.readouterr().out
    for name in SOURCES:
        assert f"  {name:<17} ok " in out
    assert "(limit 5.0 days)" in out and "(limit 35.0 days)" in out and "bundled SAMPLE" in out


def test_warehouse_freshness_fails_naming_each_stale_source(sample_home: Path, capsys):
    _age_loads(sample_home, "ofac", 6)  # past OFAC's 5 days
    _age_loads(sample_home, "jodi", 30)  # within JODI's 35 days
    _age_loads(sample_home, "imf", 36)  # past 35 days
    assert main(["freshness"]) == 1
    captured = capsys.readouterr()
    assert "  ofac              STALE" in captured.out and "6.0 days (limit 5.0 days)" in captured.out
    assert "  jodi              ok" in captured.out and "30.0 days (limit 35.0 days)" in captured.out
    assert "  imf               STALE" in captured.out
    assert "error: stale beyond their limit: ofac, imf; refresh them (`warehouse refresh --only ofac,imf`)" in captured.err


def test_a_skipped_load_does_not_count_as_fresh(sample_home: Path, capsys):
    _age_loads(sample_home, "eia", 0, mode="skipped")  # e.g. live mode without EIA_API_KEY
    assert main(["freshness"]) == 1
    captured = capsys.readouterr()
    assert "  eia               STALE last loaded -" in captured.out and "never loaded" in captured.out
    assert "stale beyond their limit: eia;" in captured.err


def test_nothing_published_is_stale(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("WAREHOUSE_HOME", str(tmp_path / "empty"))
    assert main(["freshness"]) == 1
    assert "Nothing published yet" in capsys.readouterr().err
