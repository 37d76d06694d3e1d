"""Materialize every asset from the bundled sample into a temporary warehouse and check the marts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from orchestration.cli import main
from tests.conftest import REPO, query, sha256_of


@pytest.fixture(scope="module")
def built(published_sample):
    """The session's full bundled refresh (tests here only read it)."""
    return published_sample


def test_refresh_prints_what_it_built(built):
    home, out = built
    assert f"Published {home / 'warehouse.duckdb'}" in out
    assert "marts.dim_sanctioned_entity" in out and "51 rows" in out
    assert "SAMPLE, not a publisher's file" in out
    assert "read_only=True" in out


def test_sanctioned_entities_and_nexus(built):
    home, _ = built
    assert query(home, "select count(*), count(*) filter (where is_listed) from marts.dim_sanctioned_entity") == [(51, 51)]
    rows = dict(
        (ent_num, (name, iraq, iran, reasons))
        for ent_num, name, iraq, iran, reasons in query(
            home, "select ent_num, name, iraq_nexus, iran_nexus, nexus_reasons from marts.dim_sanctioned_entity"
        )
    )
    # Fly Baghdad: Iraq only through its ADD.CSV address; Iran through its link to the IRGC-QF
    name, iraq, iran, reasons = rows[39236]
    assert name == "FLY BAGHDAD AIRLINES COMPANY"
    assert (iraq, iran) == (True, True)
    assert reasons == ["iran/linked_to:10465", "iraq/address_country"]
    # the aircraft are Iraq-linked only through one hop of "Linked To: FLY BAGHDAD AIRLINES COMPANY"
    for aircraft in (47169, 47170):
        assert rows[aircraft][1:] == (True, False, ["iraq/linked_to:39236"])
    # the IRGC is Iranian by program; a Cuban bank has no nexus at all
    assert "iran/program:IRGC" in rows[10391][3] and rows[10391][2] is True
    assert rows[306][1:] == (False, False, [])
    # SDN_COMMENTS.CSV continues remarks cut at 1,000 characters
    remarks = query(home, "select remarks from marts.dim_sanctioned_entity where ent_num = 27307")[0][0]
    assert remarks.endswith("G TEAM'.") and len(remarks) > 1000


def test_programs_are_unpacked(built):
    home, _ = built
    programs = query(home, "select programs from marts.dim_sanctioned_entity where ent_num = 11177")[0][0]
    assert programs == sorted(["SDGT", "IRAQ3", "IRGC", "IFSR"])


def test_first_load_is_a_baseline_not_thousands_of_additions(built):
    home, _ = built
    assert query(home, "select count(*) from marts.fct_designation_changes") == [(0,)]
    assert query(home, "select is_baseline, entity_count, added, is_sample, source_mode from marts.fct_ofac_list_versions") == [
        (True, 51, 0, True, "bundled")
    ]


def test_iraqi_bank_restrictions(built):
    home, _ = built
    waves = query(
        home,
        "select wave, count(*) from marts.fct_iraqi_bank_restrictions where action_type = 'usd_access_barred' "
        "group by wave order by wave",
    )
    assert waves == [("2022-11", 4), ("2023-07", 14), ("2024-02", 8), ("2025-02", 8)]
    kinds = query(
        home,
        "select institution_type, count(*) from marts.fct_iraqi_bank_restrictions "
        "where action_type = 'usd_access_barred' group by 1 order by 1",
    )
    assert kinds == [("bank", 31), ("payment_firm", 3)]
    fincen = query(
        home,
        "select action_type, action_date::varchar from marts.fct_iraqi_bank_restrictions "
        "where authority = 'FinCEN' order by action_date",
    )
    assert [t for t, _ in fincen][-1] == "fincen_311_final_rule_effective"
    assert ("fincen_311_proposed_rule", "2024-01-31") in fincen and ("fincen_311_final_rule", "2024-07-03") in fincen
    assert query(home, "select min(len(source_urls)) from marts.fct_iraqi_bank_restrictions") == [(1,)]
    ashur = query(home, "select aliases from marts.fct_iraqi_bank_restrictions where bank_name = 'Ashur International Bank'")
    assert "Assur International Bank" in ashur[0][0]


def test_events_timeline(built):
    home, _ = built
    events = set(query(home, "select event_date::varchar, event_type from marts.fct_sanctions_events"))
    assert ("2025-03-08", "waiver_lapsed") in events and ("2018-11-07", "waiver_issued") in events
    assert ("2024-01-22", "designation_announcement") in events and ("2024-01-22", "designation") in events
    assert ("2023-03-25", "pipeline_halt") in events and ("2025-09-27", "pipeline_restart") in events
    # every event links to its source; only a delisting seen in a local list file links to that file
    assert query(home, "select count(*) from marts.fct_sanctions_events where source_url not like 'http%' "
                       "and event_type <> 'delisting'") == [(0,)]


def test_every_raw_row_carries_provenance(built):
    home, _ = built
    for table in ("raw.ofac_sdn", "raw.ofac_addresses", "raw.ofac_aliases", "raw.ofac_comments"):
        rows = query(
            home,
            f"select count(*), count(distinct source_sha256), bool_and(is_sample), min(source_mode), "
            f"count(*) filter (where source_url is null or fetched_at is null) from {table}",
        )
        count, shas, sample, mode, missing = rows[0]
        assert count > 0 and shas == 1 and sample is True and mode == "bundled" and missing == 0, table


