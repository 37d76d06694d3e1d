"""The backfill's bulk load (one DuckDB read per kind of file over every version, straight into the
build) gives exactly the rows of one refresh's parse per version, and names the version whose file
fails; a refresh's load (the same queries over one version) gives the rows of `parse_version`, and
a file that fails it is named, the build's raw tables left as they were."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from orchestration.backfill import CSV_TABLES, Recorded, land_archive, load_backfill, scan_archive
from orchestration.errors import FormatError
from orchestration.landing import LandingZone
from orchestration.loading import file_provenance, load_raw_tables
from orchestration.settings import Layout
from orchestration.sources import SOURCES
from orchestration.sources.ofac import LIST_FILES, LIST_TABLES, parse_version
from orchestration.warehouse import Warehouse
from tests.ofac_archive import delist, entries, read_list, replace_in, subset, write_list
from tests.test_ofac_history import ADDED


def _archive(root: Path) -> dict[str, dict]:
    """Four versions of about 1,500 real entries; the third changes only an address, the fourth
    shares the third's ADD.CSV and ALT.CSV (landed once)."""
    first, second = read_list("snapshot-2024-01-18"), read_list("snapshot-2024-01-22")
    keep = set(entries(first)[:1500]) | ADDED  # ADDED: listed on 2024-01-22
    v1, v2 = subset(first, keep), subset(second, keep)
    moved = next(e for e in entries(v2) if any(r.startswith(f"{e},".encode()) for r in v2["ADD.CSV"]))
    v3 = replace_in(v2, "ADD.CSV", moved, b'"', b'"Moved ')
    v4 = {**v3, "SDN.CSV": delist(v3, {entries(v3)[10]})["SDN.CSV"]}
    versions = {"2024-01-18": v1, "2024-01-22": v2, "2024-01-23": v3, "2024-01-24": v4}
    for label, lists in versions.items():
        write_list(root / "ofac" / label, lists)
    return versions


def _plan(root: Path, home: Path):
    return land_archive(LandingZone(home / "landing"), scan_archive(root), Recorded(), lambda _: None)


def _backfill(root: Path, home: Path) -> dict[str, pa.Table]:
    """The raw tables a backfill of `root` loads into a run's build (as the OFAC step runs it)."""
    store = Warehouse(Layout(home))
    try:
        load_backfill(store, "run-1", SOURCES["ofac"], str(root), LandingZone(home / "landing"), lambda _: None)
        with store.connect("run-1") as con:
            return {t: con.sql(f"select * from raw.{t}").fetch_arrow_table() for t in CSV_TABLES}
    finally:
        store.discard("run-1")


def test_bulk_parse_gives_the_rows_of_one_parse_per_version(tmp_path):
    _archive(tmp_path / "archive")
    plan = _plan(tmp_path / "archive", tmp_path)
    assert len(plan.loaded) == 4
    shared = {version.label: str(landed["ALT.CSV"].path) for version, landed in plan.loaded}
    assert shared["2024-01-23"] == shared["2024-01-24"]  # one landed copy, read once, rows for both
    bulk = _backfill(tmp_path / "archive", tmp_path)
    one_by_one: dict[str, list[pa.Table]] = {table: [] for table in CSV_TABLES}
    for version, landed in plan.loaded:
        tables = parse_version(landed, version.published_at, version.publication_id)
        for table in CSV_TABLES:
            files = [f for name, f in landed.items() if LIST_TABLES[name] == table]
            one_by_one[table].append(file_provenance(tables[table], files))
    con = duckdb.connect()
    for table in CSV_TABLES:
        con.register("one", pa.concat_tables(one_by_one[table]))
        expected = con.sql("select * from one").fetch_arrow_table()  # as a refresh loads it: through DuckDB
        assert bulk[table].schema == expected.schema, table
        assert bulk[table].num_rows == expected.num_rows, table
        con.register("bulk", bulk[table])
        con.register("expected", expected)
        # every column but the landing time (the two were landed apart), row for row
        rows = "select * exclude (fetched_at) from {}"
        assert con.sql(f"select count(*) from ({rows.format('bulk')} except all {rows.format('expected')})").fetchall() == [(0,)]
        assert con.sql(f"select count(*) from ({rows.format('expected')} except all {rows.format('bulk')})").fetchall() == [(0,)]
    # the observed clock: each version's SDN.CSV rows carry the time that version's file was landed
    con.register("sdn", bulk["ofac_sdn"])
    assert con.sql("select count(distinct fetched_at), count(distinct (list_version, fetched_at)) from sdn").fetchall() == [(4, 4)]
    assert bulk["ofac_sdn"].num_rows > 5500  # four versions of about 1,500 entries
    published = {str(p) for p in bulk["ofac_sdn"].column("list_published_at").to_pylist()}
    assert published == {"2024-01-18 05:00:00+00:00", "2024-01-22 05:00:00+00:00", "2024-01-23 05:00:00+00:00",
                         "2024-01-24 05:00:00+00:00"}


