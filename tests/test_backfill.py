"""`warehouse backfill ofac ARCHIVE`: many dated list versions in one run, the same change facts as
one refresh per version, on versions derived from the real lists of 2024-01-18 and 2024-01-22."""

from __future__ import annotations

import contextlib
import io
import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestration.backfill import scan_archive
from orchestration.errors import FetchError
from tests.conftest import query, sha256_of
from tests.ofac_archive import delist, entries, read_list, relist, replace_in, subset, write_list
from tests.test_ofac_history import ADDED, IRAQ_LINKED

MOVED = 7270  # its Iraq address (add_num 5550) moves to Iran in the address-only version
FLY_BAGHDAD, AIRCRAFT = 39236, 47169  # 47169: "Linked To: FLY BAGHDAD AIRLINES COMPANY"


def derived_versions() -> dict[str, dict]:
    """Five distinct versions (and a day on which nothing changed), real format, about 2,000 entries."""
    first, second = read_list("snapshot-2024-01-18"), read_list("snapshot-2024-01-22")
    keep = set(entries(first)[:2000]) | ADDED | {MOVED}
    v1, v2 = subset(first, keep), subset(second, keep)
    v3 = replace_in(v2, "ADD.CSV", MOVED, b'"Iraq"', b'"Iran"')  # an address-only change
    rng = random.Random(20240124)
    plain = [r for r in v3["SDN.CSV"] if b"IRAQ" not in r.upper() and b"IRAN" not in r.upper()]
    gone = {int(r.split(b",", 1)[0]) for r in rng.sample(plain, 15)}
    v4 = delist(v3, gone)
    v5 = relist(v4, v3, set(sorted(gone)[:5]))
    v5 = replace_in(v5, "SDN.CSV", entries(v5)[200], b'"', b'"Formerly ')  # a changed name
    # Fly Baghdad's two Iraq addresses, its only Iraq link, move: its aircraft (Linked To: it) are unchanged
    for _ in range(2):
        v5 = replace_in(v5, "ADD.CSV", FLY_BAGHDAD, b'"Iraq"', b'"Jordan"')
    return {"2024-01-18": v1, "2024-01-22": v2, "2024-01-23T101500": v3, "2024-01-24": v4, "2024-01-25": v4,
            "2024-01-26": v5}


def run_cli(home: Path, *args: str, sources: Path | str = "bundled") -> tuple[int, str]:
    from orchestration.cli import main

    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WAREHOUSE_HOME", str(home))
        patch.setenv("WAREHOUSE_SOURCES", str(sources))
        patch.delenv("DAGSTER_HOME", raising=False)
        patch.setenv("WAREHOUSE_STEP_RETRIES", "0")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main(list(args))
    return code, out.getvalue()


CHANGES = ("select list_version, previous_list_version, ent_num, change_type, changed_fields, name, iraq_nexus, "
           "iran_nexus, is_sample from marts.fct_designation_changes order by all")
VERSIONS = ("select version_seq, list_version, previous_list_version, is_baseline, entity_count, iraq_nexus_entities, "
            "iran_nexus_entities, added, removed, modified from marts.fct_ofac_list_versions order by version_seq")


@pytest.fixture(scope="module")
def built(dbt_manifest, tmp_path_factory):
    """The archive, a home backfilled from it, and a home refreshed once per distinct version."""
    root = tmp_path_factory.mktemp("backfill")
    versions = derived_versions()
    archive = root / "archive"
    for label, lists in versions.items():
        # the address-only version names its ADD.CSV as archives often do
        write_list(archive / "ofac" / label, lists, {"ADD.CSV": "add.csv"} if label.startswith("2024-01-23") else None)
    started = datetime.now(UTC)
    backfilled = root / "backfilled"
    code, backfill_out = run_cli(backfilled, "backfill", "ofac", str(archive))
    assert code == 0, backfill_out[-4000:]
    finished = datetime.now(UTC)
    refreshed = root / "refreshed"
    for label in ("2024-01-18", "2024-01-22", "2024-01-23T101500", "2024-01-24", "2024-01-26"):
        folder = write_list(root / "dirs" / label / "ofac", versions[label]).parent
        code, out = run_cli(refreshed, "refresh", "--only", "ofac", sources=folder)
        assert code == 0, out[-4000:]
    return {"archive": archive, "backfilled": backfilled, "refreshed": refreshed, "out": backfill_out,
            "window": (started, finished), "root": root}