def test_landing_zone_keeps_the_bytes(built):
    home, _ = built
    sha = query(home, "select distinct source_sha256 from raw.ofac_sdn")[0][0]
    landed = home / "landing" / "ofac" / sha[:2] / sha / "SDN.CSV"
    assert landed.exists()
    record = json.loads((landed.parent / "fetches.jsonl").read_text().splitlines()[0])
    assert record["sha256"] == sha and record["mode"] == "bundled"


def test_dbt_ran_in_the_build_and_reused_the_projects_parse(built):
    """A new home's first run: dbt, started in the build's folder, had the profile of `make
    manifest`'s parse (no vars, the relative warehouse.duckdb) and reused that parse."""
    home, _ = built
    events = [json.loads(line)["info"] for line in (home / ".dbt-target" / "dbt.log").read_text().splitlines()
              if line.startswith("{")]
    names = {event["name"] for event in events}
    assert "PartialParsingEnabled" in names and "UnableToPartialParse" not in names, sorted(names)
    assert next(e for e in events if e["name"] == "StateCheckVarsHash")["msg"].split("vars: ")[1].startswith("{}")
    launcher = (home / ".dbt-in-build").read_text()
    assert launcher.startswith(f"#!/bin/sh\ncd {home / '.dbt-build'} && exec ") and launcher.rstrip().endswith('"$@"')
    assert query(home, "select count(*) from marts.dim_sanctioned_entity")[0][0] == 51  # built there, published here


def test_run_report_and_status(built, capsys, monkeypatch):
    home, _ = built
    monkeypatch.setenv("WAREHOUSE_HOME", str(home))
    report = json.loads((home / "published_run.json").read_text())
    assert report["published"] is True
    gates = {g["table"]: g for g in report["gates"]}
    assert set(gates) >= {"raw.ofac_sdn", "raw.ofac_addresses", "marts.dim_sanctioned_entity"}
    assert all(g["passed"] and g["counts"]["errored"] == 0 for g in gates.values())
    assert report["tables"]["marts.dim_sanctioned_entity"] == 51
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert f"Published by run {report['run_id']}" in out and "SDN.CSV" in out
    # nothing but the published file and reports remains of the build
    assert not [p for p in (home / "builds").iterdir() if p.is_dir() and p.name != "failed-latest"]


def test_every_mart_is_published_as_parquet_of_the_same_version(built):
    home, _ = built
    current = home / "parquet" / "current"
    version = json.loads((current / "_version.json").read_text())
    assert version["run_id"] == json.loads((home / "published_run.json").read_text())["run_id"]
    marts = [t for (t,) in query(home, "select table_name from information_schema.tables where table_schema = 'marts' "
                                       "and table_type = 'BASE TABLE' order by 1")]
    assert version["tables"] == marts and len(marts) >= 14
    for table in marts:
        assert query(home, f"select count(*) from '{current / (table + '.parquet')}'") == \
            query(home, f"select count(*) from marts.{table}"), table
    assert query(home, f"select count(*) from '{current / 'dim_sanctioned_entity.parquet'}' where iraq_nexus") == \
        query(home, "select count(*) from marts.dim_sanctioned_entity where iraq_nexus")


def test_sql_prompt_reads_the_published_file_read_only(built):
    home, _ = built
    before = sha256_of(home / "warehouse.duckdb")
    session = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "sql"], cwd=REPO, capture_output=True, text=True, timeout=120,
        input="select count(*) as entities,\n count(*) filter (where iraq_nexus) as iraq from marts.dim_sanctioned_entity;\n"
              "drop table marts.dim_sanctioned_entity;\n.quit\n",
        env={**os.environ, "WAREHOUSE_HOME": str(home)},
    )
    assert session.returncode == 0, session.stderr
    assert "read-only" in session.stdout and "│       51 │" in session.stdout
    assert "Cannot execute statement of type \"DROP\"" in session.stderr and "read-only mode" in session.stderr
    assert sha256_of(home / "warehouse.duckdb") == before
    one = subprocess.run([sys.executable, "-m", "orchestration.cli", "sql", "select count(*) from marts.fct_iraqi_bank_restrictions"],
                         cwd=REPO, capture_output=True, text=True, timeout=120, env={**os.environ, "WAREHOUSE_HOME": str(home)})
    assert one.returncode == 0 and "39" in one.stdout, one.stderr


def test_dbt_docs_of_the_published_version_open_from_disk(built, tmp_path):
    home, _ = built
    before = sha256_of(home / "warehouse.duckdb")
    copy = tmp_path / "home"
    shutil.copytree(home, copy, symlinks=True)  # docs are written into the home: keep the shared one as it is
    done = subprocess.run([sys.executable, "-m", "orchestration.cli", "docs"], cwd=REPO, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "WAREHOUSE_HOME": str(copy)})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"{copy / 'docs' / 'static_index.html'} (opens from disk" in done.stdout
    catalog = json.loads((copy / "docs" / "catalog.json").read_text())["nodes"]
    pressure = catalog["model.iraq_iran_sanctions.fct_sanctions_pressure_monthly"]
    assert pressure["metadata"]["schema"] == "marts" and "pressure_index" in pressure["columns"]
    manifest = json.loads((copy / "docs" / "manifest.json").read_text())["nodes"]
    assert manifest["model.iraq_iran_sanctions.fct_sanctions_pressure_monthly"]["description"].startswith("How hard the US pressed Iraq")
    assert (copy / "docs" / "static_index.html").stat().st_size > 1_000_000
    assert sha256_of(copy / "warehouse.duckdb") == before  # generated from a copy: the published file untouched
