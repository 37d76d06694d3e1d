"""Unchanged inputs: a source whose files have the sha256 of its published load keeps its published
rows, and a refresh in which nothing changed publishes nothing and leaves the file byte-identical.

Both start from a copy of the session's published bundled sample (same code, so same fingerprint).
"""

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_DIR, query, sample_dir_build, sha256_of

OTHER_SOURCES = ("comtrade", "eia", "federal_register", "imf", "jodi")


@pytest.fixture
def sample_home(published_sample, warehouse_home: Path) -> Path:
    shutil.copytree(published_sample[0], warehouse_home, symlinks=True)
    return warehouse_home


def published_run(home: Path) -> str:
    return query(home, "select run_id from meta.published_runs order by published_at desc limit 1")[0][0]


def test_a_refresh_with_unchanged_inputs_publishes_nothing_and_leaves_the_file_byte_identical(
        sample_home: Path, refresh, capsys):
    from orchestration.cli import main

    published = sample_home / "warehouse.duckdb"
    before, base = sha256_of(published), published_run(sample_home)
    loads_before = query(sample_home, "select * from meta.source_loads order by table_name")
    arrivals_before = arrivals(sample_home)
    code, out, err = refresh()
    assert code == 0, err[-3000:]
    assert "Nothing changed, nothing published" in out
    assert f"the published version (run {base}) stands" in out
    assert "the files of comtrade, eia, federal_register, imf, jodi, ofac have the sha256 of their published load" in out
    # decided before any run started: no Dagster run, no gate, no dbt
    assert "checked before starting a run" in out
    assert "RUN_START" not in out + err and "suite raw." not in out and "dbt build:" not in out
    assert sha256_of(published) == before
    assert published_run(sample_home) == base
    assert query(sample_home, "select * from meta.source_loads order by table_name") == loads_before
    assert not [p for p in (sample_home / "builds").iterdir() if p.name != "failed-latest"]
    # its report says why it published nothing, and what it read
    report = json.loads((sample_home / "last_run.json").read_text())
    assert report["published"] is False and report["error"] is None and report["base_run_id"] == base
    assert "have the sha256 of their published load" in report["unchanged"]
    assert {s["source"] for s in report["sources"] if s.get("unchanged") == base} == {*OTHER_SOURCES, "ofac"}
    assert all(s["checked_before_run"] for s in report["sources"])
    ofac_load = next(s for s in report["sources"] if s["source"] == "ofac")
    assert ofac_load["tables"]["raw.ofac_sdn"] == 51
    assert {f["file"] for f in ofac_load["files"]} >= {"SDN.CSV", "ADD.CSV", "ALT.CSV"}
    assert json.loads((sample_home / "published_run.json").read_text())["run_id"] == base
    # the landing zone records each file's arrival, as landing it again would (one line per file)
    after = arrivals(sample_home)
    assert {path: after[path] - arrivals_before[path] for path in after} == dict.fromkeys(after, 1)
    assert len(after) == sum(len(s["files"]) for s in report["sources"])

    # freshness counts the check: each source was found unchanged just now; status says what happened
    assert main(["freshness"]) == 0
    assert capsys.readouterr().out.count("unchanged when checked") == 6
    assert main(["status"]) == 0
    assert f"Published by run {base}" in (status := capsys.readouterr().out)
    assert f"Last run {report['run_id']} at {report['finished_at']}: nothing changed, nothing to publish" in status

    # --rebuild loads, builds and publishes all the same: a new version with the same rows
    counts_before = query(sample_home, "select table_name, row_count from meta.source_loads order by 1")
    code, out, err = refresh("--rebuild")
    assert code == 0, err[-3000:]
    assert "Nothing changed" not in out and f"Published {published}" in out
    rebuilt = published_run(sample_home)
    assert rebuilt != base
    assert query(sample_home, "select table_name, row_count from meta.source_loads order by 1") == counts_before
    assert query(sample_home, "select distinct run_id from meta.source_loads where source = 'ofac'") == [(rebuilt,)]


def arrivals(home: Path) -> dict[str, int]:
    """Lines of each archived file's fetches.jsonl (one per arrival)."""
    return {str(p.relative_to(home)): len(p.read_text().splitlines()) for p in (home / "landing").glob("*/*/*/fetches.jsonl")}


def test_a_run_that_finds_nothing_changed_publishes_nothing_either(sample_home: Path, capsys):
    """The same decision inside a Dagster run (a schedule's, the UI's, live mode's): every source
    is found unchanged, the gates take the published rows, dbt and publish do not run."""
    from orchestration import cli

    published = sample_home / "warehouse.duckdb"
    before, base = sha256_of(published), published_run(sample_home)
    assert cli._run_refresh(None, "") == 0
    out = capsys.readouterr().out
    assert "Nothing changed, nothing published" in out and "checked before starting a run" not in out
    assert f"the published version (run {base}) stands" in out
    assert "raw.ofac_sdn: unchanged: the 51 rows published by run" in out
    assert "dbt build:" not in out
    assert sha256_of(published) == before
    assert not [p for p in (sample_home / "builds").iterdir() if p.name != "failed-latest"]
    report = json.loads((sample_home / "last_run.json").read_text())
    assert report["published"] is False and report["base_run_id"] == base
    assert not any(s.get("checked_before_run") for s in report["sources"])