def test_a_backfill_gives_exactly_the_change_facts_of_one_refresh_per_version(built):
    backfilled, refreshed = built["backfilled"], built["refreshed"]
    changes = query(backfilled, CHANGES)
    assert changes == query(refreshed, CHANGES)
    assert query(backfilled, VERSIONS) == query(refreshed, VERSIONS)
    # five distinct versions: the day on which nothing changed (2024-01-25) adds no observation
    summary = [row[3:] for row in query(backfilled, VERSIONS)]
    assert [(baseline, added, removed, modified) for baseline, _, _, _, added, removed, modified in summary] == [
        (True, 0, 0, 0), (False, 21, 0, 0), (False, 0, 0, 1), (False, 0, 15, 0), (False, 5, 0, 2)]
    added = {ent for _, _, ent, kind, *_ in changes if kind == "added"}
    assert added >= ADDED and {ent for _, _, ent, kind, _, _, iraq, *_ in changes if kind == "added" and iraq} >= IRAQ_LINKED
    # identical nexus per entry in both homes
    nexus = "select ent_num, is_listed, iraq_nexus, iran_nexus, nexus_reasons from marts.dim_sanctioned_entity order by 1"
    assert query(backfilled, nexus) == query(refreshed, nexus)


def test_each_entry_state_is_assembled_once_and_a_linked_nexus_follows_its_target_version_by_version(built):
    backfilled = built["backfilled"]
    # every version's entries map to a state assembled (and matched against the nexus rules) once
    [(entry_versions, keys, assembled, states)] = query(
        backfilled,
        "select (select count(*) from staging.int_ofac__entry_versions), "
        "(select count(distinct (ent_num, entry_key)) from staging.int_ofac__entry_versions), "
        "(select count(*) from staging.int_ofac__entities_assembled), (select count(*) from history.ofac_entity_states)",
    )
    assert assembled == keys and states <= keys and entry_versions > 4 * keys
    # the aircraft's own entry never changes, but its Iraq nexus (one hop of Linked To:) ends in the
    # version in which Fly Baghdad's address leaves Iraq, in both homes
    for home in (backfilled, built["refreshed"]):
        rows = query(home, "select v.version_seq, m.state_hash, m.iraq_nexus, m.nexus_reasons "
                     "from history.ofac_list_members m join marts.fct_ofac_list_versions v using (observed_at) "
                     f"where m.ent_num = {AIRCRAFT} order by 1")
        assert [seq for seq, *_ in rows] == [2, 3, 4, 5] and len({state for _, state, _, _ in rows}) == 1
        assert [(iraq, reasons) for _, _, iraq, reasons in rows] == [
            (True, [f"iraq/linked_to:{FLY_BAGHDAD}"])] * 3 + [(False, [])]
    [(kind, fields, iraq)] = query(backfilled, "select change_type, changed_fields, iraq_nexus from marts.fct_designation_changes "
                                   f"where ent_num = {FLY_BAGHDAD} and change_type = 'modified'")
    assert (kind, fields, iraq) == ("modified", ["addresses"], False)


def test_an_address_only_change_is_a_new_list_version(built):
    [(kind, fields, seq)] = query(
        built["backfilled"],
        "select c.change_type, c.changed_fields, v.version_seq from marts.fct_designation_changes c "
        f"join marts.fct_ofac_list_versions v using (list_version) where c.ent_num = {MOVED}",
    )
    assert (kind, fields, seq) == ("modified", ["addresses"], 3)
    sdn_shas = query(built["backfilled"], "select count(distinct source_sha256) from raw.ofac_sdn "
                     "where list_version in (select list_version from marts.fct_ofac_list_versions where version_seq in (2, 3))")
    assert sdn_shas == [(1,)]  # the same SDN.CSV bytes in both versions


def test_backfilled_versions_carry_their_publication_date_and_the_load_time(built):
    started, finished = built["window"]
    rows = query(built["backfilled"], "select distinct v.version_seq, c.list_published_at, c.observed_at "
                 "from marts.fct_designation_changes c join marts.fct_ofac_list_versions v using (list_version) order by 1")
    published = [(seq, when) for seq, when, _ in rows]
    # dates are US Eastern: 00:00 EST is 05:00 UTC; 2024-01-23T101500 is 15:15 UTC
    assert published == [
        (2, datetime(2024, 1, 22, 5, tzinfo=UTC)),
        (3, datetime(2024, 1, 23, 15, 15, tzinfo=UTC)),
        (4, datetime(2024, 1, 24, 5, tzinfo=UTC)),
        (5, datetime(2024, 1, 26, 5, tzinfo=UTC)),
    ]
    observed = [when for _, _, when in rows]
    assert all(started <= when <= finished for when in observed) and observed == sorted(observed)
    assert "2024-01-23T101500/add.csv: read as ADD.CSV" in built["out"]
    assert query(built["refreshed"], "select count(list_published_at) from marts.fct_designation_changes") == [(0,)]


