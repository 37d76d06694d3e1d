"""`http_client.download`, `make_session` and `LandingZone.land_url` against a real local server.

Every case talks HTTP to 127.0.0.1 (tests/http_fixture.py): retries, redirects, timeouts and
truncation are the real urllib3/requests behaviour, not mocks.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from pathlib import Path

import pytest

from orchestration.errors import AccessDenied, FetchError, FormatError
from orchestration.http_client import USER_AGENT, HttpSettings, download, make_session
from orchestration.landing import LandingZone
from tests.http_fixture import Reply, ScriptedServer, redirect

SAMPLE_SDN = Path(__file__).resolve().parent.parent / "orchestration" / "sample" / "ofac" / "SDN.CSV"
SETTINGS = HttpSettings(connect_timeout=2.0, read_timeout=0.5, retries=2, backoff_factor=0.01, backoff_max=0.05)
PATH = "/exports/SDN.CSV"
SECRET = "SECRET123"


@pytest.fixture
def session():
    with make_session(SETTINGS) as s:
        yield s


@pytest.fixture
def zone(tmp_path) -> LandingZone:
    return LandingZone(tmp_path / "landing")


def fetch_logs(zone: LandingZone) -> str:
    return "".join(p.read_text() for p in zone.root.rglob("fetches.jsonl"))


def landed_files(zone: LandingZone) -> list[Path]:
    """Files archived under the landing zone (not the scratch area, not the rejected bytes)."""
    return [
        p for p in zone.root.rglob("*")
        if p.is_file() and p.name != "fetches.jsonl" and ".incoming" not in p.parts and "_rejected" not in p.parts
    ]


def error_text(exc: BaseException) -> str:
    """The message and the whole traceback as it would be printed (chained causes included)."""
    return str(exc) + "".join(traceback.format_exception(exc))


# -- success ------------------------------------------------------------------------------
def test_session_sets_user_agent_and_timeouts():
    s = make_session(SETTINGS)
    assert s.headers["User-Agent"] == USER_AGENT
    assert s.request_timeout == (2.0, 0.5)


def test_200_body_is_streamed_to_disk_with_its_sha256(http_server: ScriptedServer, session, tmp_path):
    body = SAMPLE_SDN.read_bytes() * 150  # ~2.5 MB: several 1 MiB chunks
    http_server.script(PATH, Reply(200, body=body, headers={"Content-Type": "text/csv"}))
    dest = tmp_path / "out" / "SDN.CSV"

    got = download(session, "ofac", http_server.url(PATH), dest)

    assert dest.read_bytes() == body
    assert got.size == len(body)
    assert got.sha256 == hashlib.sha256(body).hexdigest()
    assert got.status == 200 and got.content_type == "text/csv"
    assert got.url == http_server.url(PATH)
    assert http_server.hits(PATH) == 1
    assert http_server.requests[0].headers.get("User-Agent") == USER_AGENT


def test_302_to_presigned_url_is_followed_but_not_kept(http_server: ScriptedServer, session, zone):
    presigned = "/s3-bucket/SDN.CSV?X-Amz-Signature=deadbeef&X-Amz-Expires=60"
    body = SAMPLE_SDN.read_bytes()
    http_server.script(PATH, redirect(presigned))
    http_server.script("/s3-bucket/SDN.CSV", Reply(200, body=body, headers={"Content-Type": "text/csv"}))

    landed = zone.land_url(session, "ofac", "SDN.CSV", http_server.url(PATH), "csv")

    assert http_server.hits(PATH) == 1 and http_server.hits("/s3-bucket/SDN.CSV") == 1
    assert all(r.headers.get("User-Agent") == USER_AGENT for r in http_server.requests)
    assert landed.origin == http_server.url(PATH)
    assert landed.mode == "live"
    assert landed.sha256 == hashlib.sha256(body).hexdigest()
    assert landed.path.read_bytes() == body
    log = fetch_logs(zone)
    record = json.loads(log.splitlines()[0])
    assert record["origin"] == http_server.url(PATH)
    assert "s3-bucket" not in log and "X-Amz" not in log and "deadbeef" not in log


def test_429_then_200_succeeds_after_one_retry(http_server: ScriptedServer, session, tmp_path):
    body = SAMPLE_SDN.read_bytes()
    http_server.script(
        PATH,
        Reply(429, body=b"slow down", headers={"Retry-After": "0"}),
        Reply(200, body=body),
    )
    got = download(session, "ofac", http_server.url(PATH), tmp_path / "SDN.CSV")
    assert http_server.hits(PATH) == 2
    assert got.status == 200 and got.sha256 == hashlib.sha256(body).hexdigest()


# -- refused, failing, slow, cut ----------------------------------------------------------
def test_403_is_access_denied_and_not_retried(http_server: ScriptedServer, session, tmp_path):
    http_server.script(PATH, Reply(403, body=b"<html><title>Just a moment...</title></html>", headers={"Content-Type": "text/html"}))
    with pytest.raises(AccessDenied) as info:
        download(session, "ofac", http_server.url(PATH), tmp_path / "SDN.CSV")
    message = str(info.value)
    assert "ofac" in message
    assert "403" in message
    assert "not worked around" in message.lower()
    assert http_server.hits(PATH) == 1
    assert not (tmp_path / "SDN.CSV").exists() or (tmp_path / "SDN.CSV").stat().st_size == 0


def test_500_every_time_gives_up_after_the_retries(http_server: ScriptedServer, session, tmp_path):
    http_server.script(PATH, Reply(500, body=b"oops"))
    with pytest.raises(FetchError) as info:
        download(session, "ofac", http_server.url(PATH), tmp_path / "SDN.CSV")
    message = str(info.value)
    assert not isinstance(info.value, AccessDenied)
    assert "ofac" in message and "retries" in message and "500" in message
    assert http_server.hits(PATH) == SETTINGS.retries + 1


def test_read_timeout_is_a_fetch_error_saying_timed_out(http_server: ScriptedServer, session, tmp_path):
    http_server.script(PATH, Reply(200, body=SAMPLE_SDN.read_bytes(), delay=SETTINGS.read_timeout + 1.0))
    with pytest.raises(FetchError) as info:
        download(session, "ofac", http_server.url(PATH), tmp_path / "SDN.CSV")
    message = str(info.value)
    assert "ofac" in message and "timed out" in message.lower()
    assert http_server.hits(PATH) == SETTINGS.retries + 1  # read timeouts of a GET are retried


def test_truncated_body_is_a_fetch_error(http_server: ScriptedServer, session, zone):
    http_server.script(PATH, Reply(200, body=SAMPLE_SDN.read_bytes()[:5000], truncate=True))
    with pytest.raises(FetchError) as info:
        zone.land_url(session, "ofac", "SDN.CSV", http_server.url(PATH), "csv")
    assert "truncated" in str(info.value)
    assert "ofac" in str(info.value)
    assert landed_files(zone) == []  # nothing half-downloaded is archived
    assert not [p for p in (zone.root / ".incoming").glob("*")]


def test_connection_refused_is_a_fetch_error(session, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError) as info:
        download(session, "ofac", f"http://127.0.0.1:{port}/exports/SDN.CSV", tmp_path / "SDN.CSV")
    assert "connection failed" in str(info.value)


# -- bytes that are not the publisher's file ----------------------------------------------
def test_zero_byte_body_is_a_format_error(http_server: ScriptedServer, session, zone):
    http_server.script(PATH, Reply(200, body=b""))
    with pytest.raises(FormatError) as info:
        zone.land_url(session, "ofac", "SDN.CSV", http_server.url(PATH), "csv")
    assert "empty" in str(info.value) and "SDN.CSV" in str(info.value)
    assert landed_files(zone) == []
    assert len(list((zone.root / "_rejected" / "ofac").iterdir())) == 1  # kept aside for inspection


def test_html_page_with_200_is_a_format_error(http_server: ScriptedServer, session, zone):
    page = b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head><body>Try later</body></html>\n"
    http_server.script(PATH, Reply(200, body=page, headers={"Content-Type": "text/html"}))
    with pytest.raises(FormatError) as info:
        zone.land_url(session, "ofac", "SDN.CSV", http_server.url(PATH), "csv")
    assert "HTML" in str(info.value) and "Service Unavailable" in str(info.value)
    assert landed_files(zone) == []


# -- credentials never leak ---------------------------------------------------------------
def test_api_key_in_query_never_appears_in_a_fetch_error(http_server: ScriptedServer, session, tmp_path):
    http_server.script(PATH, Reply(500, body=b"oops"))
    with pytest.raises(FetchError) as info:
        download(session, "ofac", http_server.url(f"{PATH}?api_key={SECRET}&year=2024"), tmp_path / "SDN.CSV")
    assert SECRET in http_server.requests[0].target  # the key was sent...
    assert SECRET not in error_text(info.value)  # ...but never shown
    assert "REDACTED" in str(info.value)


def test_api_key_in_params_never_appears_in_a_fetch_error(http_server: ScriptedServer, session, tmp_path):
    http_server.script(PATH, Reply(500, body=b"oops"))
    with pytest.raises(FetchError) as info:
        download(session, "ofac", http_server.url(PATH), tmp_path / "SDN.CSV", params={"api_key": SECRET})
    assert SECRET in http_server.requests[0].target
    assert SECRET not in error_text(info.value)


def test_api_key_in_query_never_reaches_the_landing_zone(http_server: ScriptedServer, session, zone):
    body = SAMPLE_SDN.read_bytes()
    http_server.script(PATH, Reply(200, body=body))

    landed = zone.land_url(session, "ofac", "SDN.CSV", http_server.url(f"{PATH}?api_key={SECRET}"), "csv")

    assert SECRET in http_server.requests[0].target
    assert SECRET not in landed.origin and "api_key=REDACTED" in landed.origin
    assert SECRET not in json.dumps(landed.provenance())
    log = fetch_logs(zone)
    assert log and SECRET not in log and "REDACTED" in log
    assert not [p for p in zone.root.rglob("*") if SECRET in str(p)]


@pytest.mark.parametrize("other", ["host", "port"])
def test_a_key_header_never_follows_a_redirect_to_another_host_or_port(other, tmp_path):
    """Comtrade's key goes in a custom header, which requests would carry along on a redirect;
    two local servers: the publisher (which redirects) and another one (which must never see it)."""
    # another host: 127.0.0.2 is this machine too (loopback), but not the host the key was sent to
    publisher = ScriptedServer().start()
    elsewhere = ScriptedServer("127.0.0.2" if other == "host" else "127.0.0.1").start()
    try:
        target = elsewhere.url("/landing")
        publisher.script("/data", redirect(target))
        publisher.script("/same", redirect("/landing"))
        publisher.script("/landing", Reply(200, body=b'{"data": []}'))
        elsewhere.script("/landing", Reply(200, body=b'{"data": []}'))
        session = make_session(HttpSettings(retries=0))
        headers = {"Ocp-Apim-Subscription-Key": "not-for-strangers", "X-Api-Key": "nor-this"}
        download(session, "comtrade", publisher.url("/data"), tmp_path / "a.json", headers=headers)
        seen = [r for r in elsewhere.requests if r.path == "/landing"]
        assert len(seen) == 1
        lowered = {k.lower() for k in seen[0].headers}
        assert "ocp-apim-subscription-key" not in lowered and "x-api-key" not in lowered
        # a redirect on the same host and port keeps the key: it is the publisher's own
        download(session, "comtrade", publisher.url("/same"), tmp_path / "b.json", headers=headers)
        same = [r for r in publisher.requests if r.path == "/landing"]
        assert same and same[0].headers.get("Ocp-Apim-Subscription-Key") == "not-for-strangers"
    finally:
        publisher.stop()
        elsewhere.stop()
