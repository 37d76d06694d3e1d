"""IMF IMTS over SDMX-CSV: the parser on recorded fixtures, the real SDMX-ML answer, bad input."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pyarrow as pa
import pytest

from orchestration.errors import FormatError
from orchestration.http_client import make_session
from orchestration.landing import LandingZone
from orchestration.settings import SourceMode
from orchestration.sources import imf
from orchestration.sources.base import LiveAccess
from tests.conftest import sha256_of, shared_path
from tests.http_fixture import Reply
from tests.sources.trade_helpers import FIXTURES, SAMPLE, land, trade_dir

IRQ_IMPORTS = "IMTS_IRQ.MG_CIF_USD.IRN.M.csv"
FIXTURE = FIXTURES / "imf" / IRQ_IMPORTS
REAL_XML = "imf_api_sdmx3_IMTS_USA.XG_FOB_USD.G001+G998.A_structurespecific_2025-12-16.xml"


def csv_lines(path=FIXTURE) -> list[str]:
    return [line for line in path.read_bytes().decode().split("\r\n") if line]


def as_bytes(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def test_parses_the_recorded_answer_with_estimate_labels(tmp_path):
    table = imf.parse(land(tmp_path, "imf", {IRQ_IMPORTS: FIXTURE}, "csv"))["imf_imts_trade"]
    rows = table.to_pylist()
    assert len(rows) == 6
    march = next(r for r in rows if r["time_period"] == "2025-M03")
    assert march["obs_value"] == 812345678.0
    assert (march["country"], march["indicator"], march["counterpart_country"]) == ("IRQ", "MG_CIF_USD", "IRN")
    assert march["derivation_type"] == "E" and march["status"] is None
    assert next(r for r in rows if r["time_period"] == "2025-M06")["status"] == "P"
    assert march["precision"] is None  # an empty SDMX-CSV cell is NULL, not ''
    assert march["source_file"] == IRQ_IMPORTS and march["source_mode"] == "directory" and not march["is_sample"]
    assert table.column_names[-6:] == list(imf.PROVENANCE)


def test_columns_are_read_by_name_in_any_order(tmp_path):
    lines = [line.split(",") for line in csv_lines()]
    order = list(reversed(range(len(lines[0]))))
    shuffled = as_bytes([",".join(fields[i] for i in order) for fields in lines])
    original = imf.parse(land(tmp_path / "a", "imf", {IRQ_IMPORTS: FIXTURE}, "csv"))["imf_imts_trade"]
    reordered = imf.parse(land(tmp_path / "b", "imf", {IRQ_IMPORTS: shuffled}, "csv"))["imf_imts_trade"]
    drop = list(imf.PROVENANCE)
    assert original.drop_columns(drop).to_pylist() == reordered.drop_columns(drop).to_pylist()


def test_the_bundled_sample_answers_every_query(tmp_path):
    assert sorted(p.name for p in (SAMPLE / "imf").glob("*.csv")) == sorted(q.file_name for q in imf.QUERIES)
    zone = LandingZone(tmp_path / "landing")
    table = imf.parse(imf.IMF.land(zone, SourceMode("bundled"), None))["imf_imts_trade"]
    assert table.num_rows > 100
    assert set(table.column("is_sample").to_pylist()) == {True}


def test_query_keys_and_file_names():
    keys = {q.key for q in imf.QUERIES}
    assert {"IRQ.MG_CIF_USD.IRN.M", "IRQ.XG_FOB_USD.IRN.M", "IRN.XG_FOB_USD.IRQ.M", "IRQ.MG_CIF_USD.G001.M",
            "TUR.XG_FOB_USD.IRQ.M", "G001.MG_CIF_USD.IRQ.M"} <= keys
    assert len(imf.QUERIES) == 20
    assert imf.IMF.url_of(imf.FILES[0]) == (
        "https://api.imf.org/external/sdmx/2.1/data/IMF.STA,IMTS/IRQ.MG_CIF_USD.IRN.M?startPeriod=2015"
    )


def test_real_sdmx_ml_answer_is_refused_as_xml_not_csv(tmp_path):
    real = shared_path("formats", REAL_XML)
    folder = tmp_path / "dir" / "imf"
    folder.mkdir(parents=True)
    for query in imf.QUERIES:
        (folder / query.file_name).write_bytes(FIXTURE.read_bytes())
    (folder / IRQ_IMPORTS).write_bytes(real.read_bytes())
    with pytest.raises(FormatError) as error:
        imf.IMF.land(LandingZone(tmp_path / "landing"), SourceMode("directory", tmp_path / "dir"), None)
    message = str(error.value)
    assert message.startswith(f"[imf] {IRQ_IMPORTS}:")
    assert "SDMX-ML (XML), but SDMX-CSV was requested" in message
    assert list((tmp_path / "landing" / "_rejected" / "imf").iterdir())  # the bytes are kept for inspection


def test_recorded_sdmx_ml_fixture_is_refused(tmp_path):
    with pytest.raises(FormatError, match="SDMX-ML"):
        imf._explain_xml(lambda: land(tmp_path, "imf", {IRQ_IMPORTS: FIXTURES / "imf" / "IMTS_IRQ.MG_CIF_USD.IRN.M.xml"}, "csv"))


@pytest.mark.parametrize(
    "edit, cause",
    [
        (lambda ls: [*ls[:-1], ls[-1].replace("2025-M06", f"{date.today().year + 1}-M01")], "is in the future"),
        (lambda ls: [*ls, ls[3]], "duplicate key"),
        (lambda ls: [ls[0]] + [line.replace(",IRN,", ",KWT,") for line in ls[1:]], "but IRQ.MG_CIF_USD.IRN.M was requested"),
        (lambda ls: [ls[0].replace("STATUS", "COMMENT"), *ls[1:]], "unknown ['COMMENT']"),
        (lambda ls: [ls[0]] + [line.replace(",USD,", ",EUR,") for line in ls[1:]], "UNIT is 'EUR'"),
        (lambda ls: [ls[0]] + [line.replace("2025-M0", "2025-Q") for line in ls[1:]], "not a monthly period"),
        (lambda ls: [ls[0]] + [line.replace(",732630520,", ",n/a,") for line in ls[1:]], "not valid IMTS SDMX-CSV"),
    ],
    ids=["future period", "duplicate key", "wrong series", "unknown column", "unit", "quarterly period", "bad number"],
)
def test_bad_answers_fail_naming_source_file_and_cause(tmp_path, edit, cause):
    landed = land(tmp_path, "imf", {IRQ_IMPORTS: as_bytes(edit(csv_lines()))}, "csv")
    with pytest.raises(FormatError) as error:
        imf.parse(landed)
    assert str(error.value).startswith("[imf] ") and IRQ_IMPORTS in str(error.value)
    assert cause in str(error.value)


def test_an_answer_for_another_series_is_refused(tmp_path):
    landed = land(tmp_path, "imf", {"IMTS_IRN.XG_FOB_USD.IRQ.M.csv": FIXTURE}, "csv")
    with pytest.raises(FormatError, match=re.escape("holds series IRQ.MG_CIF_USD.IRN.M, but IRN.XG_FOB_USD.IRQ.M was requested")):
        imf.parse(landed)


# -- the twenty answers read together (parse's fast path), checked as one by one -------------------
SAMPLE_FILES = sorted(q.file_name for q in imf.QUERIES)
FIFTEENTH = SAMPLE_FILES[14]  # IMTS_KOR.MG_CIF_USD.IRQ.M.csv


def sample_answers(**edits) -> dict[str, bytes]:
    """The bundled sample's twenty answers, `edits` (file name -> lines -> lines) applied."""
    answers = {}
    for name in SAMPLE_FILES:
        data = (SAMPLE / "imf" / name).read_bytes()
        answers[name] = as_bytes(edits[name](csv_lines(SAMPLE / "imf" / name))) if name in edits else data
    return answers


