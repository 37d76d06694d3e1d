"""EIA API v2: paging, strings as values, the key never stored or shown, skipped without a key."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from orchestration.errors import AccessDenied, FetchError, FormatError, SourceSkipped
from orchestration.http_client import make_session
from orchestration.landing import LandedFile, LandingZone
from orchestration.settings import LIVE, SAMPLE_DIR, SourceMode
from orchestration.sources import eia
from orchestration.sources.base import LiveAccess
from tests.conftest import query_file as query
from tests.conftest import sha256_of, shared_path
from tests.http_fixture import Reply
from tests.sources.oil_refresh import source_dir, start_from_baseline, tree_bytes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "eia"
PAGES = ("international_crude_production_page001.json", "international_crude_production_page002.json")
TODAY = date(2026, 11, 27)
SECRET = "Zq9SecretEiaKey0123456789abcdefGHIJKLmn"
ROUTE = "/v2/international/data/"


def landed(path: Path, name: str | None = None) -> LandedFile:
    name = name or path.name
    return LandedFile("eia", name, path, "0" * 64, path.stat().st_size, str(path), datetime.now(UTC), "directory")


def page(n: int) -> dict:
    return json.loads((FIXTURES / PAGES[n - 1]).read_bytes())


def dump(body: dict) -> bytes:
    return json.dumps(body, separators=(",", ":")).replace("/", "\\/").encode()


def parse_pages(tmp_path: Path, *bodies: dict):
    files = {}
    for n, body in enumerate(bodies, start=1):
        path = tmp_path / eia.PAGE_NAME.format(n)
        path.write_bytes(dump(body))
        files[path.name] = landed(path)
    return eia.parse(files, today=TODAY)["eia_crude_production"]


# -- the parser -----------------------------------------------------------------------------
def test_two_pages_parse_with_values_from_strings_and_markers_as_null():
    table = eia.parse({name: landed(FIXTURES / name) for name in PAGES}, today=TODAY)["eia_crude_production"]
    rows = {(r["country_region_id"], r["period_text"]): r for r in table.to_pylist()}
    assert sorted(rows) == [("IRN", "2025-12"), ("IRN", "2026-01"), ("IRQ", "2025-12")]
    assert rows[("IRQ", "2025-12")]["value_kbd"] == 4402.5 and rows[("IRQ", "2025-12")]["value_text"] == "4402.5"
    assert rows[("IRN", "2025-12")]["value_kbd"] == pytest.approx(3264.113)
    assert rows[("IRN", "2026-01")]["value_kbd"] is None and rows[("IRN", "2026-01")]["value_marker"] == "--"
    assert rows[("IRQ", "2025-12")]["period"] == date(2025, 12, 1)
    assert {r["source_file"] for r in table.to_pylist()} == set(PAGES)


def test_the_real_eia_answer_parses(monkeypatch):
    real = shared_path("formats", "eia_v2_international_AGO_crude_production_1973-01_2026-07-09.json")
    monkeypatch.setattr(eia, "COUNTRIES", ("AGO",))  # the recorded answer is for Angola
    rows = eia.parse({real.name: landed(real)}, today=TODAY)["eia_crude_production"].to_pylist()
    assert len(rows) == 1
    assert (rows[0]["period"], rows[0]["value_kbd"], rows[0]["value_text"], rows[0]["unit"]) == (date(1973, 1, 1), 162.0, "162", "TBPD")


def test_the_real_answer_is_refused_for_a_country_we_did_not_ask_for():
    real = shared_path("formats", "eia_v2_international_AGO_crude_production_1973-01_2026-07-09.json")
    with pytest.raises(FormatError, match="is for 'AGO', not one of IRQ, IRN"):
        eia.parse({real.name: landed(real)}, today=TODAY)


def test_the_real_steo_answer_is_refused_as_not_monthly():
    real = shared_path("formats", "eia_v2_steo_quarterly_2024Q1-Q2_part1_2024-10-06.json")
    with pytest.raises(FormatError, match="expected monthly data dated YYYY-MM, got frequency 'quarterly'"):
        eia.parse({real.name: landed(real)}, today=TODAY)


def test_no_pages_gives_the_empty_table_with_its_columns():
    assert eia.parse({})["eia_crude_production"].column_names[:3] == ["country_region_id", "country_region_name", "period_text"]


def with_row(body: dict, index: int = 0, **changes) -> dict:
    body["response"]["data"][index].update(changes)
    return body


BAD = {
    "unit other than TBPD": (lambda: [with_row(page(1), unit="TBBL"), page(2)], "unit other than TBPD (thousand barrels per day): IRN 2025-12 is in 'TBBL'"),
    "negative kb/d": (lambda: [with_row(page(1), 1, value="-4402.5"), page(2)], "negative kb/d: IRQ 2025-12 = -4402.5"),
    "future period": (lambda: [page(1), with_row(page(2), period="2027-01")], "period in the future: IRN 2027-01"),
    "duplicate key": (lambda: [page(1), with_row(page(2), period="2025-12")], "duplicate key (countryRegionId, period) IRN 2025-12"),
    "value not a number": (lambda: [with_row(page(1), value="4,402"), page(2)], "value '4,402' for IRN 2025-12 is neither a number nor an EIA marker"),
    "missing page": (lambda: [page(1)], "pages hold 2 rows but the answer's total is 3: a page is missing"),
    "an error answer": (lambda: [{"error": "Invalid API key"}], "EIA answered an error"),
    "a field the parser does not know": (lambda: [with_row(page(1), revisionFlag="r"), page(2)], "fields this parser does not know: revisionFlag"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_a_clear_error(tmp_path, case):
    bodies, message = BAD[case]
    with pytest.raises(FormatError) as caught:
        parse_pages(tmp_path, *bodies())
    assert str(caught.value).startswith("[eia] ") and message in str(caught.value)


# -- the key --------------------------------------------------------------------------------
def test_redact_replaces_the_echoed_key_and_every_other_occurrence():
    body = dump(page(1)).replace(b"MOCK_API_KEY", SECRET.encode()) + f" {SECRET}".encode()
    clean = eia.redact(body, SECRET)
    assert SECRET.encode() not in clean and b'"api_key":"REDACTED"' in clean


def answer_with_key(n: int) -> bytes:
    """A page as the live API answers it: the caller's key echoed in request.params."""
    return dump(page(n)).replace(b"MOCK_API_KEY", SECRET.encode())


