"""Designation history across refreshes, on the real SDN lists of 2024-01-18 and 2024-01-22."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from tests.conftest import SAMPLE_OFAC, bundled_build, query, real_baseline, sha256_of, shared_path

IRAQ_LINKED = {39236, 47168, 47169, 47170, 47177, 47178, 47179, 47180}
ADDED = IRAQ_LINKED | {47000, 47001, 47002, 47108, 47109, 47110, 47128, 47129, 47130, 47131, 47132, 47133, 47134}


def snapshot_dir(tmp_path, snapshot: str):
    """A directory-mode source folder whose `ofac/` is the real snapshot, as a user would lay it out."""
    root = tmp_path / snapshot
    root.mkdir()
    (root / "ofac").symlink_to(shared_path("ofac", snapshot))
    return root


def list_identity(folder) -> str:
    """A list version's identity, written out: sha256 over `NAME sha256` of SDN.CSV, ADD.CSV, ALT.CSV."""
    lines = "".join(f"{name} {sha256_of(folder / name)}\n" for name in ("SDN.CSV", "ADD.CSV", "ALT.CSV"))
    return hashlib.sha256(lines.encode()).hexdigest()


def test_two_real_lists_give_21_additions(refresh, warehouse_home, tmp_path):
    first = snapshot_dir(tmp_path, "snapshot-2024-01-18")
    second = snapshot_dir(tmp_path, "snapshot-2024-01-22")

    # the first list published (tests/test_alerts.py loads it with `--only ofac` into an empty home)
    shutil.copytree(real_baseline(), warehouse_home, symlinks=True)
    assert query(warehouse_home, "select count(*) from marts.fct_designation_changes") == [(0,)]
    assert query(warehouse_home, "select is_baseline, entity_count from marts.fct_ofac_list_versions") == [(True, 13848)]

    code, _, err = refresh("--only", "ofac", sources=second)
    assert code == 0, err
    version_22, version_18 = list_identity(second / "ofac"), list_identity(first / "ofac")
    changes = query(
        warehouse_home,
        "select change_type, ent_num, iraq_nexus, list_version, previous_list_version from marts.fct_designation_changes",
    )
    assert {c[0] for c in changes} == {"added"}
    assert len(changes) == 21
    assert {c[1] for c in changes} == ADDED
    assert {c[1] for c in changes if c[2]} == IRAQ_LINKED
    assert {(c[3], c[4]) for c in changes} == {(version_22, version_18)}
    counts = query(
        warehouse_home,
        "select count(*) filter (where change_type = 'removed'), count(*) filter (where change_type = 'modified') "
        "from marts.fct_designation_changes",
    )
    assert counts == [(0, 0)]
    versions = query(
        warehouse_home,
        "select version_seq, is_baseline, entity_count, added, removed, modified from marts.fct_ofac_list_versions order by 1",
    )
    assert versions == [(1, True, 13848, 0, 0, 0), (2, False, 13869, 21, 0, 0)]

    # the nexus rules that matched, by entity (DOMAIN.md section 4)
    reasons = dict(query(warehouse_home, "select ent_num, nexus_reasons from marts.dim_sanctioned_entity where ent_num in (39236, 47169, 47170, 47180, 47168)"))
    assert [r for r in reasons[39236] if r.startswith("iraq/")] == ["iraq/address_country"]
    assert reasons[47169] == ["iraq/linked_to:39236"] and reasons[47170] == ["iraq/linked_to:39236"]
    assert "iraq/address_country" in reasons[47180] and "iraq/remarks:mention" not in reasons[47180]
    assert "iraq/remarks:nationality" in reasons[47168]
    listed = query(warehouse_home, "select count(*) filter (where is_listed), count(*) from marts.dim_sanctioned_entity")
    assert listed == [(13869, 13869)]

    # the same list again is not a new version, and the history is not duplicated
    code, _out, err = refresh("--only", "ofac", sources=second)
    assert code == 0, err
    assert query(warehouse_home, "select count(*) from marts.fct_ofac_list_versions") == [(2,)]
    assert query(warehouse_home, "select count(*) from marts.fct_designation_changes") == [(21,)]
    assert query(warehouse_home, "select count(*) from history.ofac_list_members") == [(13848 + 13869,)]


def test_only_refresh_keeps_other_sources(refresh, warehouse_home, tmp_path):
    # published from the real list of 2024-01-18 and every other source's sample files
    shutil.copytree(real_baseline(), warehouse_home, symlinks=True)
    banks_before = query(warehouse_home, "select count(*) from marts.fct_iraqi_bank_restrictions")
    trade_before = query(warehouse_home, "select * from marts.fct_iraq_iran_trade_monthly order by month")
    code, out, err = refresh("--only", "ofac", sources=snapshot_dir(tmp_path, "snapshot-2024-01-22"))
    assert code == 0, err
    assert "ofac and downstream" in out
    assert query(warehouse_home, "select count(*) from marts.fct_iraqi_bank_restrictions") == banks_before == [(39,)]
    # marts that read OFAC and other sources are rebuilt from the others' published tables, unchanged
    assert query(warehouse_home, "select * from marts.fct_iraq_iran_trade_monthly order by month") == trade_before
    assert query(warehouse_home, "select is_sample, entity_count, added from marts.fct_ofac_list_versions order by observed_at") == [
        (False, 13848, 0),
        (False, 13869, 21),
    ]
    assert query(warehouse_home, "select count(*) from marts.fct_sanctions_pressure_monthly") == [(months_since_2018(),)]


def months_since_2018() -> int:
    from datetime import date

    today = date.today()
    return (today.year - 2018) * 12 + today.month


def test_unknown_source_is_refused(refresh):
    code, _out, err = refresh("--only", "opensanctions")
    assert code == 2
    assert "unknown source(s) opensanctions" in err and "ofac" in err


def test_bad_sources_setting_is_refused(refresh, tmp_path):
    code, _out, err = refresh(sources=tmp_path / "does-not-exist")
    assert code == 2
    assert "WAREHOUSE_SOURCES" in err


@pytest.mark.parametrize("bad", ["empty", "html"])
def test_failed_refresh_leaves_warehouse_and_history_unchanged(refresh, warehouse_home, tmp_path, bad):
    shutil.copytree(bundled_build()[0], warehouse_home, symlinks=True)  # the session's `make run`
    published = warehouse_home / "warehouse.duckdb"
    before = sha256_of(published)
    history = query(warehouse_home, "select * from history.ofac_list_observations")
    source = tmp_path / "bad"
    (source / "ofac").mkdir(parents=True)
    for name in ("ADD.CSV", "ALT.CSV"):
        (source / "ofac" / name).write_bytes((SAMPLE_OFAC / name).read_bytes())
    body = b"" if bad == "empty" else b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body></body></html>"
    (source / "ofac" / "SDN.CSV").write_bytes(body)

    code, _out, err = refresh("--only", "ofac", sources=source)
    assert code == 1
    expected = "file is empty (0 bytes)" if bad == "empty" else "got an HTML page instead of CSV"
    assert "[ofac] SDN.CSV" in err and expected in err
    assert "nothing was published" in err
    assert sha256_of(published) == before
    assert query(warehouse_home, "select * from history.ofac_list_observations") == history