def test_a_file_that_breaks_the_layout_is_named_with_its_version(tmp_path):
    _archive(tmp_path / "archive")
    alt = tmp_path / "archive" / "ofac" / "2024-01-22" / "ALT.CSV"
    data = alt.read_bytes()
    cut = data.index(b"\r\n", len(data) // 2)
    alt.write_bytes(data[:cut] + b',"an extra field"' + data[cut:])  # one row with a fifth field
    with pytest.raises(FormatError, match=r"archive version 2024-01-22, ALT\.CSV: does not match OFAC's 5-column layout"):
        _backfill(tmp_path / "archive", tmp_path)


def test_an_unclosed_quote_in_one_of_many_files_is_named_not_dropped(tmp_path):
    """DuckDB's reader (2.0.1) given a list of files drops the rest of a file after an unclosed
    quote, without an error: here the last alias of one version. Each file is read on its own, so
    the version is named instead."""
    versions = _archive(tmp_path / "archive")
    later = versions["2024-01-24"]
    for day in ("2024-01-25", "2024-01-26", "2024-01-27", "2024-01-28", "2024-01-29"):  # each its own ALT.CSV
        later = replace_in(later, "ALT.CSV", entries(later)[-1], b'"', b'"Renamed ')
        write_list(tmp_path / "archive" / "ofac" / day, later)
    alt = tmp_path / "archive" / "ofac" / "2024-01-22" / "ALT.CSV"
    data = alt.read_bytes()
    last_field = data.rindex(b",", 0, len(data) - 3) + 1  # the last alias's remarks, `-0- `
    alt.write_bytes(data[:last_field] + b'"' + data[last_field:])  # a quote that never closes
    with pytest.raises(FormatError, match=r"archive version 2024-01-22, ALT\.CSV: does not match OFAC's 5-column layout"):
        _backfill(tmp_path / "archive", tmp_path)


def test_a_record_over_two_lines_is_loaded_not_refused(tmp_path):
    """A quoted line break (which OFAC does not publish, but CSV allows) makes a file's line ends
    outnumber its rows: read alone the same, its rows stand."""
    _archive(tmp_path / "archive")
    sdn = tmp_path / "archive" / "ofac" / "2024-01-22" / "SDN.CSV"
    data = sdn.read_bytes()
    at = data.index(b'"', data.index(b"\r\n", len(data) // 2) + 2)  # inside the next row's first quoted field
    sdn.write_bytes(data[: at + 2] + b"\r\n" + data[at + 2:])
    bulk = _backfill(tmp_path / "archive", tmp_path)
    assert bulk["ofac_sdn"].num_rows > 5500
    con = duckdb.connect()
    con.register("sdn", bulk["ofac_sdn"])
    assert con.execute("select count(*) from sdn where contains(sdn_name, chr(13) || chr(10))").fetchone() == (1,)


def test_a_version_whose_addresses_belong_to_another_list_is_named(tmp_path):
    versions = _archive(tmp_path / "archive")
    other = subset(read_list("snapshot-2024-01-22"), set(entries(read_list("snapshot-2024-01-22"))[-1500:]))
    write_list(tmp_path / "archive" / "ofac" / "2024-01-23", {**versions["2024-01-23"], "ADD.CSV": other["ADD.CSV"]})
    with pytest.raises(FormatError, match=r"archive version 2024-01-23, ADD\.CSV: .* name an ent_num that is not in SDN\.CSV"):
        _backfill(tmp_path / "archive", tmp_path)


def _landed_list(folder: Path, zone: LandingZone) -> dict:
    return {name: zone.land_local("ofac", name, folder / name, "directory", "csv") for name in LIST_FILES
            if (folder / name).exists()}


def _as_loaded(con: duckdb.DuckDBPyConnection, arrow: pa.Table, files: list) -> pa.Table:
    con.register("one", file_provenance(arrow, files))
    return con.sql("select * from one").fetch_arrow_table()  # through DuckDB, as a load writes it


def test_a_refresh_load_gives_the_rows_of_parse_version(tmp_path):
    """The real list of 2024-01-22, loaded as a refresh loads it (OFAC's parse gives queries the build
    runs from the files): the rows, types and provenance of `parse_version`'s Arrow tables."""
    folder = write_list(tmp_path / "list", read_list("snapshot-2024-01-22"))
    landed = _landed_list(folder, LandingZone(tmp_path / "landing"))
    store, ofac = Warehouse(Layout(tmp_path / "home")), SOURCES["ofac"]
    counts = load_raw_tables(store, "run-1", ofac, ofac.parse(landed), landed)
    assert counts["ofac_sdn"] == 13_869 and counts["ofac_comments"] == 0
    reference, con = parse_version(landed), duckdb.connect()
    with store.connect("run-1") as build:
        for file_name, table in LIST_TABLES.items():
            loaded = build.sql(f"select * from raw.{table}").fetch_arrow_table()
            expected = _as_loaded(con, reference[table], [landed[file_name]] if file_name in landed else [])
            assert loaded.schema == expected.schema, table
            con.register("loaded", loaded)
            con.register("expected", expected)
            for a, b in (("loaded", "expected"), ("expected", "loaded")):
                assert con.sql(f"select count(*) from (from {a} except all from {b})").fetchall() == [(0,)], table
        fly = build.execute("select sdn_name, list_version, source_file from raw.ofac_sdn where ent_num = 39236").fetchall()
    assert fly == [("FLY BAGHDAD AIRLINES COMPANY", reference["ofac_sdn"]["list_version"][0].as_py(), "SDN.CSV")]
    store.discard("run-1")


@pytest.mark.parametrize("case", ["layout", "orphans"])
def test_a_refresh_load_that_fails_names_the_file_and_keeps_the_raw_tables(tmp_path, case):
    good = write_list(tmp_path / "good", read_list("snapshot-2024-01-18"))
    store, ofac, zone = Warehouse(Layout(tmp_path / "home")), SOURCES["ofac"], LandingZone(tmp_path / "landing")
    landed = _landed_list(good, zone)
    load_raw_tables(store, "run-1", ofac, ofac.parse(landed), landed)
    bad = read_list("snapshot-2024-01-22")
    if case == "layout":
        bad["ALT.CSV"][777] += b',"an extra field"'  # one row with a sixth field
        expected = r"\[ofac\] ALT\.CSV: does not match OFAC's 5-column layout"
    else:
        other = subset(bad, set(entries(bad)[:300]))  # SDN.CSV of 300 entries; ADD.CSV of all 13,869
        bad = {**other, "ADD.CSV": bad["ADD.CSV"]}
        expected = r"\[ofac\] ADD\.CSV: 9\d% of its [\d,]+ rows \([\d,]+\) name an ent_num that is not in SDN\.CSV"
    landed_bad = _landed_list(write_list(tmp_path / "bad", bad), zone)
    with pytest.raises(FormatError, match=expected):
        load_raw_tables(store, "run-1", ofac, ofac.parse(landed_bad), landed_bad)
    with store.connect("run-1") as con:  # the first load's rows and records, untouched
        assert con.execute("select count(*), min(source_sha256) from raw.ofac_sdn").fetchone() == (13_848, landed["SDN.CSV"].sha256)
        assert con.execute("select row_count from meta.source_loads where table_name = 'raw.ofac_sdn'").fetchone() == (13_848,)
    store.discard("run-1")