def access(server, key: str = SECRET) -> LiveAccess:
    """Live access whose EIA base URL is the local server, with `key` ('' = none)."""
    return LiveAccess(make_session(), base_urls={"eia": server.url("/v2")}, keys={"eia": key})


def test_live_pages_are_fetched_with_the_key_and_landed_without_it(tmp_path, http_server):
    http_server.script(ROUTE, Reply(200, body=answer_with_key(1)), Reply(200, body=answer_with_key(2)))
    zone = LandingZone(tmp_path / "landing")
    files = eia.EIA.land(zone, SourceMode(LIVE), access(http_server))
    assert sorted(files) == list(PAGES)
    sent = [r.target for r in http_server.requests]
    assert len(sent) == 2 and all(f"api_key={SECRET}" in t for t in sent)
    assert "offset=0" in sent[0] and "offset=2" in sent[1] and "facets%5BcountryRegionId%5D%5B%5D=IRN" in sent[0]
    assert SECRET.encode() not in tree_bytes(tmp_path / "landing")
    assert all("api_key=REDACTED" in f.origin and SECRET not in f.origin for f in files.values())
    table = eia.parse(files, today=TODAY)["eia_crude_production"]
    assert table.num_rows == 3 and SECRET not in json.dumps(table.to_pylist(), default=str)


def test_an_http_error_never_shows_the_key(tmp_path, http_server):
    http_server.script(ROUTE, Reply(403, body=b'{"error":"API_KEY_INVALID"}'))
    with pytest.raises(AccessDenied) as caught:
        eia.EIA.land(LandingZone(tmp_path / "landing"), SourceMode(LIVE), access(http_server))
    assert "HTTP 403" in str(caught.value) and "api_key=REDACTED" in str(caught.value) and SECRET not in str(caught.value)


