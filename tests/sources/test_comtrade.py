"""UN Comtrade: parsing by name, code mapping, the 500-row cap, `error` answers, the API key."""

from __future__ import annotations

import json
from datetime import date

import pytest

from orchestration.errors import FetchError, FormatError
from orchestration.http_client import make_session
from orchestration.landing import LandingZone
from orchestration.settings import SourceMode
from orchestration.sources import comtrade
from orchestration.sources.base import LiveAccess
from tests.conftest import TEST_HTTP, sha256_of, shared_path
from tests.http_fixture import Reply
from tests.sources.trade_helpers import FIXTURES, SAMPLE, land, trade_dir

MONTHLY = "C_M_HS_p368_202501-202505.json"
FIXTURE = FIXTURES / "comtrade" / MONTHLY
SECRET = "test-key-0f8e7d6c5b4a39281706f5e4d3c2b1a0"


def answer(rows: list[dict], **envelope) -> bytes:
    body = {"elapsedTime": "0.40 secs", "count": len(rows), "data": rows, "error": ""}
    body.update(envelope)
    return json.dumps(body).encode()


def fixture_rows() -> list[dict]:
    return json.loads(FIXTURE.read_text())["data"]


def parse_one(tmp_path, content: bytes, name: str = MONTHLY):
    return comtrade.parse(land(tmp_path, "comtrade", {name: content}, "json"))["comtrade_mirror_trade"]


def test_parses_the_recorded_answer_by_name(tmp_path):
    rows = parse_one(tmp_path, FIXTURE.read_bytes()).to_pylist()
    assert len(rows) == 7
    by_key = {(r["reporter_iso3"], r["flow_code"], r["cmd_code"]): r for r in rows}
    iran_gas = by_key[("IRN", "X", "2711")]
    assert iran_gas["primary_value"] == 305000000.0 and iran_gas["partner_iso3"] == "IRQ"
    assert iran_gas["qty_unit_abbr"] == "kg" and iran_gas["qty"] > 0
    # Comtrade's own codes: USA 842, India 699
    assert by_key[("USA", "M", "TOTAL")]["reporter_code"] == 842
    assert by_key[("IND", "M", "2709")]["reporter_code"] == 699
    # 0 with unit -1 is unknown, not zero
    total = by_key[("USA", "M", "TOTAL")]
    assert total["qty"] is None and total["net_wgt"] is None and total["qty_unit_code"] == -1
    assert rows[0]["source_file"] == MONTHLY


def test_field_order_does_not_matter(tmp_path):
    rows = fixture_rows()
    reversed_rows = [dict(reversed(list(r.items()))) for r in rows]
    a = parse_one(tmp_path / "a", FIXTURE.read_bytes()).drop_columns(["fetched_at", "source_url"])
    b = parse_one(tmp_path / "b", answer(reversed_rows)).drop_columns(["fetched_at", "source_url", "source_sha256"])
    assert a.drop_columns(["source_sha256"]).to_pylist() == b.to_pylist()


def test_the_real_preview_answer_parses(tmp_path):
    real = shared_path("formats", "comtrade_preview_usa_jpn_2023.json")
    rows = parse_one(tmp_path, real.read_bytes(), name="C_A_HS_p392_2023-2023.json").to_pylist()
    assert len(rows) == 2
    assert {(r["reporter_iso3"], r["partner_iso3"], r["flow_code"]) for r in rows} == {("USA", "JPN", "M"), ("USA", "JPN", "X")}
    export = next(r for r in rows if r["flow_code"] == "X")
    assert export["cif_value"] is None and export["primary_value"] == 76154045176.0
    assert export["qty"] is None and export["net_wgt"] is None  # 0 with unit -1


def test_iso3_mapping_and_exceptions():
    assert comtrade.iso3(368, "IRQ", "f", "partner") == "IRQ"
    assert comtrade.iso3(364, "IRN", "f", "partner") == "IRN"
    assert comtrade.iso3(842, "USA", "f", "reporter") == "USA"
    assert comtrade.iso3(699, "IND", "f", "reporter") == "IND"
    assert comtrade.iso3(792, "TUR", "f", "reporter") == "TUR"
    assert comtrade.iso3(784, "ARE", "f", "reporter") == "ARE"
    assert comtrade.iso3(156, "CHN", "f", "reporter") == "CHN"
    assert comtrade.iso3(0, "W00", "f", "partner") == "WLD"
    with pytest.raises(FormatError, match=r"code 999 .* neither ISO 3166 numeric nor in the exceptions table"):
        comtrade.iso3(999, "XXX", "f", "reporter")
    with pytest.raises(FormatError, match="maps to IRQ, but the answer says IRN"):
        comtrade.iso3(368, "IRN", "f", "partner")