def one_by_one(landed) -> pa.Table:
    con = duckdb.connect()
    try:
        return imf._read_one_by_one([landed[name] for name in sorted(landed)], con)
    finally:
        con.close()


def test_good_answers_are_read_together_as_one_by_one_would(tmp_path, monkeypatch):
    landed = land(tmp_path, "imf", sample_answers(), "csv")
    expected = one_by_one(landed)
    monkeypatch.setattr(imf, "read_imts_csv", lambda *_: pytest.fail("good answers were read one by one"))
    table = imf.parse(landed)["imf_imts_trade"]
    assert table.equals(expected) and table.schema == expected.schema
    assert table.num_rows == 150
    files = table.column("source_file").to_pylist()
    assert sorted(set(files)) == SAMPLE_FILES and files == sorted(files)  # files in name order, rows in file order
    assert table.column("time_period").to_pylist()[:3] == ["2025-M01", "2025-M02", "2025-M03"]


def test_answers_with_their_columns_in_different_orders_are_read_together(tmp_path, monkeypatch):
    width = len(imf.COLUMNS)
    orders = [list(range(width)), list(reversed(range(width))), [*range(1, width), 0]]

    def reorder(order):
        return lambda lines: [",".join(line.split(",")[i] for i in order) for line in lines]

    edits = {name: reorder(orders[i % 3]) for i, name in enumerate(SAMPLE_FILES) if i % 3}
    expected = one_by_one(land(tmp_path / "a", "imf", sample_answers(), "csv"))
    landed = land(tmp_path / "b", "imf", sample_answers(**edits), "csv")
    monkeypatch.setattr(imf, "read_imts_csv", lambda *_: pytest.fail("good answers were read one by one"))
    table = imf.parse(landed)["imf_imts_trade"]
    drop = ["source_sha256", "fetched_at", "source_url"]  # the reordered bytes are other files
    assert table.drop_columns(drop).equals(expected.drop_columns(drop))
    assert table.num_rows == 150 and table.column("source_file").to_pylist() == expected.column("source_file").to_pylist()


