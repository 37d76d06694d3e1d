"""OFAC's publication history (/changes/history/{year}): both answer shapes, bad shapes, US
Eastern to UTC, and the live fetch from a local server (a 404 means no history, not an error)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orchestration.errors import FetchError, FormatError
from orchestration.http_client import HttpSettings, make_session
from orchestration.landing import LandingZone
from orchestration.settings import BUNDLED, LIVE, SourceMode
from orchestration.sources.base import LiveAccess
from orchestration.sources.ofac import OFAC, read_publications
from tests.conftest import SAMPLE_OFAC
from tests.http_fixture import Reply, ScriptedServer

NAME = "changes_history_2026.json"
ITEM = {"publicationID": 803, "datePublished": "2026-01-16T10:01:44.740051"}
SETTINGS = HttpSettings(connect_timeout=2.0, read_timeout=2.0, retries=1, backoff_factor=0.01, backoff_max=0.05)
CSV_FILES = ("SDN.CSV", "ADD.CSV", "ALT.CSV")


def write(tmp_path: Path, answer, name: str = NAME) -> Path:
    path = tmp_path / name
    path.write_text(answer if isinstance(answer, str) else json.dumps(answer), encoding="utf-8")
    return path


@pytest.mark.parametrize("answer", [{"publications": [ITEM]}, [ITEM]], ids=["object wrapper", "bare list"])
def test_both_shapes_give_the_same_publication(tmp_path, answer):
    [(publication_id, utc, eastern)] = read_publications(write(tmp_path, answer), NAME)
    assert publication_id == 803
    assert eastern == datetime(2026, 1, 16, 10, 1, 44, 740051)  # the wall time as given
    assert utc == datetime(2026, 1, 16, 15, 1, 44, 740051, tzinfo=UTC)  # EST = UTC-5


def test_summer_time_is_utc_minus_four(tmp_path):
    [(_, utc, _)] = read_publications(write(tmp_path, [{"publicationID": 900, "datePublished": "2025-07-03T16:30:00"}]), NAME)
    assert utc == datetime(2025, 7, 3, 20, 30, tzinfo=UTC)
    assert utc.astimezone(ZoneInfo("America/New_York")).hour == 16


@pytest.mark.parametrize("answer", [{"publications": []}, []], ids=["empty object", "empty list"])
def test_an_empty_day_has_no_publications(tmp_path, answer):
    assert read_publications(write(tmp_path, answer), NAME) == []


@pytest.mark.parametrize(
    "answer, message",
    [
        ({"items": [ITEM]}, 'an object without a "publications" list (keys: items)'),
        ({"publications": {"803": ITEM}}, 'an object without a "publications" list'),
        ('"2026-01-16"', "a JSON str"),
        ([{"publicationID": 803}], "publication 0 lacks publicationID or datePublished"),
        ([{"id": 803, "datePublished": ITEM["datePublished"]}], "publication 0 lacks publicationID or datePublished"),
        ([{"publicationID": "803", "datePublished": ITEM["datePublished"]}], "publicationID '803' is not an integer"),
        ([{"publicationID": 803.0, "datePublished": ITEM["datePublished"]}], "publicationID 803.0 is not an integer"),
        ([{"publicationID": 803, "datePublished": "16/01/2026 10:01"}], "datePublished '16/01/2026 10:01' is not a timestamp"),
        ([{"publicationID": 803, "datePublished": "2026-01-16T10:01:44Z"}], "carries a zone"),
        ('{"publications": [', "is not valid JSON"),
    ],
)
def test_other_shapes_fail_naming_the_file(tmp_path, answer, message):
    with pytest.raises(FormatError, match=r"^\[ofac\] changes_history_2026\.json: ") as error:
        read_publications(write(tmp_path, answer), NAME)
    assert message in str(error.value)


def test_bundled_sample_lands_and_parses_the_history(tmp_path):
    landed = OFAC.land(LandingZone(tmp_path / "landing"), SourceMode(BUNDLED), None)
    assert "changes_history_2024.json" in landed and "SDN_ADVANCED.XML" in landed
    publications = OFAC.parse(landed)["ofac_publications"].to_pylist()
    assert [p["publication_id"] for p in publications] == [101, 102, 103, 104, 105, 106]
    assert publications[4]["published_at_eastern"] == datetime(2024, 1, 22, 10, 31, 44, 740051)
    assert publications[4]["published_at"] == datetime(2024, 1, 22, 15, 31, 44, 740051, tzinfo=UTC)
    assert {p["source_file"] for p in publications} == {"changes_history_2024.json"}
    assert all(p["is_sample"] and p["source_mode"] == "bundled" for p in publications)


def test_service_root_follows_the_base_url():
    history = OFAC.files[-1]
    assert OFAC.url_of(history) == "https://sanctionslistservice.ofac.treas.gov/changes/history/{year}"
    assert OFAC.url_of(history, "") == OFAC.url_of(history)  # an empty override: the publisher's address
    assert OFAC.url_of(history, "http://127.0.0.1:9/exports") == "http://127.0.0.1:9/changes/history/{year}"
    mirror = "https://mirror.example/ofac/api/PublicationPreview/exports/"
    assert OFAC.url_of(history, mirror) == "https://mirror.example/ofac/changes/history/{year}"
    assert OFAC.url_of(OFAC.files[0], mirror) == "https://mirror.example/ofac/api/PublicationPreview/exports/SDN.CSV"
    # a LiveAccess's override for ofac, as live mode passes it
    with make_session(SETTINGS) as session:
        assert OFAC.url_of(history, LiveAccess(session, {"ofac": mirror})) == "https://mirror.example/ofac/changes/history/{year}"
        assert OFAC.url_of(history, LiveAccess(session, {"jodi": mirror})) == OFAC.url_of(history)


def test_live_mode_without_access_fails(tmp_path):
    with pytest.raises(FetchError, match="live mode needs an HTTP session"):
        OFAC.land(LandingZone(tmp_path / "landing"), SourceMode(LIVE), None)


def serve_exports(server: ScriptedServer) -> None:
    for name in CSV_FILES:
        server.script(f"/exports/{name}", Reply(200, body=(SAMPLE_OFAC / name).read_bytes(), headers={"Content-Type": "text/csv"}))


def test_live_fetches_this_years_history_from_the_service_root(tmp_path, http_server: ScriptedServer):
    year = datetime.now(ZoneInfo("America/New_York")).year
    serve_exports(http_server)
    body = json.dumps({"publications": [ITEM, {"publicationID": 804, "datePublished": "2026-01-20T09:00:00"}]}).encode()
    http_server.script(f"/changes/history/{year}", Reply(200, body=body, headers={"Content-Type": "application/json"}))
    with make_session(SETTINGS) as session:
        landed = OFAC.land(LandingZone(tmp_path / "landing"), SourceMode(LIVE), LiveAccess(session, {"ofac": http_server.url("/exports")}))
    name = f"changes_history_{year}.json"
    assert landed[name].origin == http_server.url(f"/changes/history/{year}")
    assert http_server.hits(f"/changes/history/{year}") == 1
    publications = OFAC.parse(landed)["ofac_publications"].to_pylist()
    assert [(p["publication_id"], p["source_mode"], p["source_file"]) for p in publications] == [
        (803, "live", name), (804, "live", name),
    ]
    assert publications[1]["published_at"] == datetime(2026, 1, 20, 14, 0, tzinfo=UTC)


def test_live_404_means_no_history(tmp_path, http_server: ScriptedServer):
    year = datetime.now(ZoneInfo("America/New_York")).year
    serve_exports(http_server)  # everything else unscripted answers 404: the XML files too
    with make_session(SETTINGS) as session:
        landed = OFAC.land(LandingZone(tmp_path / "landing"), SourceMode(LIVE), LiveAccess(session, {"ofac": http_server.url("/exports")}))
    assert sorted(landed) == sorted(CSV_FILES)
    assert http_server.hits(f"/changes/history/{year}") == 1  # a 404 is not retried
    tables = OFAC.parse(landed)
    assert tables["ofac_publications"].num_rows == 0
    assert tables["ofac_publications"].column_names == ["publication_id", "published_at", "published_at_eastern"]
    assert tables["ofac_sanctions_entries"].num_rows == 0
    assert OFAC.summarize(tables) == {}


def test_live_history_of_an_unknown_shape_fails(tmp_path, http_server: ScriptedServer):
    year = datetime.now(ZoneInfo("America/New_York")).year
    serve_exports(http_server)
    http_server.script(f"/changes/history/{year}", Reply(200, body=b'{"data": []}', headers={"Content-Type": "application/json"}))
    with make_session(SETTINGS) as session:
        landed = OFAC.land(LandingZone(tmp_path / "landing"), SourceMode(LIVE), LiveAccess(session, {"ofac": http_server.url("/exports")}))
    with pytest.raises(FormatError, match=rf'\[ofac\] changes_history_{year}\.json: .*without a "publications" list'):
        OFAC.parse(landed)