def test_the_query_plan_never_reaches_the_cap():
    plan = comtrade.query_plan(date(2026, 7, 15))
    assert all(q.max_rows < comtrade.ROW_CAP for q in plan)
    assert len({q.file_name for q in plan}) == len(plan)
    monthly = [p for q in plan if q.freq == "M" and q.partner == 368 for p in q.periods]
    assert monthly[0] == "201501" and monthly[-1] == "202606" and len(monthly) == len(set(monthly))
    assert [p for q in plan if q.freq == "A" and q.partner == 364 for p in q.periods][-1] == "2025"
    first = plan[0]
    assert first.file_name == "C_M_HS_p368_201501-201505.json"
    params = first.params()
    assert params["partnerCode"] == "368" and "364" in params["reporterCode"].split(",")
    assert params["cmdCode"] == "2709,2710,2711,271121,2716,TOTAL" and params["flowCode"] == "M,X"


@pytest.mark.parametrize(
    "content, error, cause",
    [
        (answer([], error="Invalid period: 209901 is not available"), FetchError, "answered with an error: 'Invalid period"),
        (answer([fixture_rows()[0]] * 500), FormatError, "returned 500 rows, the preview's page cap of 500"),
        (answer(fixture_rows(), count=99), FormatError, "says count 99 but holds 7 rows"),
        (answer([{k: v for k, v in r.items() if k != "qtyUnitCode"} for r in fixture_rows()]), FormatError,
         "missing ['qtyUnitCode']"),
        (answer([{**r, "newField": 1} for r in fixture_rows()]), FormatError, "unknown ['newField']"),
        (answer([fixture_rows()[0], fixture_rows()[0]]), FormatError, "duplicate key"),
        (answer([{**fixture_rows()[0], "period": f"{date.today().year + 1}01", "refYear": date.today().year + 1}]),
         FormatError, "is in the future"),
        (b'{"elapsedTime": "0.4 secs", "count": 3, "data": [{"typeCode": "C"', FormatError, "is not valid JSON"),
    ],
    ids=["error message", "exactly 500 rows", "count mismatch", "missing field", "unknown field", "duplicate key",
         "future period", "truncated JSON"],
)
def test_bad_answers_fail_naming_source_file_and_cause(tmp_path, content, error, cause):
    with pytest.raises(error) as raised:
        parse_one(tmp_path, content)
    assert str(raised.value).startswith(f"[comtrade] {MONTHLY}:")
    assert cause in str(raised.value)


def test_the_recorded_error_answer(tmp_path):
    with pytest.raises(FetchError, match="the Comtrade API answered with an error"):
        parse_one(tmp_path, (FIXTURES / "comtrade" / "error_answer.json").read_bytes())


def test_bundled_and_directory_modes_read_every_query_file(tmp_path):
    zone = LandingZone(tmp_path / "landing")
    landed = comtrade.COMTRADE.land(zone, SourceMode("bundled"), None)
    assert set(landed) == {p.name for p in (SAMPLE / "comtrade").glob("C_*.json")}
    empty = tmp_path / "empty"
    (empty / "comtrade").mkdir(parents=True)
    with pytest.raises(FetchError, match=r"\[comtrade\] .*no Comtrade answers found"):
        comtrade.COMTRADE.land(zone, SourceMode("directory", empty), None)


# -- live mode against 127.0.0.1 ------------------------------------------------------------------
TWO_QUERIES = (
    comtrade.TradeQuery("M", 368, (792, 364), ("202501", "202502")),
    comtrade.TradeQuery("A", 368, (792, 364), ("2024",)),
)


def _serve(server, monthly: bytes, annual: bytes, keyed: bool) -> None:
    prefix = "/data/v1/get" if keyed else "/public/v1/preview"
    server.script(f"{prefix}/C/M/HS", Reply(200, body=monthly, headers={"Content-Type": "application/json"}))
    server.script(f"{prefix}/C/A/HS", Reply(200, body=annual, headers={"Content-Type": "application/json"}))


def _sample_rows(name: str) -> list[dict]:
    return json.loads((SAMPLE / "comtrade" / name).read_text())["data"]


@pytest.fixture
def live_comtrade(http_server, monkeypatch):
    # the environment is for whole refreshes (env -> http resource -> source); direct calls get a LiveAccess
    monkeypatch.setenv("WAREHOUSE_COMTRADE_BASE_URL", http_server.base)
    monkeypatch.setattr(comtrade, "query_plan", lambda today=None: TWO_QUERIES)
    monkeypatch.setenv(comtrade.KEY_ENV, "")  # no key ('' = none; an unset variable fails the run)
    return http_server


def access(server, key: str = "") -> LiveAccess:
    """Live access whose Comtrade base URL is the local server, with `key` ('' = none); retries as
    the tests' refreshes have them (TEST_HTTP), not the default waits of 2 to 16 s."""
    return LiveAccess(make_session(TEST_HTTP), base_urls={"comtrade": server.base}, keys={"comtrade": key})