def test_running_the_same_backfill_again_adds_nothing(built, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(built["backfilled"], home, symlinks=True)
    before, file_before = query(home, VERSIONS), sha256_of(home / "warehouse.duckdb")
    code, out = run_cli(home, "backfill", "ofac", str(built["archive"]))
    assert code == 0, out[-3000:]
    assert "nothing to backfill: all 6 version(s) are already in the history or identical" in out
    assert "Nothing changed, nothing published" in out
    assert query(home, VERSIONS) == before
    assert sha256_of(home / "warehouse.duckdb") == file_before


def test_a_version_older_than_the_history_is_refused_and_nothing_changes(built, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(built["backfilled"], home, symlinks=True)
    published = sha256_of(home / "warehouse.duckdb")
    archive = tmp_path / "older"
    write_list(archive / "ofac" / "2024-01-20", delist(derived_versions()["2024-01-18"], {entries(derived_versions()["2024-01-18"])[5]}))
    code, out = run_cli(home, "backfill", "ofac", str(archive))
    assert code == 1
    assert "[ofac] 2024-01-20: is older than the newest list version recorded in this WAREHOUSE_HOME" in out
    assert "published 2024-01-26 05:00 UTC" in out and "REFRESH FAILED: nothing was published" in out
    assert sha256_of(home / "warehouse.duckdb") == published


def test_a_bad_version_in_the_middle_publishes_nothing_and_is_named(built, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(built["backfilled"], home, symlinks=True)
    published = sha256_of(home / "warehouse.duckdb")
    latest = derived_versions()["2024-01-26"]
    archive = tmp_path / "more"
    shutil.copytree(built["archive"], archive)  # the versions already recorded: skipped
    write_list(archive / "ofac" / "2024-01-29", delist(latest, {entries(latest)[1]}))
    bad = write_list(archive / "ofac" / "2024-01-30", delist(latest, {entries(latest)[2]}))
    (bad / "SDN.CSV").write_bytes((bad / "SDN.CSV").read_bytes()[:-5000])  # cut mid-line
    write_list(archive / "ofac" / "2024-01-31", delist(latest, {entries(latest)[3]}))
    code, out = run_cli(home, "backfill", "ofac", str(archive))
    assert code == 1
    assert "[ofac] archive version 2024-01-30, SDN.CSV: truncated" in out
    assert sha256_of(home / "warehouse.duckdb") == published
    assert query(home, "select count(*) from marts.fct_ofac_list_versions") == [(5,)]


def test_an_archive_is_checked_before_anything_runs(tmp_path):
    (tmp_path / "a" / "ofac" / "2024-01-18").mkdir(parents=True)
    (tmp_path / "a" / "ofac" / "2024-01-18" / "sdn.csv").write_bytes(b"1,\"X\"\r\n\x1a")
    (tmp_path / "a" / "ofac" / "publication-803").mkdir()
    (tmp_path / "a" / "ofac" / "publication-803" / "SDN.CSV").write_bytes(b"1,\"X\"\r\n\x1a")
    with pytest.raises(FetchError, match="mixes dated and publication-<id> folders"):
        scan_archive(tmp_path / "a")
    (tmp_path / "b" / "ofac" / "latest").mkdir(parents=True)
    with pytest.raises(FetchError, match="latest: is not a list version: name it YYYY-MM-DD"):
        scan_archive(tmp_path / "b")
    (tmp_path / "c" / "ofac" / "2024-02-30").mkdir(parents=True)
    with pytest.raises(FetchError, match="is not a valid date"):
        scan_archive(tmp_path / "c")
    (tmp_path / "d" / "ofac" / "2024-01-18").mkdir(parents=True)
    (tmp_path / "d" / "ofac" / "2024-01-18" / "ADD.CSV").write_bytes(b"")
    with pytest.raises(FetchError, match=r"has no SDN\.CSV"):
        scan_archive(tmp_path / "d")
    with pytest.raises(FetchError, match="has no ofac/ folder"):
        scan_archive(tmp_path / "nothing")
    ordered = tmp_path / "e" / "ofac"
    for label in ("2024-01-22", "2024-01-18T090000", "2024-01-18"):
        (ordered / label).mkdir(parents=True)
        (ordered / label / "SDN.CSV").write_bytes(b"")
    assert [v.label for v in scan_archive(tmp_path / "e")] == ["2024-01-18", "2024-01-18T090000", "2024-01-22"]
