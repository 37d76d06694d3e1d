"""The asset graph, checks, pools and lineage, so an accidental change shows up in review."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def defs(dbt_manifest):
    from orchestration.definitions import defs

    return defs


def keys(defs) -> set[str]:
    return {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}


def test_asset_graph_snapshot(defs):
    assert keys(defs) >= {
        "raw/ofac_sdn",
        "raw/ofac_addresses",
        "raw/ofac_aliases",
        "raw/ofac_comments",
        "raw/iraqi_banks_barred",
        "raw/fincen_311_actions",
        "raw/sanctions_events",
        "staging/stg_ofac__sdn_entries",
        "staging/int_ofac__nexus_rules_matched",
        "history/ofac_list_observations",
        "history/ofac_list_members",
        "history/ofac_entity_states",
        "marts/dim_sanctioned_entity",
        "marts/fct_designation_changes",
        "marts/fct_ofac_list_versions",
        "marts/fct_iraqi_bank_restrictions",
        "marts/fct_sanctions_events",
        "raw/imf_imts_trade",
        "raw/comtrade_mirror_trade",
        "raw/jodi_crude_oil",
        "raw/eia_crude_production",
        "marts/fct_bilateral_trade_monthly",
        "marts/fct_iraq_iran_trade_monthly",
        "marts/fct_oil_monthly",
        "marts/rpt_iran_barrels_offset",
        "raw/federal_register_documents",
        "raw/ofac_sanctions_entries",
        "raw/ofac_profile_relationships",
        "raw/ofac_publications",
        "raw/ofac_program_classification",
        "raw/iraq_electricity_waiver",
        "history/ofac_list_publications",
        "marts/fct_sanctions_pressure_monthly",
        "marts/fct_iraq_compliance_monthly",
        "marts/rpt_pressure_vs_compliance",
        "marts/rpt_pressure_compliance_lags",
        "marts/rpt_event_study",
        "published_warehouse",
    }


def test_pressure_lineage_reaches_back_to_every_source(defs):
    graph = defs.resolve_asset_graph()
    for mart, sources in {
        "fct_sanctions_pressure_monthly": {"raw/ofac_sdn", "raw/ofac_sanctions_entries", "raw/federal_register_documents",
                                           "raw/iraq_electricity_waiver", "raw/fincen_311_actions", "raw/ofac_program_classification"},
        "fct_iraq_compliance_monthly": {"raw/iraqi_banks_barred", "raw/imf_imts_trade", "raw/comtrade_mirror_trade",
                                        "raw/krg_pipeline_status", "raw/jodi_crude_oil"},
    }.items():
        ancestors = {k.to_user_string() for k in dg.AssetSelection.assets(dg.AssetKey(["marts", mart])).upstream().resolve(graph)}
        assert sources <= ancestors, (mart, sources - ancestors)
    study = dg.AssetSelection.assets(dg.AssetKey(["marts", "rpt_event_study"]))
    assert dg.AssetKey(["marts", "fct_iraq_compliance_monthly"]) in study.upstream().resolve(graph)
    assert dg.AssetKey(["published_warehouse"]) in study.downstream().resolve(graph)


def test_lineage_runs_from_publisher_file_to_publish(defs):
    graph = defs.resolve_asset_graph()
    selection = dg.AssetSelection.assets(dg.AssetKey(["marts", "fct_designation_changes"])).upstream()
    ancestors = {k.to_user_string() for k in selection.resolve(graph)}
    assert {"raw/ofac_sdn", "raw/ofac_addresses", "raw/ofac_aliases", "raw/ofac_comments"} <= ancestors
    downstream = dg.AssetSelection.assets(dg.AssetKey(["raw", "ofac_sdn"])).downstream().resolve(graph)
    assert dg.AssetKey(["published_warehouse"]) in downstream
    spec = graph.get(dg.AssetKey(["raw", "ofac_sdn"]))
    files = spec.metadata["publisher_files"].value
    assert files == [{"file": "SDN.CSV", "url": "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN.CSV"}]


def test_every_raw_table_and_mart_has_a_blocking_gx_check(defs):
    graph = defs.resolve_asset_graph()
    gated = {k.asset_key.to_user_string() for k in graph.asset_check_keys if k.name == "gx_suite"}
    from orchestration.sources import SOURCES

    python_raw = {f"raw/{t.name}" for source in SOURCES.values() for t in source.tables}
    assert {"raw/ofac_sdn", "raw/jodi_crude_oil", "raw/imf_imts_trade"} <= python_raw
    marts = {k for k in keys(defs) if k.startswith("marts/")}
    seeds = {k for k in keys(defs) if k.startswith("raw/")} - python_raw
    assert {"raw/iraqi_banks_barred", "raw/somo_monthly_exports"} <= seeds
    assert python_raw | seeds | marts <= gated
    for table in python_raw | seeds | marts:
        suite = REPO / "expectations" / f"{table.replace('/', '.')}.json"
        assert json.loads(suite.read_text())["name"] == table.replace("/", ".")
    from orchestration.freshness import FRESHNESS_CHECKS

    freshness = {spec.key for check in FRESHNESS_CHECKS for spec in check.check_specs}
    for check in defs.asset_checks:
        for spec in check.check_specs:
            assert spec.blocking or spec.key in freshness, spec.key


def test_every_source_has_a_freshness_check_run_apart_from_the_refresh(defs):
    """Each raw table of a fetched source carries a `freshness_check` failing (ERROR) past its source's
    max_age; the sensor evaluates them; the refresh job itself never runs them."""
    from orchestration.sources import SOURCES

    graph = defs.resolve_asset_graph()
    bounds = {}
    for key in graph.asset_check_keys:
        if key.name == "freshness_check":
            spec = next(s for c in defs.asset_checks for s in c.check_specs if s.key == key)
            bounds[key.asset_key.to_user_string()] = spec.metadata["dagster/freshness_params"].value["lower_bound_delta_seconds"]
    expected = {f"raw/{t.name}": source.max_age.total_seconds() for source in SOURCES.values() for t in source.tables}
    assert bounds == expected
    assert bounds["raw/ofac_sdn"] == 5 * 86400 and bounds["raw/jodi_crude_oil"] == 35 * 86400
    job = defs.resolve_job_def("refresh_warehouse")
    in_job = {k.name for k in job.asset_layer.asset_graph.asset_check_keys}
    assert "gx_suite" in in_job and "freshness_check" not in in_job
    sensor = defs.resolve_sensor_def("freshness_checks_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_a_refresh_of_some_sources_runs_their_gates_and_tests_but_not_their_freshness_checks(defs):
    """`warehouse refresh --only ofac` (and the sensor's and schedules' runs) name their checks: a run
    given assets alone would also run their freshness checks, which the refresh job leaves out."""
    from orchestration.selection import refresh_selection

    graph = defs.resolve_asset_graph()
    published = {".".join(key.path) for key in graph.get_all_asset_keys()}
    chosen = refresh_selection(["ofac"], published)
    checks = {(c.asset_key.to_user_string(), c.name) for c in chosen.checks}
    assert {("raw/ofac_sdn", "gx_suite"), ("marts/dim_sanctioned_entity", "gx_suite"),
            ("marts/fct_ofac_list_versions", "nexus_counts")} <= checks
    assert any(asset == "staging/stg_ofac__sdn_entries" for asset, _ in checks)  # a dbt test
    assert not any(name == "freshness_check" for _, name in checks)
    assert ("raw/jodi_crude_oil", "gx_suite") not in checks
    job = defs.resolve_job_def("refresh_warehouse").get_subset(asset_selection=set(chosen.keys),
                                                                 asset_check_selection=set(chosen.checks))
    assert set(job.asset_layer.asset_graph.asset_check_keys) == set(chosen.checks)


def test_every_duckdb_writer_is_in_one_pool(defs):
    from orchestration.definitions import dbt_warehouse, gates, published_warehouse, raw_assets, rpt_event_study

    for assets_def in [*raw_assets, dbt_warehouse, rpt_event_study, published_warehouse, *gates]:
        assert assets_def.op.pool == "duckdb_writer", assets_def


def test_dagster_instance_config_limits_the_pool_and_runs():
    text = (REPO / "dagster_home" / "dagster.yaml").read_text()
    assert "default_limit: 1" in text and "max_concurrent_runs: 1" in text and "enabled: false" in text


def test_the_instance_stores_events_over_kept_connections_and_reads_them_back(tmp_path, monkeypatch):
    """dagster.yaml's event log: Dagster's own files and tables, with a bounded set of engines kept open."""
    import shutil

    from orchestration.dagster_storage import KEPT_ENGINES, PooledSqliteEventLogStorage

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    @dg.asset
    def counted() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 3})

    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, PooledSqliteEventLogStorage)
        runs = [dg.materialize([counted], instance=instance).run_id for _ in range(KEPT_ENGINES + 2)]
        assert len(storage._engines) <= KEPT_ENGINES  # the oldest runs' engines were disposed of
        assert runs[0] not in storage._engines
        # every run's events are in Dagster's default place, and the evicted ones still read back
        assert {p.stem for p in (home / "history" / "runs").glob("*.db")} == {*runs, "index"}
        first = [e.dagster_event.event_type_value for e in instance.all_logs(runs[0]) if e.dagster_event]
        assert first.count("ASSET_MATERIALIZATION") == 1 and first[-1] == "PIPELINE_SUCCESS"
        latest = instance.get_latest_materialization_event(dg.AssetKey("counted"))
        assert latest.run_id == runs[-1] and latest.asset_materialization.metadata["rows"].value == 3
        instance.wipe()
        assert storage._engines == {} or set(storage._engines) <= {"index"}
        assert not list((home / "history" / "runs").glob("*-*.db"))


def test_workspace_loads_with_dagster_cli(dbt_manifest):
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": str(Path(sys.executable).parent), "HOME": str(REPO), "DAGSTER_DISABLE_TELEMETRY": "true",
             "GX_ANALYTICS_ENABLED": "false", "WAREHOUSE_HOME": str(REPO / "data")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_live_settings_are_http_resource_fields_bound_to_the_environment(defs, monkeypatch):
    """Each base-URL override and API key is a field of the `http` resource bound to its variable:
    the UI's resource page shows the variable's name, the sources get the values in a LiveAccess,
    and a key's value shows in no repr and no resource snapshot."""
    from dagster._core.remote_representation.external_data import ResourceConfigEnvVarSnap, ResourceSnap
    from dagster._serdes import serialize_value

    from orchestration.sources import SOURCES

    secret = "secret-xyz"
    http = defs.resources["http"]
    with_base = [name for name, source in SOURCES.items() if source.base_url]
    assert set(with_base) == {"ofac", "federal_register", "imf", "comtrade", "jodi", "eia"}
    expected = {f"{name}_base_url": f"WAREHOUSE_{name.upper()}_BASE_URL" for name in with_base}
    expected |= {"eia_api_key": "EIA_API_KEY", "comtrade_api_key": "COMTRADE_API_KEY"}
    snap = ResourceSnap.from_def(http.get_resource_definition(), "http", {}, {}, {}, {}, {}, {})
    described = {f.name: f.description or "" for f in snap.config_field_snaps}
    for field, variable in expected.items():
        value = getattr(http, field)
        assert isinstance(value, dg.EnvVar) and str.__str__(value) == variable, field
        assert snap.configured_values[field] == ResourceConfigEnvVarSnap(name=variable), field
        assert variable in described[field], field
    assert SOURCES["ofac"].base_url in described["ofac_base_url"]  # the publisher's default address

    monkeypatch.setenv("EIA_API_KEY", secret)
    monkeypatch.setenv("WAREHOUSE_JODI_BASE_URL", "http://mirror.example/jodi/")
    with dg.build_resources({"http": http}) as built:
        live = built.http.live_access()
        assert built.http.eia_api_key == secret  # resolved when the run starts, not at import
        shown = [repr(built.http), str(built.http), repr(live), str(live)]
    assert live.key("eia") == secret and live.key("comtrade") is None
    assert live.base_url(SOURCES["jodi"]) == "http://mirror.example/jodi"
    assert live.base_url(SOURCES["ofac"]) == SOURCES["ofac"].base_url  # '' = the publisher's address
    assert all(secret not in text for text in shown), shown
    assert secret not in serialize_value(ResourceSnap.from_def(http.get_resource_definition(), "http", {}, {}, {}, {}, {}, {}))