def test_keyless_live_uses_the_preview_and_no_key(tmp_path, live_comtrade):
    _serve(live_comtrade, FIXTURE.read_bytes(), answer(_sample_rows("C_A_HS_p368_2020-2024.json")), keyed=False)
    landed = comtrade.COMTRADE.land(LandingZone(tmp_path / "landing"), SourceMode("live"), access(live_comtrade))
    assert set(landed) == {q.file_name for q in TWO_QUERIES}
    seen = live_comtrade.requests[0]
    assert seen.path == "/public/v1/preview/C/M/HS" and "reporterCode=792%2C364" in seen.target
    assert comtrade.KEY_HEADER.lower() not in {k.lower() for k in seen.headers}
    assert comtrade.parse(landed)["comtrade_mirror_trade"].num_rows == 12


def test_keyed_live_sends_the_key_as_a_header_and_never_stores_it(tmp_path, live_comtrade, caplog):
    _serve(live_comtrade, FIXTURE.read_bytes(), answer(_sample_rows("C_A_HS_p368_2020-2024.json")), keyed=True)
    caplog.set_level("DEBUG")
    live = access(live_comtrade, SECRET)
    assert SECRET not in repr(live)
    landed = comtrade.COMTRADE.land(LandingZone(tmp_path / "landing"), SourceMode("live"), live)
    seen = live_comtrade.requests[0]
    assert seen.path == "/data/v1/get/C/M/HS" and seen.headers[comtrade.KEY_HEADER] == SECRET
    assert SECRET not in seen.target
    assert all(SECRET not in f.origin for f in landed.values())
    stored = [p for p in (tmp_path / "landing").rglob("*") if p.is_file()]
    assert stored and all(SECRET.encode() not in p.read_bytes() for p in stored)
    assert SECRET not in caplog.text
    # an HTTP failure's error text does not carry the key either
    live_comtrade.script("/data/v1/get/C/M/HS", Reply(500, body=SECRET.encode()))
    with pytest.raises(FetchError) as error:
        comtrade.COMTRADE.land(LandingZone(tmp_path / "landing2"), SourceMode("live"), live)
    assert "gave up after retries" in str(error.value) and SECRET not in str(error.value)


def test_live_refresh_with_a_key_and_the_500_row_cap(refresh, warehouse_home, tmp_path, live_comtrade, monkeypatch):
    code, out, err = refresh("--only", "imf,comtrade", sources=trade_dir(tmp_path))
    assert code == 0, (out + err)[-3000:]
    published = warehouse_home / "warehouse.duckdb"

    # keyed live refresh: publishes, and the key appears nowhere in the home or the output
    monkeypatch.setenv(comtrade.KEY_ENV, SECRET)
    _serve(live_comtrade, answer(_sample_rows(MONTHLY)), answer(_sample_rows("C_A_HS_p368_2020-2024.json")), keyed=True)
    code, out, err = refresh("--only", "comtrade", sources="live")
    assert code == 0, (out + err)[-3000:]
    assert SECRET not in out + err
    for path in warehouse_home.rglob("*"):
        if path.is_file() and path.suffix != ".duckdb":
            assert SECRET.encode() not in path.read_bytes(), path
    before = sha256_of(published)

    # the preview answers exactly 500 rows: the run fails, naming the cap, and publishes nothing
    monkeypatch.setenv(comtrade.KEY_ENV, "")
    capped = answer([{**fixture_rows()[0], "period": f"2025{m:02d}"} for m in range(1, 13)] * 41 + [fixture_rows()[0]] * 8)
    _serve(live_comtrade, capped, answer([]), keyed=False)
    code, out, err = refresh("--only", "comtrade", sources="live")
    assert code == 1
    assert "REFRESH FAILED" in err and "[comtrade]" in err and "the preview's page cap of 500" in err
    assert sha256_of(published) == before


def test_directory_refresh_with_an_error_answer_publishes_nothing(refresh, warehouse_home, tmp_path):
    code, out, err = refresh("--only", "imf,comtrade", sources=trade_dir(tmp_path, "good"))
    assert code == 0, (out + err)[-3000:]
    published = warehouse_home / "warehouse.duckdb"
    before = sha256_of(published)
    bad = trade_dir(tmp_path, "bad")
    (bad / "comtrade" / MONTHLY).write_bytes((FIXTURES / "comtrade" / "error_answer.json").read_bytes())
    code, out, err = refresh("--only", "comtrade", sources=bad)
    assert code == 1
    assert "REFRESH FAILED" in err and f"[comtrade] {MONTHLY}: the Comtrade API answered with an error" in err
    assert sha256_of(published) == before
