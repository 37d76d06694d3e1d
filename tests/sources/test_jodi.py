"""JODI Oil World Database: the parser on recorded real-format files, bad inputs, and the oil marts."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from orchestration.errors import FetchError, FormatError
from orchestration.http_client import make_session
from orchestration.landing import LandedFile, LandingZone
from orchestration.settings import LIVE, SAMPLE_DIR, SourceMode
from orchestration.sources import jodi
from orchestration.sources.base import LiveAccess
from tests.conftest import query_file as query
from tests.conftest import sha256_of
from tests.http_fixture import Reply
from tests.sources.oil_refresh import source_dir, start_from_baseline

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "jodi"
CURRENT = "primaryyear2026.csv"
TODAY = date(2026, 11, 27)


def landed(path: Path, name: str | None = None, mode: str = "directory") -> LandedFile:
    name = name or path.name
    return LandedFile("jodi", name, path, "0" * 64, path.stat().st_size, str(path), datetime.now(UTC), mode)


def parse_bytes(tmp_path: Path, data: bytes, name: str = CURRENT):
    path = tmp_path / name
    path.write_bytes(data)
    return jodi.parse({name: landed(path)}, today=TODAY)["jodi_crude_oil"]


def fixture_bytes() -> bytes:
    return (FIXTURES / CURRENT).read_bytes()


def rows_by_key(table) -> dict[tuple, dict]:
    return {(r["ref_area"], r["time_period"], r["flow_breakdown"]): r for r in table.to_pylist()}


# -- the parser -----------------------------------------------------------------------------
def test_keeps_only_iraq_and_iran_crude_in_kbd():
    table = jodi.parse({CURRENT: landed(FIXTURES / CURRENT)}, today=TODAY)["jodi_crude_oil"]
    rows = rows_by_key(table)
    assert sorted(rows) == [
        ("IQ", "2026-01", "INDPROD"), ("IQ", "2026-01", "TOTEXPSB"), ("IQ", "2026-02", "INDPROD"), ("IQ", "2026-02", "TOTEXPSB"),
        ("IR", "2026-01", "INDPROD"), ("IR", "2026-01", "TOTEXPSB"), ("IR", "2026-02", "INDPROD"), ("IR", "2026-02", "TOTEXPSB"),
    ]
    iq = rows[("IQ", "2026-01", "INDPROD")]
    assert (iq["obs_value"], iq["obs_value_text"], iq["unit_measure"], iq["assessment_code"]) == (4384.0032, "4384.0032", "KBD", 1)
    assert iq["period"] == date(2026, 1, 1)
    assert {r["source_file"] for r in table.to_pylist()} == {CURRENT}
    assert table.column_names[-6:] == ["source_file", "source_url", "fetched_at", "source_sha256", "source_mode", "is_sample"]


@pytest.mark.parametrize(
    "key, marker",
    [(("IQ", "2026-02", "TOTEXPSB"), ".."), (("IR", "2026-01", "TOTEXPSB"), "-"), (("IR", "2026-02", "TOTEXPSB"), "x")],
)
def test_markers_are_null_plus_flag_never_zero(key, marker):
    rows = rows_by_key(jodi.parse({CURRENT: landed(FIXTURES / CURRENT)}, today=TODAY)["jodi_crude_oil"])
    assert rows[key]["obs_value"] is None
    assert rows[key]["obs_marker"] == marker and rows[key]["obs_value_text"] == marker


def test_full_history_zip_is_streamed_to_disk_and_read_the_same(tmp_path):
    archive = tmp_path / jodi.ZIP_NAME
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("world_Primary_CSV.csv", fixture_bytes())
    from_zip = jodi.parse({jodi.ZIP_NAME: landed(archive)}, today=TODAY)["jodi_crude_oil"]
    from_csv = jodi.parse({CURRENT: landed(FIXTURES / CURRENT)}, today=TODAY)["jodi_crude_oil"]
    data = jodi.SCHEMA.names
    assert from_zip.select(data).equals(from_csv.select(data)) and from_zip.num_rows == 8


def test_zip_without_one_csv_is_refused(tmp_path):
    archive = tmp_path / jodi.ZIP_NAME
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("readme.txt", b"nothing here")
    with pytest.raises(FormatError, match=r"\[jodi\] world_primary_csv.zip: expected exactly one CSV"):
        jodi.parse({jodi.ZIP_NAME: landed(archive)}, today=TODAY)


def test_bundled_sample_parses():
    files = {p.name: landed(p, mode="bundled") for p in (SAMPLE_DIR / "jodi").glob("*.csv")}
    table = jodi.parse(files)["jodi_crude_oil"]
    assert table.num_rows == 180 and all(r["is_sample"] for r in table.to_pylist())


def test_no_files_gives_the_empty_table_with_its_columns():
    assert jodi.parse({})["jodi_crude_oil"].column_names[:3] == ["ref_area", "time_period", "period"]


# -- bad input: each a FormatError that names the source, the file and the cause -------------
def replace_line(old: bytes, new: bytes) -> bytes:
    data = fixture_bytes()
    assert data.count(old) == 1
    return data.replace(old, new)


BAD = {
    "unit other than KBD": (
        replace_line(b"IQ,2026-01,CRUDEOIL,INDPROD,KBD,4384.0032,1", b"IQ,2026-01,CRUDEOIL,INDPROD,KTONS,590.1,1"),
        "unit other than KBD: series published without a KBD row: IQ INDPROD 2026-01 only in KBBL/KTONS",
    ),
    "negative kb/d": (
        replace_line(b"IR,2026-02,CRUDEOIL,INDPROD,KBD,3175.0000,3", b"IR,2026-02,CRUDEOIL,INDPROD,KBD,-3175.0000,3"),
        "negative kb/d: IR INDPROD 2026-02 = -3175.0000",
    ),
    "future period": (
        fixture_bytes() + b"IQ,2026-12,CRUDEOIL,INDPROD,KBD,4400.0000,1\r\n",
        "period in the future (after 2026-11): IQ INDPROD 2026-12",
    ),
    "duplicate key": (
        fixture_bytes() + b"IQ,2026-02,CRUDEOIL,INDPROD,KBD,4370.0000,1\r\n",
        "duplicate key (REF_AREA, TIME_PERIOD, FLOW_BREAKDOWN) for KBD: IQ INDPROD 2026-02",
    ),
    "not a number nor a marker": (
        replace_line(b"IQ,2026-02,CRUDEOIL,INDPROD,KBD,4367.1000,1", b"IQ,2026-02,CRUDEOIL,INDPROD,KBD,n/a,1"),
        "neither a number nor one of JODI's markers",
    ),
    "a month outside the file's year": (
        fixture_bytes() + b"IQ,2025-12,CRUDEOIL,INDPROD,KBD,4400.0000,1\r\n",
        "a month outside 2026 in JODI's file for 2026",
    ),
    "header changed": (
        fixture_bytes().replace(b"ASSESSMENT_CODE", b"OBS_STATUS", 1),
        "JODI's layout is REF_AREA,TIME_PERIOD",
    ),
    "extra column in a row": (
        replace_line(b"IQ,2026-02,CRUDEOIL,INDPROD,KBD,4367.1000,1", b"IQ,2026-02,CRUDEOIL,INDPROD,KBD,4367.1000,1,NEW"),
        "does not match JODI's 7-column CSV layout",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_a_clear_error(tmp_path, case):
    data, message = BAD[case]
    with pytest.raises(FormatError) as caught:
        parse_bytes(tmp_path, data)
    assert str(caught.value).startswith(f"[jodi] {CURRENT}:")
    assert message in str(caught.value)


def test_year_files_are_read_together_and_a_broken_one_is_named(tmp_path):
    """The per-year files are read in one DuckDB statement; a row that breaks the layout in one of
    them is named by that file (found by reading them one by one, only then)."""
    files = {}
    template = (SAMPLE_DIR / "jodi" / "2023.csv").read_bytes()
    for year in range(2013, 2026):  # thirteen year files, as JODI names them, and the current year's
        (tmp_path / f"{year}.csv").write_bytes(template.replace(b",2023-", f",{year}-".encode()))
        files[f"{year}.csv"] = landed(tmp_path / f"{year}.csv")
    (tmp_path / CURRENT).write_bytes((SAMPLE_DIR / "jodi" / CURRENT).read_bytes())
    files[CURRENT] = landed(tmp_path / CURRENT)
    table = jodi.parse(files, today=TODAY)["jodi_crude_oil"]
    assert sorted(set(table.column("source_file").to_pylist())) == sorted(files)
    assert table.num_rows == 13 * 48 + 36  # a year: IQ and IR, production and exports, 12 months; 2026: 9
    assert set(table.column("time_period").to_pylist()) >= {"2013-01", "2024-06", "2025-12", "2026-01"}
    original = (tmp_path / "2024.csv").read_bytes()
    lines = original.split(b"\n")
    extra, unclosed = list(lines), list(lines)
    extra[5] = extra[5].rstrip(b"\r") + b",EXTRA\r"
    # an unclosed quote: DuckDB reading a list of files drops the rest of that file without an error
    unclosed[3] = unclosed[3].replace(b"CRUDEOIL", b'"CRUDEOIL', 1)
    for broken in (extra, unclosed):
        (tmp_path / "2024.csv").write_bytes(b"\n".join(broken))
        with pytest.raises(FormatError) as caught:
            jodi.parse(files, today=TODAY)
        assert str(caught.value).startswith("[jodi] 2024.csv: does not match JODI's 7-column CSV layout")


def test_directory_with_both_zip_and_year_files_is_refused(tmp_path):
    root = source_dir(tmp_path, "jodi", {jodi.ZIP_NAME: b"PK\x03\x04", CURRENT: fixture_bytes()})
    with pytest.raises(FetchError, match=r"both world_primary_csv\.zip and per-year files"):
        jodi.JODI.land(LandingZone(tmp_path / "landing"), SourceMode("directory", root), None)


def test_directory_with_a_file_jodi_does_not_publish_is_refused(tmp_path):
    root = source_dir(tmp_path, "jodi", {"jodi_export.csv": fixture_bytes()})
    with pytest.raises(FetchError, match="not a JODI file name"):
        jodi.JODI.land(LandingZone(tmp_path / "landing"), SourceMode("directory", root), None)


def test_live_fetches_the_zip_from_the_base_url_it_is_given(tmp_path, http_server):
    archive = tmp_path / jodi.ZIP_NAME
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("world_Primary_CSV.csv", fixture_bytes())
    http_server.script(f"/oil/{jodi.ZIP_NAME}", Reply(200, body=archive.read_bytes(), headers={"Content-Type": "application/zip"}))
    zone = LandingZone(tmp_path / "landing")
    with pytest.raises(FetchError, match="live mode needs an HTTP session"):
        jodi.JODI.land(zone, SourceMode(LIVE), None)
    landed = jodi.JODI.land(zone, SourceMode(LIVE), LiveAccess(make_session(), base_urls={"jodi": http_server.url("/oil/")}))
    assert list(landed) == [jodi.ZIP_NAME] and landed[jodi.ZIP_NAME].origin == http_server.url(f"/oil/{jodi.ZIP_NAME}")
    assert jodi.parse(landed, today=TODAY)["jodi_crude_oil"].num_rows == 8


# -- whole refreshes: a good published warehouse first, then the bad directory ---------------
DIRECTORY_CASES = ["unit other than KBD", "negative kb/d", "future period", "duplicate key"]


@pytest.mark.parametrize("case", DIRECTORY_CASES)
def test_bad_directory_refresh_changes_nothing_published(refresh, warehouse_home, tmp_path, case, monkeypatch):
    # a current-year file dated in the real calendar: the future case must be in the real future
    data, message = BAD[case]
    if case == "future period":
        today = date.today()
        year = today.year + 1
        name, data = f"primaryyear{year}.csv", fixture_bytes().replace(b"2026-", f"{year}-".encode())
        message = f"period in the future (after {today:%Y-%m})"
    else:
        name = CURRENT
    published = start_from_baseline(warehouse_home)
    before = sha256_of(published)
    code, out, err = refresh("--only", "jodi", sources=source_dir(tmp_path, "jodi", {name: data}))
    assert code == 1, out[-2000:]
    assert "REFRESH FAILED" in err and "[jodi]" in err and message in err, err[-3000:]
    assert sha256_of(published) == before


def test_directory_refresh_with_markers_publishes_null_plus_flag(refresh, warehouse_home, tmp_path):
    # JODI's own per-year files, as a directory: the sample's markers are data, not errors
    files = {p.name: p.read_bytes() for p in (SAMPLE_DIR / "jodi").glob("*.csv")}
    published = start_from_baseline(warehouse_home)
    code, out, err = refresh("--only", "jodi", sources=source_dir(tmp_path, "jodi", files))
    assert code == 0, (out + err)[-3000:]
    rows = query(published, "select ref_area, time_period, obs_value, obs_marker, source_mode from raw.jodi_crude_oil "
                            "where obs_marker is not null order by 1, 2")
    assert rows == [("IQ", "2026-09", None, "..", "directory"), ("IR", "2023-02", None, "-", "directory"),
                    ("IR", "2025-06", None, "x", "directory"), ("IR", "2026-08", None, "..", "directory"),
                    ("IR", "2026-09", None, "..", "directory")]
    marts = query(published, "select exports_kbd, exports_kbd_jodi, jodi_exports_marker from marts.fct_oil_monthly "
                             "where month = '2025-06-01' and country_iso3 = 'IRN'")
    assert marts == [(None, None, "x")]


# -- the bundled build: both oil marts with named values -------------------------------------
def test_bundled_refresh_builds_the_oil_marts(warehouse_home):
    published = start_from_baseline(warehouse_home)
    somo = query(published, "select somo_exports_barrels, round(exports_kbd_somo), exports_source, somo_figure_status "
                            "from marts.fct_oil_monthly where country_iso3 = 'IRQ' and month = '2024-05-01'")
    assert somo == [(104_130_292, 3359.0, "somo", "final")]
    krg = dict(query(published, "select strftime(month, '%Y-%m'), krg_pipeline_active from marts.fct_oil_monthly "
                                "where country_iso3 = 'IRQ'"))
    assert all(krg[f"2024-{m:02d}"] is False for m in range(1, 13))
    assert krg["2025-11"] is True and krg["2025-09"] is True
    assert krg["2023-02"] is True  # the register holds the run before the halt of 2023-03-25
    krg_exports = query(published, "select round(krg_exports_kbd, 1), krg_exports_basis from marts.fct_oil_monthly "
                                   "where country_iso3 = 'IRQ' and month in ('2025-11-01', '2025-12-01') order by month")
    assert krg_exports == [(252.8, "somo_monthly"), (218.0, "period_average")]
    assert query(published, "select count(*) from marts.fct_oil_monthly where month = '2025-10-01' "
                            "and somo_exports_barrels is not null") == [(0,)]
    assert query(published, "select count(*) from marts.fct_oil_monthly where exports_kbd = 0 or production_kbd = 0") == [(0,)]
    offset = query(published, "select baseline_start::varchar, baseline_end::varchar, count(*), min(month)::varchar, "
                              "count(*) filter (where offset_status = 'iran_exports_down') "
                              "from marts.rpt_iran_barrels_offset group by 1, 2")
    assert offset[0][:4] == ("2024-01-01", "2024-12-31", 20, "2025-01-01") and offset[0][4] > 0
    row = query(published, "select iran_change_kbd, iraq_change_kbd, iraq_offset_share from marts.rpt_iran_barrels_offset "
                           "where month = '2025-01-01'")[0]
    assert row[0] < 0 and row[2] == pytest.approx(row[1] / -row[0])