def test_live_without_a_key_is_skipped_not_failed(tmp_path, http_server):
    for key in ("", "  "):
        with pytest.raises(SourceSkipped, match="EIA_API_KEY: not set"):
            eia.EIA.land(LandingZone(tmp_path / "landing"), SourceMode(LIVE), access(http_server, key))
    assert http_server.requests == []  # nothing was asked without a key
    with pytest.raises(FetchError, match="live mode needs an HTTP session"):
        eia.EIA.land(LandingZone(tmp_path / "landing"), SourceMode(LIVE), None)


def test_a_directory_replay_has_the_key_it_is_given_redacted(tmp_path, http_server):
    root = source_dir(tmp_path, "eia", {PAGES[0]: answer_with_key(1).replace(b'"apiVersion"', f'"note":"{SECRET}","apiVersion"'.encode())})
    zone = LandingZone(tmp_path / "landing")
    files = eia.EIA.land(zone, SourceMode("directory", root), access(http_server))
    assert SECRET.encode() not in tree_bytes(tmp_path / "landing") and list(files) == [PAGES[0]]


# -- whole refreshes ------------------------------------------------------------------------
def test_live_refresh_without_a_key_publishes_and_keeps_the_last_rows(refresh, warehouse_home, monkeypatch):
    monkeypatch.setenv("EIA_API_KEY", "")  # no key ('' = none; an unset variable fails the run)
    monkeypatch.setenv("WAREHOUSE_EIA_BASE_URL", "http://127.0.0.1:9")  # never called: nothing may leave the machine
    published = start_from_baseline(warehouse_home)
    code, out, err = refresh("--only", "eia", sources="live")
    assert code == 0, (out + err)[-3000:]
    assert "EIA_API_KEY: not set" in out + err
    assert query(published, "select count(*), bool_and(is_sample) from raw.eia_crude_production") == [(84, True)]
    assert query(published, "select source_mode from meta.source_loads where table_name = 'raw.eia_crude_production'") == [("skipped",)]


def test_live_refresh_with_a_key_never_writes_or_prints_it(refresh, warehouse_home, monkeypatch, http_server):
    monkeypatch.setenv("EIA_API_KEY", SECRET)
    monkeypatch.setenv("WAREHOUSE_EIA_BASE_URL", http_server.url("/v2"))
    # the sample's one page (84 rows, as many as the published table: no row-count collapse), key echoed
    sample = (SAMPLE_DIR / "eia" / PAGES[0]).read_bytes().replace(b"MOCK_API_KEY", SECRET.encode())
    http_server.script(ROUTE, Reply(200, body=sample))
    published = start_from_baseline(warehouse_home)
    code, out, err = refresh("--only", "eia", sources="live")
    assert code == 0, (out + err)[-3000:]
    assert SECRET not in out + err
    assert SECRET.encode() not in tree_bytes(warehouse_home)
    assert query(published, "select count(*), min(source_mode), bool_or(is_sample) from raw.eia_crude_production") == [(84, "live", False)]
    assert query(published, "select count(*) from raw.eia_crude_production where source_url like '%api_key=REDACTED%'") == [(84,)]


def test_bad_directory_refresh_changes_nothing_published(refresh, warehouse_home, tmp_path):
    bad = with_row(page(1), 1, value="-4402.5")
    published = start_from_baseline(warehouse_home)
    before = sha256_of(published)
    root = source_dir(tmp_path, "eia", {PAGES[0]: dump(bad), PAGES[1]: (FIXTURES / PAGES[1]).read_bytes()})
    code, out, err = refresh("--only", "eia", sources=root)
    assert code == 1, out[-2000:]
    assert "REFRESH FAILED" in err and "[eia] international_crude_production_page001.json: negative kb/d" in err
    assert sha256_of(published) == before