def _set(column: str, value: str, row: int = 1):
    """Lines -> lines with `column` of data row `row` (1 = the first) set to `value`."""

    def edit(lines):
        index = lines[0].split(",").index(column)
        fields = lines[row].split(",")
        fields[index] = value
        return [*lines[:row], ",".join(fields), *lines[row + 1 :]]

    return edit


@pytest.mark.parametrize(
    "edit, cause",
    [
        (_set("UNIT", "EUR", 4), "UNIT is 'EUR' in 2025-M04, expected USD"),
        (_set("TIME_PERIOD", f"{date.today().year + 1}-M02", 6), f"TIME_PERIOD {date.today().year + 1}-M02 is in the future (today is {date.today()})"),
        (_set("TIME_PERIOD", "2025-13"), "TIME_PERIOD '2025-13' is not a monthly period like 2025-M01"),
        (_set("COUNTERPART_COUNTRY", "KWT", 2), "holds series KOR.MG_CIF_USD.KWT.M, but KOR.MG_CIF_USD.IRQ.M was requested"),
        (_set("DATAFLOW", "IMF.STA:DOT(1.0.0)"), "DATAFLOW is 'IMF.STA:DOT(1.0.0)', not IMF.STA:IMTS"),
        (lambda lines: [*lines, lines[3]], "duplicate key: observation KOR.MG_CIF_USD.IRQ.M 2025-M03 appears 2 times"),
        (lambda lines: [lines[0].replace("STATUS", "COMMENT"), *lines[1:]],
         "SDMX-CSV header does not match IMTS's documented columns: missing ['STATUS'], unknown ['COMMENT']"),
        # read with others, DuckDB 2.0.1 drops this file's rows without a word (alone it refuses them)
        (lambda lines: [lines[0], lines[1].replace(",OL,", ',"OL,'), *lines[2:]], "is not valid IMTS SDMX-CSV: Invalid Input Error"),
    ],
    ids=["unit", "future period", "not monthly", "wrong series", "dataflow", "duplicate key", "unknown column", "open quote"],
)
def test_a_bad_row_in_the_15th_of_20_answers_is_named_by_file(tmp_path, edit, cause):
    landed = land(tmp_path, "imf", sample_answers(**{FIFTEENTH: edit}), "csv")
    with pytest.raises(FormatError) as error:
        imf.parse(landed)
    assert str(error.value).startswith(f"[imf] {FIFTEENTH}: {cause}")


def test_the_first_bad_answer_in_name_order_is_the_one_named(tmp_path):
    """One by one, a bad row in the 3rd answer stops the run before the 15th's header is read."""
    landed = land(tmp_path, "imf", sample_answers(**{
        SAMPLE_FILES[2]: _set("UNIT", "EUR"),
        FIFTEENTH: lambda lines: [lines[0].replace("STATUS", "COMMENT"), *lines[1:]],
    }), "csv")
    with pytest.raises(FormatError, match=re.escape(f"[imf] {SAMPLE_FILES[2]}: UNIT is 'EUR' in 2025-M01, expected USD")):
        imf.parse(landed)


