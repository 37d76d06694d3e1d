"""Federal Register API v1: real answers, the bundled sample, bad pages, the window plan and live paging."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import pytest

from orchestration.errors import FetchError, FormatError
from orchestration.http_client import make_session
from orchestration.landing import LandingZone
from orchestration.settings import SourceMode
from orchestration.sources import federal_register as fr
from orchestration.sources.base import LiveAccess
from tests.conftest import shared_path
from tests.http_fixture import Reply
from tests.sources.trade_helpers import SAMPLE, land

PAGE = "documents_iraq_foreign-assets-control-office_2025-01-01_2025-06-30_p1.json"
JSON = {"Content-Type": "application/json"}


def answer(results: list[dict] | None, count: int | None = None, term: str = "Iraq", **envelope) -> bytes:
    body: dict = {"count": len(results or []) if count is None else count, "description": f"Documents matching '{term}'"}
    if results is not None:
        body.update(total_pages=1, next_page_url=None, results=results)
    body.update(envelope)
    return json.dumps(body).encode()


def document(number: str = "2025-00001", **fields) -> dict:
    base = {"document_number": number, "type": "Notice", "publication_date": "2025-02-11",
            "title": "Notice of OFAC Sanctions Actions",
            "agencies": [{"raw_name": "DEPARTMENT OF THE TREASURY", "name": "Treasury Department", "id": 497,
                          "parent_id": None, "slug": "treasury-department"},
                         {"raw_name": "Office of Foreign Assets Control", "name": "Foreign Assets Control Office",
                          "id": 203, "parent_id": 497, "slug": "foreign-assets-control-office"}]}
    base.update(fields)
    return base


def parse_files(tmp_path, files: dict[str, bytes]) -> list[dict]:
    return fr.parse(land(tmp_path, "federal_register", files, "json"))["federal_register_documents"].to_pylist()


# -- real answers from ../shared/data -------------------------------------------------------------
def test_the_real_artificial_intelligence_page(tmp_path):
    real = shared_path("formats", "federalregister_documents_search_ai_perpage2_2026-07.json")
    rows = parse_files(tmp_path, {real.name: real.read_bytes()})
    assert [(r["document_number"], r["document_type"], r["publication_date"]) for r in rows] == [
        ("2026-10779", "Notice", date(2026, 5, 29)),
        ("2026-13628", "Notice", date(2026, 7, 7)),
    ]
    assert {r["search_term"] for r in rows} == {"artificial intelligence"}
    nist = rows[0]
    assert nist["agency_slugs"] == ["commerce-department", "national-institute-of-standards-and-technology"]
    assert nist["agency_names"] == ["DEPARTMENT OF COMMERCE", "National Institute of Standards and Technology"]
    # fields the query did not ask for are NULL, not an error
    assert nist["citation"] is None and nist["raw_text_url"] is None and nist["signing_date"] is None
    assert nist["html_url"].startswith("https://www.federalregister.gov/documents/2026/05/29/2026-10779/")


def test_the_real_bears_ears_page_parses_whole(tmp_path):
    real = shared_path("formats", "federalregister_documents_search_bears-ears_2026-07.json")
    rows = parse_files(tmp_path, {real.name: real.read_bytes()})
    assert [r["document_number"] for r in rows] == ["2026-07755", "2025-22068", "2025-19485", "2025-00863", "2024-30953"]
    assert {r["search_term"] for r in rows} == {'"Bears Ears"'}
    presidential = rows[2]
    assert presidential["document_type"] == "Presidential Document"
    assert presidential["agency_slugs"] == ["executive-office-of-the-president"]
    assert presidential["abstract"] is None
    assert rows[3]["agency_slugs"] == ["interior-department", "land-management-bureau", "agriculture-department", "forest-service"]


def test_a_real_single_document_answer_is_one_row(tmp_path):
    real = shared_path("formats", "federalregister_document_2026-13726.json")
    (row,) = parse_files(tmp_path, {real.name: real.read_bytes()})
    assert row["document_number"] == "2026-13726" and row["document_type"] == "Proposed Rule"
    assert row["citation"] == "91 FR 41591"
    assert row["publication_date"] == date(2026, 7, 7) and row["effective_on"] == date(2026, 7, 7)
    assert row["agency_slugs"] == ["energy-department", "federal-energy-regulatory-commission"]
    assert row["executive_order_number"] is None and row["search_term"] is None
    assert row["raw_text_url"] == "https://www.federalregister.gov/documents/full_text/text/2026/07/07/2026-13726.txt"


# -- the bundled sample ---------------------------------------------------------------------------
REAL_IN_SAMPLE = {
    "2018-11015": (date(2018, 5, 21), "Presidential Document", "Notice"),
    "2019-10777": (date(2019, 5, 21), "Presidential Document", "Notice"),
    "2020-11217": (date(2020, 5, 21), "Presidential Document", "Notice"),
    "2018-17068": (date(2018, 8, 7), "Presidential Document", "Executive Order"),
    "2020-00534": (date(2020, 1, 14), "Presidential Document", "Executive Order"),
    "2024-02004": (date(2024, 1, 31), "Proposed Rule", None),
    "2024-14415": (date(2024, 7, 3), "Rule", None),
}


@pytest.fixture(scope="module")
def sample_rows(tmp_path_factory) -> list[dict]:
    zone = LandingZone(tmp_path_factory.mktemp("fr-sample") / "landing")
    landed = fr.FEDERAL_REGISTER.land(zone, SourceMode("bundled"), None)
    assert set(landed) == {p.name for p in (SAMPLE / "federal_register").glob("*.json")}
    assert len(landed) == 9
    return fr.parse(landed)["federal_register_documents"].to_pylist()


def test_the_bundled_sample_counts(sample_rows):
    assert len(sample_rows) == 21
    numbers = {r["document_number"] for r in sample_rows}
    assert len(numbers) == 15
    assert set(REAL_IN_SAMPLE) <= numbers
    # every document that is not real is plainly fake
    assert all(n.startswith("SAMPLE-") for n in numbers - set(REAL_IN_SAMPLE))
    assert all(r["is_sample"] and r["source_mode"] == "bundled" for r in sample_rows)
    per_file = {}
    for r in sample_rows:
        per_file[r["source_file"]] = per_file.get(r["source_file"], 0) + 1
    assert per_file["documents_iran_foreign-assets-control-office_2023-07-01_2025-12-31_p1.json"] == 4
    assert per_file["documents_iran_foreign-assets-control-office_2023-07-01_2025-12-31_p2.json"] == 3
    # the empty answer lands but gives no rows
    assert "documents_iran_financial-crimes-enforcement-network_2018-01-01_2018-06-30_p1.json" not in per_file


def test_the_real_documents_in_the_sample(sample_rows):
    by_number = {r["document_number"]: r for r in sample_rows}
    for number, (published, kind, subtype) in REAL_IN_SAMPLE.items():
        row = by_number[number]
        assert (row["publication_date"], row["document_type"], row["subtype"]) == (published, kind, subtype), number
    eo_13846, eo_13902 = by_number["2018-17068"], by_number["2020-00534"]
    assert eo_13846["executive_order_number"] == "13846" and eo_13846["signing_date"] == date(2018, 8, 6)
    assert eo_13902["executive_order_number"] == "13902" and eo_13902["signing_date"] == date(2020, 1, 10)
    final_rule = by_number["2024-14415"]
    assert final_rule["citation"] == "89 FR 55051" and final_rule["effective_on"] == date(2024, 8, 2)
    assert final_rule["agency_slugs"] == ["treasury-department", "financial-crimes-enforcement-network"]
    assert by_number["2024-02004"]["citation"] == "89 FR 6074"
    assert by_number["2018-11015"]["title"] == "Continuation of the National Emergency With Respect to the Stabilization of Iraq"
    # signing dates only on presidential documents
    assert all(r["signing_date"] is None for r in sample_rows if r["document_type"] != "Presidential Document")
    # the same FinCEN rule in the Iraq and the Iran page: two raw rows, one per page and term
    assert sorted(r["search_term"] for r in sample_rows if r["document_number"] == "2024-14415") == ["Iran", "Iraq"]


def test_the_sample_ofac_notices_and_the_unrelated_agency(sample_rows):
    notices = {r["document_number"]: r for r in sample_rows if r["title"] == "Notice of OFAC Sanctions Actions"}
    assert sorted(r["publication_date"].strftime("%Y-%m") for r in notices.values()) == [
        "2023-11", "2024-01", "2024-02", "2025-02", "2025-07", "2025-09", "2025-10"]
    assert all(r["agency_slugs"] == ["treasury-department", "foreign-assets-control-office"] for r in notices.values())
    # read from next_page_url on page 1, from the description on page 2
    assert {r["search_term"] for r in sample_rows if "foreign-assets-control-office_" in r["source_file"]} == {"Iraq", "Iran"}
    (unrelated,) = [r for r in sample_rows if r["document_number"] == "SAMPLE-2025-9001"]
    assert unrelated["agency_slugs"] == ["agriculture-department", "commodity-credit-corporation"]  # no slug: slugified name
    assert unrelated["agency_names"] == ["DEPARTMENT OF AGRICULTURE", "Commodity Credit Corporation"]


# -- envelopes and fields -------------------------------------------------------------------------
def test_an_empty_answer_gives_no_rows(tmp_path):
    empty = b'{"count":0,"description":"Documents matching \'Iraq\' from State Department"}'
    rows = parse_files(tmp_path, {"empty.json": empty, PAGE: answer([document()])})
    assert [r["source_file"] for r in rows] == [PAGE]
    with pytest.raises(FormatError, match=r"every Federal Register answer is empty"):
        parse_files(tmp_path / "only", {"empty.json": empty})


def test_optional_fields_numbers_and_agencies(tmp_path):
    sparse = {"document_number": "2020-00534", "type": "Presidential Document", "executive_order_number": 13902}
    no_slug = document("2025-00002", agencies=[{"raw_name": "DEPARTMENT OF STATE"}, {"name": "Office of Foreign Missions"}])
    rows = parse_files(tmp_path, {PAGE: answer([sparse, no_slug])})
    assert rows[0]["executive_order_number"] == "13902"  # a JSON number keeps its text form
    assert rows[0]["publication_date"] is None and rows[0]["agency_slugs"] is None and rows[0]["title"] is None
    assert rows[1]["agency_slugs"] == ["department-of-state", "office-of-foreign-missions"]
    assert rows[1]["agency_names"] == ["DEPARTMENT OF STATE", "Office of Foreign Missions"]


def test_the_same_document_in_two_pages_is_two_rows(tmp_path):
    other = PAGE.replace("_p1", "_p2")
    rows = parse_files(tmp_path, {PAGE: answer([document()]), other: answer([document()], term="Iran")})
    assert [(r["source_file"], r["search_term"]) for r in rows] == [(PAGE, "Iraq"), (other, "Iran")]


BAD_ANSWERS = {
    "count at the cap": (answer([document()], count=10_000), "matched 10,000 documents, the API's silent cap of 10,000"),
    "empty page at the cap": (answer(None, count=10_000), "matched 10,000 documents"),
    "truncated JSON": (answer([document()])[:60], "is not valid JSON"),
    "results not a list": (json.dumps({"count": 1, "results": {"document_number": "x"}}).encode(),
                           "`results` is a JSON dict, not a list"),
    "no document_number": (answer([{"type": "Notice", "title": "no number"}]), "result 0 has no document_number"),
    "US date": (answer([document(publication_date="02/11/2025")]), "publication_date '02/11/2025' is not a YYYY-MM-DD date"),
    "impossible date": (answer([document(effective_on="2025-02-30")]), "effective_on '2025-02-30' is not a calendar date"),
    "filter code as type": (answer([document(type="NOTICE")]), "type 'NOTICE' is not one of the API's types"),
    "duplicate in one file": (answer([document(), document()]), "document 2025-00001 appears twice in this answer"),
    "odd EO number": (answer([document(executive_order_number=[1])]), "executive_order_number [1] is neither text nor a whole number"),
    "error object": (json.dumps({"errors": {"per_page": "is too large"}}).encode(), "neither a documents search answer"),
    "count without results": (answer(None, count=3), "says count 3 but has no `results`"),
    "a bare list": (b"[]", "is a JSON list, not a Federal Register answer object"),
}


@pytest.mark.parametrize("content, cause", BAD_ANSWERS.values(), ids=BAD_ANSWERS)
def test_bad_answers_fail_naming_source_file_and_cause(tmp_path, content, cause):
    with pytest.raises(FormatError) as raised:
        parse_files(tmp_path, {PAGE: content})
    assert str(raised.value).startswith(f"[federal_register] {PAGE}:")
    assert cause in str(raised.value)


def test_an_html_page_fails_before_parsing(tmp_path):
    html = b"<!DOCTYPE html><html><head><title>Federal Register :: Maintenance</title></head><body></body></html>"
    with pytest.raises(FormatError) as raised:
        land(tmp_path, "federal_register", {PAGE: html}, "json")
    assert str(raised.value).startswith(f"[federal_register] {PAGE}: got an HTML page instead of JSON")
    assert "Maintenance" in str(raised.value)


def test_directory_mode_needs_at_least_one_answer(tmp_path):
    (tmp_path / "src" / "federal_register").mkdir(parents=True)
    with pytest.raises(FetchError, match=r"\[federal_register\] .*no Federal Register answers found"):
        fr.FEDERAL_REGISTER.land(LandingZone(tmp_path / "landing"), SourceMode("directory", tmp_path / "src"), None)


# -- the live plan ----------------------------------------------------------------------------------
def test_the_windows_cover_2018_to_today_without_gaps_or_overlaps():
    today = date(2026, 8, 15)
    spans = fr.windows(today)
    assert spans[0] == (date(2018, 1, 1), date(2018, 6, 30))
    assert spans[-1] == (date(2026, 7, 1), today)
    assert len(spans) == 18
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start == end + timedelta(days=1)
    assert all(start <= end for start, end in spans)
    # on the first day of a half-year, that day is its own window
    assert fr.windows(date(2026, 7, 1))[-1] == (date(2026, 7, 1), date(2026, 7, 1))


def test_the_query_plan():
    plan = fr.query_plan(date(2026, 8, 15))
    assert len(plan) == 18 * 2 * 5
    assert len({q.file_name(1) for q in plan}) == len(plan)
    assert plan[0].file_name(1) == "documents_iraq_foreign-assets-control-office_2018-01-01_2018-06-30_p1.json"
    agency = plan[0].params(3)
    assert agency["conditions[agencies][]"] == "foreign-assets-control-office" and "conditions[type][]" not in agency
    assert agency["conditions[term]"] == "Iraq" and agency["page"] == "3"
    assert agency["per_page"] == "1000" and agency["order"] == "oldest"
    assert agency["fields[]"] == list(fr.FIELDS) and "executive_order_number" in agency["fields[]"]
    presidential = next(q for q in plan if q.scope == fr.PRESIDENTIAL and q.term == "Iran").params(1)
    assert presidential["conditions[type][]"] == "PRESDOCU" and "conditions[agencies][]" not in presidential
    assert {q.scope for q in plan} == {*fr.AGENCIES, fr.PRESIDENTIAL}


def test_the_throttle_allows_five_requests_a_second():
    now = [100.0]
    slept: list[float] = []
    throttle = fr.Throttle(5, clock=lambda: now[0], sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)))
    for _ in range(6):
        throttle.wait()
    assert slept == pytest.approx([0.2] * 5)
    assert now[0] == pytest.approx(101.0)


# -- live mode against 127.0.0.1 ------------------------------------------------------------------
TWO_QUERIES = (
    fr.DocumentQuery("Iraq", "foreign-assets-control-office", date(2025, 1, 1), date(2025, 6, 30)),
    fr.DocumentQuery("Iran", fr.PRESIDENTIAL, date(2025, 1, 1), date(2025, 6, 30)),
)
DOCUMENTS = "/api/v1/documents.json"


@pytest.fixture
def live_fr(http_server, monkeypatch):
    monkeypatch.setattr(fr, "query_plan", lambda today=None: TWO_QUERIES)
    return http_server


def access(server) -> LiveAccess:
    """Live access whose Federal Register base URL is the local server."""
    return LiveAccess(make_session(), base_urls={"federal_register": server.base + "/api/v1"})


def _query_of(target: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(target).query)


def test_live_pages_until_total_pages(tmp_path, live_fr):
    next_url = "https://www.federalregister.gov/api/v1/documents?conditions%5Bterm%5D=Iraq&page=2&per_page=1000"
    page1 = answer([document("2025-00001"), document("2025-00002")], count=3, total_pages=2, next_page_url=next_url)
    page2 = answer([document("2025-00003")], count=3, total_pages=2)
    empty = b'{"count":0,"description":"Documents matching \'Iran\'"}'
    live_fr.script(DOCUMENTS, *(Reply(200, body=b, headers=JSON) for b in (page1, page2, empty)))
    landed = fr.FEDERAL_REGISTER.land(LandingZone(tmp_path / "landing"), SourceMode("live"), access(live_fr))
    assert list(landed) == [
        "documents_iraq_foreign-assets-control-office_2025-01-01_2025-06-30_p1.json",
        "documents_iraq_foreign-assets-control-office_2025-01-01_2025-06-30_p2.json",
        "documents_iran_presidential-documents_2025-01-01_2025-06-30_p1.json",
    ]
    assert live_fr.hits(DOCUMENTS) == 3
    queries = [_query_of(r.target) for r in live_fr.requests]
    assert [q["page"] for q in queries] == [["1"], ["2"], ["1"]]
    first = queries[0]
    assert first["conditions[agencies][]"] == ["foreign-assets-control-office"] and first["conditions[term]"] == ["Iraq"]
    assert first["conditions[publication_date][gte]"] == ["2025-01-01"]
    assert first["conditions[publication_date][lte]"] == ["2025-06-30"]
    assert first["fields[]"] == list(fr.FIELDS) and first["per_page"] == ["1000"] and first["order"] == ["oldest"]
    assert queries[2]["conditions[type][]"] == ["PRESDOCU"] and "conditions[agencies][]" not in queries[2]
    assert all(f.mode == "live" and f.origin.startswith(live_fr.base + DOCUMENTS + "?") for f in landed.values())
    rows = fr.parse(landed)["federal_register_documents"].to_pylist()
    assert [(r["document_number"], r["search_term"]) for r in rows] == [
        ("2025-00001", "Iraq"), ("2025-00002", "Iraq"), ("2025-00003", "Iraq")]
    assert all(not r["is_sample"] and r["source_mode"] == "live" for r in rows)


def test_live_fails_when_a_window_reaches_the_cap(tmp_path, live_fr):
    live_fr.script(DOCUMENTS, Reply(200, body=answer([document()], count=10_000, total_pages=10), headers=JSON))
    with pytest.raises(FormatError) as raised:
        fr.FEDERAL_REGISTER.land(LandingZone(tmp_path / "landing"), SourceMode("live"), access(live_fr))
    message = str(raised.value)
    assert message.startswith("[federal_register] documents_iraq_foreign-assets-control-office_2025-01-01_2025-06-30_p1.json:")
    assert "2025-01-01..2025-06-30" in message and "10,000" in message and "split the window" in message
    assert live_fr.hits(DOCUMENTS) == 1  # no page 2, no next query


# -- the fast path: DuckDB reads every answer, the Python reading decides when it flags anything ----
@pytest.fixture
def fast(monkeypatch):
    """parse() tries the DuckDB path whatever the size of the answers (by default, small ones are read in Python)."""
    monkeypatch.setattr(fr, "FAST_PATH_MIN_BYTES", 0)


def outcome(function, landed) -> pa.Table | str:
    try:
        return function(landed)["federal_register_documents"]
    except FormatError as exc:
        return str(exc)


def fast_and_python(tmp_path, files: dict[str, bytes]) -> tuple[pa.Table | str, pa.Table | str, list[str]]:
    """parse()'s result, the Python reading's, and how parse() went ("fast", or "fallback: <why>")."""
    landed = land(tmp_path, "federal_register", files, "json")
    before = Counter(fr.PARSE_PATHS)
    parsed = outcome(fr.parse, landed)
    went = [path for path in fr.PARSE_PATHS - before if path not in ("fallback", "small")]
    return parsed, outcome(fr.parse_in_python, landed), went


def same(a: pa.Table | str, b: pa.Table | str) -> bool:
    return a == b if isinstance(a, str) or isinstance(b, str) else a.equals(b) and a.schema.equals(b.schema)


def big_answer(documents: int, **fields_of: dict) -> bytes:
    """One page of `documents` OFAC-like documents (about 2 KB each); fields_of[index] overrides some."""
    abstract = "SAMPLE, made up: OFAC is publishing the names of persons placed on the SDN List. " * 17
    return answer([document(f"2025-{i:05d}", abstract=abstract, **fields_of.get(str(i), {})) for i in range(documents)])


def test_the_fast_path_reads_the_sample_as_python_does(tmp_path, fast):
    files = {p.name: p.read_bytes() for p in (SAMPLE / "federal_register").glob("*.json")}
    parsed, reference, went = fast_and_python(tmp_path, files)
    assert went == ["fast"] and isinstance(parsed, pa.Table) and parsed.num_rows == 21
    assert same(parsed, reference)


def test_the_fast_path_reads_the_real_answers_as_python_does(tmp_path, fast):
    names = ("federalregister_documents_search_ai_perpage2_2026-07.json",
             "federalregister_documents_search_bears-ears_2026-07.json", "federalregister_document_2026-13726.json")
    files = {name: shared_path("formats", name).read_bytes() for name in names}
    parsed, reference, went = fast_and_python(tmp_path, files)
    assert went == ["fast"] and same(parsed, reference) and parsed.num_rows == 8


def test_a_big_valid_answer_takes_the_fast_path(tmp_path):
    content = big_answer(5_000)
    assert len(content) > fr.FAST_PATH_MIN_BYTES
    parsed, reference, went = fast_and_python(tmp_path, {PAGE: content})
    assert went == ["fast"] and parsed.num_rows == 5_000
    assert same(parsed, reference)


def test_a_bad_field_deep_in_a_big_answer_is_named_exactly(tmp_path):
    content = big_answer(5_000, **{"3000": {"publication_date": "2025-13-01"}})
    parsed, reference, went = fast_and_python(tmp_path, {PAGE: content})
    assert went == [f"fallback: {PAGE}: document 2025-03000 flagged"]
    assert parsed == reference == (
        f"[federal_register] {PAGE}: document 2025-03000: publication_date '2025-13-01' is not a calendar date")


@pytest.mark.parametrize("content, cause", BAD_ANSWERS.values(), ids=BAD_ANSWERS)
def test_bad_answers_fall_back_to_the_python_message(tmp_path, fast, content, cause):
    parsed, reference, went = fast_and_python(tmp_path, {PAGE: content, "other.json": answer([document()])})
    assert len(went) == 1 and went[0].startswith("fallback: ")
    assert isinstance(parsed, str) and parsed == reference and cause in parsed


LENIENT_JSON = {  # DuckDB's reader takes these, Python's json refuses them: the fast path must not
    "trailing comma": b'{"count": 1, "results": [{"document_number": "2025-00001"},\n ]}',
    "trailing comma in an object": b'{"count": 1, "results": [{"document_number": "2025-00001", }]}',
    "inf": b'{"count": 1, "results": [{"document_number": "2025-00001", "page_views": inf}]}',
    "nan in a list": b'{"count": 1, "total": [-nan], "results": [{"document_number": "2025-00001"}]}',
    "byte-order mark": b"\xef\xbb\xbf" + answer([document()]),
    "two answers in one file": answer([document()]) + b"\n" + answer([document("2025-00002")]),
    "an empty search after an answer": answer([document()]) + b'{"count": 0}',
}


@pytest.mark.parametrize("content", LENIENT_JSON.values(), ids=LENIENT_JSON)
def test_json_only_a_lenient_reader_takes_is_refused_as_before(tmp_path, fast, content):
    parsed, reference, went = fast_and_python(tmp_path, {PAGE: content})
    assert went[0].startswith("fallback: ")
    assert parsed == reference and parsed.startswith(f"[federal_register] {PAGE}: is not valid JSON")


PYTHON_TAKES = {  # flagged by the fast path (stricter than needed), read by the Python path
    "NaN where nothing reads it": b'{"count": 1, "x": NaN, "results": [{"document_number": "2025-00001"}]}',
    "a key twice": b'{"count": 1, "results": [{"document_number": "2025-00001", "title": 5, "title": "T"}]}',
    "no count": json.dumps({"results": [document()]}).encode(),
    "spaces around a number": answer([document(" 2025-00001 ")]),
    "an EO number in spaces": answer([document(executive_order_number=" 13902 ")]),
    "an EO number past 64 bits": answer([document(executive_order_number=2**70)]),
    "a name to slugify that is not ASCII": answer([document(agencies=[{"name": "Straße İstanbul"}])]),
}


@pytest.mark.parametrize("content", PYTHON_TAKES.values(), ids=PYTHON_TAKES)
def test_what_only_the_python_checks_accept_is_read_by_them(tmp_path, fast, content):
    parsed, reference, went = fast_and_python(tmp_path, {PAGE: content})
    assert len(went) == 1 and went[0].startswith("fallback: ")
    assert isinstance(parsed, pa.Table) and same(parsed, reference)


FAST_TAKES = {  # read by DuckDB as document_row reads them
    "sparse": [{"document_number": "2020-00534", "type": "Presidential Document", "executive_order_number": 13902}],
    "EO numbers": [document("a", executive_order_number=-0), document("b", executive_order_number=""),
                   document("c", executive_order_number="13902"), document("d", executive_order_number=2**64 - 1)],
    "agencies": [document("a", agencies=[{"raw_name": "DEPARTMENT OF STATE"}, {"name": "Office of Foreign Missions"}]),
                 document("b", agencies=[]), document("c", agencies=None), document("d", agencies=[{"slug": "x-y"}]),
                 document("e", agencies=[{"slug": "s", "raw_name": "", "name": "N", "id": 5}]),
                 document("f", agencies=[{"name": "--Treasury & State--", "raw_name": None}])],
    "strings that look lenient": [document(title="Notice, inf] and ,} and , ]", abstract='"nan": nan,')],
    "text": [document(title='é \u2028 😀 "quoted" \\ / \t \x00 end', abstract=None, citation="91 FR 1", html_url="",
                      cfr_references=[{"title": 31, "part": 501}], page_views={"count": 5})],
    "dates": [document(publication_date="2024-02-29", signing_date="0001-01-01", effective_on=None)],
    "types": [document(f"t{i}", type=kind) for i, kind in enumerate((*fr.DOCUMENT_TYPES, None))],
}


@pytest.mark.parametrize("results", FAST_TAKES.values(), ids=FAST_TAKES)
def test_the_fast_path_reads_fields_as_document_row_does(tmp_path, fast, results):
    next_url = "https://www.federalregister.gov/api/v1/documents.json?conditions%5Bterm%5D=Iran+oil&page=2"
    files = {PAGE: answer(results, next_page_url=next_url), "empty.json": b'{"count": 0, "description": "x"}',
             "single.json": json.dumps(document("2025-09999")).encode(), "b.json": answer([document()], description=None)}
    parsed, reference, went = fast_and_python(tmp_path, files)
    assert went == ["fast"] and same(parsed, reference)


def test_small_landings_are_read_in_python_straight_away(tmp_path):
    before = Counter(fr.PARSE_PATHS)
    rows = parse_files(tmp_path, {PAGE: answer([document()])})
    assert len(rows) == 1 and fr.PARSE_PATHS - before == Counter(small=1)
