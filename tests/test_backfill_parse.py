"""The backfill's bulk load (one DuckDB read per kind of file over every version, straight into the
build) gives exactly the rows of one refresh's parse per version, and names the version whose file
fails."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from orchestration.backfill import CSV_TABLES, Recorded, land_archive, load_backfill, scan_archive
from orchestration.errors import FormatError
from orchestration.landing import LandingZone
from orchestration.loading import file_provenance
from orchestration.settings import Layout
from orchestration.sources import SOURCES
from orchestration.sources.ofac import LIST_TABLES, parse_version
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


def test_a_version_whose_addresses_belong_to_another_list_is_named(tmp_path):
    versions = _archive(tmp_path / "archive")
    other = subset(read_list("snapshot-2024-01-22"), set(entries(read_list("snapshot-2024-01-22"))[-1500:]))
    write_list(tmp_path / "archive" / "ofac" / "2024-01-23", {**versions["2024-01-23"], "ADD.CSV": other["ADD.CSV"]})
    with pytest.raises(FormatError, match=r"archive version 2024-01-23, ADD\.CSV: .* name an ent_num that is not in SDN\.CSV"):
        _backfill(tmp_path / "archive", tmp_path)