def test_rows_refused_together_but_not_one_by_one_still_stop_the_run(tmp_path, monkeypatch):
    # as if the SQL checks had a bug: every row of the 15th answer refused
    monkeypatch.setattr(imf, "ROW_IS_BAD", "(file_index = 15 and $keys[file_index] <> $this_month)")
    landed = land(tmp_path, "imf", sample_answers(), "csv")
    with pytest.raises(FormatError) as error:
        imf.parse(landed)
    assert str(error.value) == (
        f"[imf] IMTS: reading the answers together found rows the row checks refuse (in {FIFTEENTH}), but reading "
        "them one by one found nothing wrong; refused rather than loaded half-checked (a bug in orchestration/sources/imf.py)"
    )


def live(server) -> LiveAccess:
    """Live access whose IMF base URL is the local server."""
    return LiveAccess(make_session(), base_urls={"imf": server.url("/imts")})


def test_live_mode_asks_for_sdmx_csv(tmp_path, http_server):
    for query in imf.QUERIES:
        http_server.script(f"/imts/{query.key}", Reply(200, body=(SAMPLE / "imf" / query.file_name).read_bytes(),
                                                        headers={"Content-Type": "application/vnd.sdmx.data+csv"}))
    landed = imf.IMF.land(LandingZone(tmp_path / "landing"), SourceMode("live"), live(http_server))
    assert set(landed) == {q.file_name for q in imf.QUERIES}
    seen = http_server.requests[0]
    assert seen.headers["Accept"] == imf.ACCEPT
    assert seen.target.endswith("?startPeriod=2015")
    assert landed[IRQ_IMPORTS].origin == http_server.url("/imts/IRQ.MG_CIF_USD.IRN.M?startPeriod=2015")
    assert imf.parse(landed)["imf_imts_trade"].num_rows > 100


def test_live_xml_answer_is_a_clear_error(tmp_path, http_server):
    http_server.script("/imts/IRQ.MG_CIF_USD.IRN.M", Reply(200, body=(FIXTURES / "imf" / "IMTS_IRQ.MG_CIF_USD.IRN.M.xml").read_bytes(),
                                                           headers={"Content-Type": "application/xml"}))
    with pytest.raises(FormatError, match=r"^\[imf\] .*SDMX-ML \(XML\), but SDMX-CSV was requested"):
        imf.IMF.land(LandingZone(tmp_path / "landing"), SourceMode("live"), live(http_server))


# -- bad input through `warehouse refresh`: a clear error, nothing published -------------------
def _break(root, edit) -> None:
    path = root / "imf" / IRQ_IMPORTS
    path.write_bytes(edit(path))


BAD_INPUTS = [
    ("SDMX-ML instead of CSV", lambda p: (FIXTURES / "imf" / "IMTS_IRQ.MG_CIF_USD.IRN.M.xml").read_bytes(),
     "SDMX-ML (XML), but SDMX-CSV was requested"),
    ("period in the future", lambda p: p.read_bytes().replace(b"2025-M03", f"{date.today().year + 2}-M03".encode()),
     "is in the future"),
    ("duplicate key", lambda p: p.read_bytes() + p.read_bytes().split(b"\r\n")[5] + b"\r\n", "duplicate key"),
]


def test_bad_imf_input_fails_the_refresh_and_publishes_nothing(refresh, warehouse_home, tmp_path):
    code, out, err = refresh("--only", "imf,comtrade", sources=trade_dir(tmp_path, "good"))
    assert code == 0, (out + err)[-3000:]
    published = warehouse_home / "warehouse.duckdb"
    before = sha256_of(published)
    for label, edit, cause in BAD_INPUTS:
        root = trade_dir(tmp_path, label.replace(" ", "_"))
        _break(root, edit)
        code, out, err = refresh("--only", "imf", sources=root)
        assert code == 1, label
        assert "REFRESH FAILED" in err and "[imf]" in err and cause in err, (label, err[-2000:])
        assert sha256_of(published) == before, label