def definitions_outline(defs) -> dict:
    """Everything a reviewer should see change: each asset with its group, upstream keys and pool,
    each check with its blocking flag, each job, schedule and sensor, each resource's settings."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "upstream": sorted(k.to_user_string() for k in node.parent_keys),
            "checks": sorted(c.name for c in graph.asset_check_keys if c.asset_key == key),
        }
    blocking = {spec.key.to_user_string(): spec.blocking for check in defs.asset_checks for spec in check.check_specs}
    dbt_checks = sum(1 for key in graph.asset_check_keys if key.to_user_string() not in blocking)
    jobs = {}
    for job in defs.jobs:
        resolved = defs.resolve_job_def(job.name)
        jobs[job.name] = {"assets": len(resolved.asset_layer.executable_asset_keys), "executor": resolved.executor_def.name}
    schedules = {s.name: {"cron": s.cron_schedule, "timezone": s.execution_timezone, "job": s.job_name,
                          "default_status": s.default_status.value} for s in defs.schedules}
    sensors = {s.name: {"type": type(s).__name__, "default_status": s.default_status.value,
                        "resources": sorted(s.required_resource_keys)} for s in defs.sensors}
    warehouse = defs.resources["warehouse"]
    return {
        "assets": assets,
        "blocking_checks": dict(sorted(blocking.items())),
        "dbt_test_checks": dbt_checks,
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
        "resources": sorted(defs.resources),
        # bound to the environment (read when a run starts, shown in the UI), never a value fixed at import
        "warehouse_settings": {name: f"EnvVar({str.__str__(value)})" if isinstance(value, dg.EnvVar) else repr(value) for name, value in
                               (("home", warehouse.home), ("sources", warehouse.sources), ("accept_change", warehouse.accept_change))},
        "loggers": sorted(defs.loggers),
    }


def test_definitions_snapshot(defs, snapshot):
    """A lineage, check, job, schedule or sensor change shows in review as a snapshot diff
    (`pytest tests/test_definitions.py --snapshot-update` after a deliberate change)."""
    assert definitions_outline(defs) == snapshot