def test_an_unchanged_check_before_the_run_is_recorded_in_the_dagster_instance(sample_home: Path, refresh, tmp_path,
                                                                                monkeypatch):
    """With DAGSTER_HOME, the raw assets get a materialization saying they were found unchanged, so
    their freshness checks and asset history see the check that no run made."""
    import dagster as dg

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    base = published_run(sample_home)
    code, out, err = refresh("--only", "ofac")
    assert code == 0, err[-3000:]
    assert "the files of ofac have the sha256 of their published load" in out and "checked before starting a run" in out
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["raw", "ofac_sdn"]))
        assert event is not None and event.run_id == ""
        metadata = event.asset_materialization.metadata
        assert metadata["dagster/row_count"].value == 51
        assert metadata["unchanged"].value.startswith(f"the files of the load published by run {base}")
        assert instance.get_latest_materialization_event(dg.AssetKey(["raw", "jodi_crude_oil"])) is None


def test_the_recognising_zone_knows_only_archived_bytes(tmp_path: Path):
    """The in-place check: a file is recognised only with the name, size and sha256 of a file already
    archived in the landing zone; the bytes are read where they are and nothing is copied."""
    from orchestration.landing import Changed, LandingZone, RecognisingZone

    src = tmp_path / "src" / "SDN.CSV"
    src.parent.mkdir()
    src.write_bytes(b'36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA"\r\n')
    landed = LandingZone(tmp_path / "landing").land_local("ofac", "SDN.CSV", src, "directory", "csv")
    zone = RecognisingZone(tmp_path / "landing", {("ofac", "SDN.CSV"): (landed.sha256, landed.size)})
    seen = zone.land_local("ofac", "SDN.CSV", src, "directory", "csv")
    assert (seen.path, seen.sha256, seen.size, seen.origin) == (landed.path, landed.sha256, landed.size, str(src))
    for problem in (b'36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBB"\r\n',  # same size, other bytes
                    b'36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA"\r\n\r\n'):  # another size
        src.write_bytes(problem)
        with pytest.raises(Changed, match=r"\[ofac\] SDN.CSV"):
            zone.land_local("ofac", "SDN.CSV", src, "directory", "csv")
    with pytest.raises(Changed):  # a name no published load read
        zone.land_local("ofac", "ADD.CSV", src, "directory", "csv")
    with pytest.raises(Changed):  # live mode fetches: nothing to recognise in place
        zone.land_url(None, "ofac", "SDN.CSV", "https://example.invalid/SDN.CSV", "csv")
    assert len(zone.recognised) == 1
    zone.log_arrivals()
    assert len((landed.path.parent / "fetches.jsonl").read_text().splitlines()) == 2


def test_only_the_changed_source_is_loaded_the_others_keep_their_published_rows(warehouse_home: Path, refresh, tmp_path):
    """A home published from a directory of the publishers' files; then IMF revises one month of
    Iraq's imports from Iran, in a folder of its own where every other source's files are the same bytes."""
    shutil.copytree(sample_dir_build(), warehouse_home, symlinks=True)
    sources = tmp_path / "sources"
    shutil.copytree(SAMPLE_DIR / "imf", sources / "imf")
    for name in (*OTHER_SOURCES, "ofac"):
        if name != "imf":
            (sources / name).symlink_to(SAMPLE_DIR / name)
    sample_home = warehouse_home
    base = published_run(sample_home)
    series = sources / "imf" / "IMTS_IRQ.MG_CIF_USD.IRN.M.csv"
    text = series.read_text()
    assert text.count(",2024-M07,776880082,") == 1
    series.write_text(text.replace(",2024-M07,776880082,", ",2024-M07,776880999,"))
    loads_before = dict(query(sample_home, "select table_name, loaded_at from meta.source_loads"))
    history_before = {table: query(sample_home, f"select * from {table} order by all") for table in HISTORY}

    code, out, err = refresh(sources=sources)
    assert code == 0, err[-3000:]
    new = published_run(sample_home)
    assert new != base
    # the unchanged sources' loads are still the base run's (same rows, same load time); IMF's is new
    loads = query(sample_home, "select source, table_name, run_id, loaded_at from meta.source_loads order by 2")
    for source, table, run_id, loaded_at in loads:
        if source == "imf":
            assert run_id == new, table
        else:
            assert (run_id, loaded_at) == (base, loads_before[table]), table
    for name in ("comtrade", "eia", "federal_register", "jodi", "ofac"):
        assert f"[{name}] unchanged: its" in out
    assert "raw.jodi_crude_oil: unchanged: the 180 rows published by run" in out
    assert "suite raw.imf_imts_trade: 27 passed, 0 failed, 0 errored on 150 rows" in out
    # the revision reached the marts; OFAC's list history gained no observation and no change
    assert query(sample_home, "select obs_value from raw.imf_imts_trade where country = 'IRQ' and "
                 "counterpart_country = 'IRN' and indicator = 'MG_CIF_USD' and time_period = '2024-M07'") == [(776880999,)]
    for table, rows in history_before.items():
        assert query(sample_home, f"select * from {table} order by all") == rows, table
    report = json.loads((sample_home / "published_run.json").read_text())
    assert sorted(s["source"] for s in report["sources"] if s.get("unchanged")) == [
        "comtrade", "eia", "federal_register", "jodi", "ofac"]
    assert "raw.ofac_sdn" in {g["table"] for g in report["gates"] if g.get("unchanged")}
    assert "raw.imf_imts_trade" not in {g["table"] for g in report["gates"] if g.get("unchanged")}


HISTORY = ("history.ofac_list_observations", "history.ofac_list_members", "history.ofac_entity_states",
           "marts.fct_designation_changes", "marts.fct_ofac_list_versions")
