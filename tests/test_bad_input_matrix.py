"""The bad-input matrix: every way a publisher's file can go wrong must fail loudly and publish nothing.

Each case first copies a good published warehouse (built once per module), then runs
`warehouse refresh --only <source>` (OFAC unless the case says otherwise) on bad input: a
directory of publisher files made by editing the sample bytes, or a live run against a scripted
server on 127.0.0.1. A failing case must exit non-zero,
name the source or the file and the cause, leave the published file byte-identical, leave the
history unchanged and record `published: false` in last_run.json.

Adding a case is one `case(...)` line in CASES.

The last two cases of CASES are regression tests of two bugs this matrix found:
- "new trailing column of null markers": DuckDB's strict CSV reader, given `nullstr='-0- '`,
  silently drops a 13th field equal to the null string, so OFAC adding a column that is `-0- `
  everywhere was published as if nothing had changed (orchestration/sources/ofac.py).
- "optional SDN_COMMENTS.CSV answers 404 in live mode": live mode fetched every file, optional or
  not, so a 404 for the optional file failed the whole refresh (orchestration/sources/base.py).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import SAMPLE_DIR
from tests.conftest import (
    REPO,
    SAMPLE_OFAC,
    bundled_build,
    ofac_dir,
    real_baseline,
    sample_dir_build,
    sample_ofac_files,
    sha256_of,
    shared_path,
)
from tests.http_fixture import Reply, ScriptedServer

EXPORTS = "/exports"
OFAC_FILES = ("SDN.CSV", "ADD.CSV", "ALT.CSV", "SDN_COMMENTS.CSV", "SDN_ADVANCED.XML")  # the history answers 404: absent
REAL_18 = ("ofac", "snapshot-2024-01-18")
EOF = b"\r\n\x1a"


# -- the sample's bytes, edited -----------------------------------------------------------
def sample(name: str = "SDN.CSV") -> bytes:
    return (SAMPLE_OFAC / name).read_bytes()


def rows_of(data: bytes) -> list[bytes]:
    assert data.endswith(EOF), "OFAC files end with CRLF + 0x1A"
    return data[: -len(EOF)].split(b"\r\n")


def join_rows(rows: list[bytes]) -> bytes:
    return b"\r\n".join(rows) + EOF


def fields_of(row: bytes) -> list[bytes]:
    """Split one CSV row into its raw field bytes (quotes kept), commas inside quotes respected."""
    fields, current, quoted = [], bytearray(), False
    for byte in row:
        char = bytes([byte])
        if char == b'"':
            quoted = not quoted  # an escaped "" toggles twice
        if char == b"," and not quoted:
            fields.append(bytes(current))
            current = bytearray()
        else:
            current += char
    fields.append(bytes(current))
    return fields


def every_row(edit: Callable[[list[bytes]], list[bytes]]) -> Callable[[bytes], bytes]:
    return lambda data: join_rows([b",".join(edit(fields_of(row))) for row in rows_of(data)])


def cut_mid_row(data: bytes) -> bytes:
    """The first half of the rows plus 40 bytes of the next: ends inside a row, no 0x1A."""
    rows = rows_of(data)
    head = b"\r\n".join(rows[: len(rows) // 2]) + b"\r\n"
    return head + rows[len(rows) // 2][:40]


def duplicate_first_key(data: bytes) -> bytes:
    rows = [fields_of(r) for r in rows_of(data)]
    rows[1][0] = rows[0][0]  # the second entry claims the first entry's ent_num
    return join_rows([b",".join(r) for r in rows])


def latin1_byte_in_a_name(data: bytes) -> bytes:
    assert data.count(b"BANCO NACIONAL") == 1
    return data.replace(b"BANCO NACIONAL", b"BANCO NACI\xe9NAL")  # 0xE9: é in Latin-1, invalid UTF-8


HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n"
    b"<body><h1>The service is temporarily unavailable</h1></body></html>\n"
)
BOT_CHALLENGE = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"


# -- the case table -----------------------------------------------------------------------
@dataclass
class Ctx:
    """What a case's setup gets: a scratch folder, the local server, env vars it may set, the
    warehouse home the case runs on, and what to undo afterwards (processes it started)."""

    tmp: Path
    server: ScriptedServer
    env: dict[str, str]
    home: Path
    cleanup: list[Callable[[], object]] = field(default_factory=list)


@dataclass(frozen=True)
class Case:
    id: str
    setup: Callable[[Ctx], str]  # prepares the input; returns WAREHOUSE_SOURCES (a directory or "live")
    expect: str | None  # substring of the error output; None: the refresh must succeed and publish
    baseline: str = "sample"  # sample | bundled | real-2024-01-18: the good warehouse published first
    sdn_requests: int | None = None  # live cases: how many times SDN.CSV must have been requested
    then: Callable[[Path, ScriptedServer], None] | None = None  # more checks on the home afterwards
    only: str = "ofac"  # the source refreshed (`warehouse refresh --only <only>`)
    new_version: bool = False  # a succeeding case that loads a new SDN.CSV (one more list version)
    args: tuple[str, ...] = ()  # more arguments of `warehouse refresh`, e.g. ("--accept-change", "reason")


def case(id: str, setup: Callable[[Ctx], str], expect: str | None, *, marks=(), **kwargs):
    return pytest.param(Case(id, setup, expect, **kwargs), id=id, marks=marks)


def directory(sdn: bytes | Callable[[bytes], bytes]) -> Callable[[Ctx], str]:
    """Directory mode: the sample files with SDN.CSV replaced (bytes, or an edit of the sample's)."""

    def setup(ctx: Ctx) -> str:
        files: dict[str, bytes | Path] = dict(sample_ofac_files())
        files["SDN.CSV"] = sdn(sample()) if callable(sdn) else sdn
        return str(ofac_dir(ctx.tmp, files, name="bad-input"))

    return setup


def live(**scripts: list[Reply]) -> Callable[[Ctx], str]:
    """Live mode against the local server: every file answers 200 with the sample's bytes unless
    scripted (keyword = file name with `.` as `_`, e.g. SDN_CSV=[Reply(403)])."""

    def setup(ctx: Ctx) -> str:
        for name in OFAC_FILES:
            replies = scripts.get(name.replace(".", "_")) or [Reply(200, body=sample(name), headers={"Content-Type": "text/csv"})]
            ctx.server.script(f"{EXPORTS}/{name}", *replies)
        return "live"

    return setup


def refused_connection(ctx: Ctx) -> str:
    with socket.socket() as sock:  # a port on 127.0.0.1 nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctx.env["WAREHOUSE_OFAC_BASE_URL"] = f"http://127.0.0.1:{port}{EXPORTS}"
    return "live"


def step_retried(setup: Callable[[Ctx], str]) -> Callable[[Ctx], str]:
    """The same input with a source step run again once after a transient fault (and at once)."""

    def with_retry(ctx: Ctx) -> str:
        ctx.env["WAREHOUSE_STEP_RETRIES"] = "1"
        ctx.env["WAREHOUSE_STEP_RETRY_WAIT"] = "0"
        return setup(ctx)

    return with_retry


def read_timeout(ctx: Ctx) -> str:
    ctx.env["WAREHOUSE_HTTP_READ_TIMEOUT"] = "0.5"
    return live(SDN_CSV=[Reply(200, body=sample(), delay=1.5)])(ctx)


def collapsed_real_list(ctx: Ctx) -> str:
    """The real 2024-01-18 list cut to its first 10% of rows (still a well-formed OFAC file), with
    its ADD.CSV and ALT.CSV cut to the same entries (so the files still belong together)."""
    real = shared_path(*REAL_18)
    rows = rows_of((real / "SDN.CSV").read_bytes())[: len(rows_of((real / "SDN.CSV").read_bytes())) // 10]
    kept = {fields_of(row)[0] for row in rows}
    files: dict[str, bytes | Path] = {"SDN.CSV": join_rows(rows)}
    for name in ("ADD.CSV", "ALT.CSV"):
        files[name] = join_rows([row for row in rows_of((real / name).read_bytes()) if fields_of(row)[0] in kept])
    return str(ofac_dir(ctx.tmp, files, name="bad-input"))


def real_list_without_iraqi_addresses(ctx: Ctx) -> str:
    """The real 2024-01-22 list with every ADD.CSV row in Iraq dropped: a well-formed set of files
    that silently loses most Iraq-nexus links (Fly Baghdad's among them)."""
    real = shared_path("ofac", "snapshot-2024-01-22")
    addresses = [row for row in rows_of((real / "ADD.CSV").read_bytes()) if fields_of(row)[4] != b'"Iraq"']
    files = {"SDN.CSV": real / "SDN.CSV", "ADD.CSV": join_rows(addresses), "ALT.CSV": real / "ALT.CSV"}
    return str(ofac_dir(ctx.tmp, files, name="bad-input"))


def accepted_in_the_report(home: Path, server: ScriptedServer) -> None:
    published = report(home, "published_run.json")
    assert published["accepted_change"] == "test: a genuine mass delisting"
    nexus = [a for a in published["assertions"] if a["name"] == "nexus_counts"]
    assert nexus and nexus[0]["passed"] and "listed Iraq-nexus entries fell from" in nexus[0]["detail"]


def addresses_grown_elevenfold(ctx: Ctx) -> str:
    """The sample's ADD.CSV with every row repeated 11 times under new add_nums (147 -> 1,617 rows)."""
    rows = [fields_of(r) for r in rows_of(sample("ADD.CSV"))]
    grown = [b",".join([f[0], str(900000 + i * 1000 + int(f[1])).encode(), *f[2:]]) for i in range(11) for f in rows]
    files: dict[str, bytes | Path] = dict(sample_ofac_files())
    files["ADD.CSV"] = join_rows(grown)
    return str(ofac_dir(ctx.tmp, files, name="bad-input"))


def add_csv_of_another_list(ctx: Ctx) -> str:
    """The sample's SDN.CSV beside the real ADD.CSV (24,776 addresses of some 18,000 other entries)."""
    files: dict[str, bytes | Path] = dict(sample_ofac_files())
    files["ADD.CSV"] = shared_path(*REAL_18, "ADD.CSV")
    return str(ofac_dir(ctx.tmp, files, name="bad-input"))


def comments_absent_on_purpose(home: Path, server: ScriptedServer) -> None:
    assert server.hits(f"{EXPORTS}/SDN_COMMENTS.CSV") == 1  # a 404 is not retried
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from raw.ofac_comments").fetchall() == [(0,)]
        loads = con.execute("select source_mode from meta.source_loads where table_name = 'raw.ofac_comments'").fetchall()
    finally:
        con.close()
    assert loads == [("absent",)], loads


def sample_dir_with(ctx: Ctx, source: str, name: str, edit: Callable[[bytes], bytes]) -> str:
    """Directory mode for `source`: its bundled sample with one file edited."""
    root = ctx.tmp / "bad-input"
    shutil.copytree(SAMPLE_DIR / source, root / source, ignore=shutil.ignore_patterns("README.md"))
    path = root / source / name
    path.write_bytes(edit(path.read_bytes()))
    return str(root)


def real_list_onto_the_bundled_sample(ctx: Ctx) -> str:
    """The real 2024-01-22 list in directory mode, after `make run` in the same home."""
    return str(ofac_dir(ctx.tmp, {n: shared_path("ofac", "snapshot-2024-01-22", n) for n in ("SDN.CSV", "ADD.CSV", "ALT.CSV")},
                        name="real"))


HOLD_THE_WRITER_LOCK = """
import time
from orchestration.settings import layout
from orchestration.warehouse import Warehouse
Warehouse(layout()).ensure_build("run-holder")
print("holding", flush=True)
time.sleep(300)
"""


def another_run_is_writing(ctx: Ctx) -> str:
    """A run in another process holds the home's writer lock (a Dagster-launched run, say) and this
    one may wait only one second for it."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_WRITER_LOCK], cwd=REPO, stdout=subprocess.PIPE,
                              env={**os.environ, "WAREHOUSE_HOME": str(ctx.home)}, text=True)
    ctx.cleanup.append(lambda: (holder.kill(), holder.wait()))
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    ctx.env["WAREHOUSE_WRITER_WAIT"] = "1"
    return sample_dir_with(ctx, "ofac", "SDN.CSV", lambda data: data)  # every sample file, unchanged


def a_killed_runs_build_is_left(ctx: Ctx) -> str:
    """builds/ holds the build of a run whose process was killed (a full copy of the warehouse)."""
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process that has ended: its pid names no process now
    folder = ctx.home / "builds" / "run-killed-earlier"
    folder.mkdir(parents=True)
    shutil.copyfile(ctx.home / "warehouse.duckdb", folder / "warehouse.duckdb")
    (folder / "build.json").write_text(json.dumps({"run_id": "run-killed-earlier", "pid": gone.pid,
                                                   "started_at": "2026-01-01T00:00:00+00:00", "base_run_id": None}))
    return sample_dir_with(ctx, "ofac", "SDN.CSV", lambda data: data)  # every sample file, unchanged


def killed_build_removed_and_reported(home: Path, server: ScriptedServer) -> None:
    assert not (home / "builds" / "run-killed-earlier").exists()
    killed = report(home / "runs", "run-killed-earlier.json")
    assert killed["published"] is False and "ended without publishing or reporting (killed or crashed)" in killed["error"]


def comtrade_500_rows(ctx: Ctx) -> str:
    def cut(data: bytes) -> bytes:
        answer = json.loads(data)
        rows = [dict(answer["data"][i % len(answer["data"])], period=str(202501 + i // 100)) for i in range(500)]
        return json.dumps({**answer, "count": 500, "data": rows}).encode()

    return sample_dir_with(ctx, "comtrade", "C_M_HS_p368_202501-202505.json", cut)


def jodi_row_edit(old: bytes, new: bytes) -> Callable[[Ctx], str]:
    def setup(ctx: Ctx) -> str:
        def edit(data: bytes) -> bytes:
            assert data.count(old) == 1, old
            return data.replace(old, new)

        return sample_dir_with(ctx, "jodi", "2025.csv", edit)

    return setup


FR_PAGE = "documents_iraq_financial-crimes-enforcement-network_2024-01-01_2024-12-31_p1.json"


def federal_register_page(edit: Callable[[bytes], bytes]) -> Callable[[Ctx], str]:
    """Directory mode for the Federal Register: its bundled sample with one answer page edited."""
    return lambda ctx: sample_dir_with(ctx, "federal_register", FR_PAGE, edit)


def federal_register_at_cap(data: bytes) -> bytes:
    return json.dumps({**json.loads(data), "count": 10000, "total_pages": 10}).encode()


def ofac_with(name: str, data: Callable[[], bytes]) -> Callable[[Ctx], str]:
    """Directory mode: the sample's CSV files plus one optional OFAC file (advanced XML, history)."""
    return lambda ctx: str(ofac_dir(ctx.tmp, {**sample_ofac_files(), name: data()}, name="bad-input"))


def advanced_xml_month_13() -> bytes:
    data = sample("SDN_ADVANCED.XML")
    assert b"<Month>1</Month>\n          <Day>22</Day>" in data  # Fly Baghdad's listing, the first of 2024-01-22
    return data.replace(b"<Month>1</Month>\n          <Day>22</Day>", b"<Month>13</Month>\n          <Day>22</Day>", 1)

CASES = [
    case("0-byte SDN.CSV", directory(b""), "empty"),
    case("0-byte SDN.CSV over HTTP 200", live(SDN_CSV=[Reply(200, body=b"")]), "empty", sdn_requests=1),
    case("truncated SDN.CSV (mid-row, no 0x1A)", directory(cut_mid_row), "truncated"),
    case("truncated download (short of Content-Length)", live(SDN_CSV=[Reply(200, body=sample()[:8000], truncate=True)]), "truncated"),
    case("HTML error page instead of CSV", directory(HTML_PAGE), "HTML page"),
    case("HTML error page with HTTP 200", live(SDN_CSV=[Reply(200, body=HTML_PAGE, headers={"Content-Type": "text/html"})]), "HTML page"),
    case("HTTP 403 bot challenge", live(SDN_CSV=[Reply(403, body=BOT_CHALLENGE, headers={"Content-Type": "text/html"})]), "HTTP 403", sdn_requests=1),
    case("HTTP 429 then success", live(SDN_CSV=[Reply(429, headers={"Retry-After": "0"}), Reply(200, body=sample())]), None, sdn_requests=2),
    case("HTTP 500 three times", live(SDN_CSV=[Reply(500, body=b"Internal Server Error")]), "gave up after retries", sdn_requests=3),
    case("read timeout", read_timeout, "timed out", sdn_requests=3),
    case("HTTP 503 outlasting the session's retries: the step runs again and publishes",
         step_retried(live(SDN_CSV=[Reply(503), Reply(503), Reply(503), Reply(200, body=sample())])), None, sdn_requests=4),
    case("HTTP 403 with step retries on: never retried", step_retried(live(SDN_CSV=[Reply(403, body=BOT_CHALLENGE)])),
         "HTTP 403", sdn_requests=1),
    case("HTML page with step retries on: a format error is never retried",
         step_retried(live(SDN_CSV=[Reply(200, body=HTML_PAGE, headers={"Content-Type": "text/html"})])), "HTML page", sdn_requests=1),
    case("connection refused", refused_connection, "connection failed"),
    case("new unexpected column (13 fields)", directory(every_row(lambda f: [*f, b'"NEW VALUE"'])), "12-column layout"),
    case("missing column (11 fields)", directory(every_row(lambda f: f[:-1])), "12-column layout"),
    case("non-UTF-8 byte 0xE9 in a name", directory(latin1_byte_in_a_name), "is not valid utf-8"),
    case("duplicate primary key ent_num", directory(duplicate_first_key), "expect_compound_columns_to_be_unique"),
    case("row count collapsed by 90%", collapsed_real_list, "expect_table_row_count_to_be_between", baseline="real-2024-01-18"),
    case("Comtrade answers exactly 500 rows (the preview's cap)", comtrade_500_rows, "page cap of 500", only="comtrade"),
    case("a date in the future (JODI month 2099-01)",
         jodi_row_edit(b"IQ,2025-01,CRUDEOIL,INDPROD,KBD,4299.3000,1", b"IQ,2099-01,CRUDEOIL,INDPROD,KBD,4299.3000,1"),
         "[jodi] 2025.csv", only="jodi"),
    case("negative kb/d (JODI)",
         jodi_row_edit(b"IQ,2025-01,CRUDEOIL,INDPROD,KBD,4299.3000,1", b"IQ,2025-01,CRUDEOIL,INDPROD,KBD,-4299.3000,1"),
         "negative kb/d", only="jodi"),
    case("Federal Register page at the 10,000-result cap", federal_register_page(federal_register_at_cap), "10,000", only="federal_register"),
    case("Federal Register page truncated mid-JSON", federal_register_page(lambda data: data[: len(data) // 2]), "is not valid JSON", only="federal_register"),
    case("Federal Register HTML page instead of JSON", federal_register_page(lambda data: HTML_PAGE), "HTML page", only="federal_register"),
    case("SDN_ADVANCED.XML with a listing date in month 13", ofac_with("SDN_ADVANCED.XML", advanced_xml_month_13), "SDN_ADVANCED.XML: SanctionsEntry 39236 (EntryEvent 39236): date 2024-13-22: month 13 does not exist"),
    case("SDN_ADVANCED.XML in an unknown namespace", ofac_with("SDN_ADVANCED.XML", lambda: sample("SDN_ADVANCED.XML").replace(b"http://www.un.org/sanctions/1.0", b"urn:example:sanctions")), "namespace 'urn:example:sanctions' is not one of"),
    case("ADD.CSV that does not belong to SDN.CSV (99% orphans)", add_csv_of_another_list,
         "ADD.CSV: 99% of its 24,776 rows"),
    case("ADD.CSV loses every Iraqi address (Iraq-nexus count falls)", real_list_without_iraqi_addresses,
         "listed Iraq-nexus entries fell from", baseline="real-2024-01-18"),
    case("the same fall, accepted for one run with a reason", real_list_without_iraqi_addresses, None,
         baseline="real-2024-01-18", args=("--accept-change", "test: a genuine mass delisting"), new_version=True,
         then=accepted_in_the_report),
    case("ADD.CSV grew elevenfold (row-count ceiling)", addresses_grown_elevenfold, "ceiling 1,470, previous published count 147"),
    case("a program tag the classification seed does not know",
         directory(lambda data: data.replace(b',"CUBA",', b',"CUBA] [NEWPROG-EO99999",', 1)),
         "program tag 'NEWPROG-EO99999' (1 entries in SDN.CSV, e.g. ent_num 306) is not in dbt_project/seeds/curated/ofac_program_classification.csv"),
    case("a real list into a home that holds the bundled sample's history", real_list_onto_the_bundled_sample,
         "holds the bundled sample's list history", baseline="bundled"),
    case("the bundled sample into a home that holds a real list history", lambda ctx: "bundled",
         "holds a real list history", baseline="real-2024-01-18"),
    case("publication history of an unknown shape", ofac_with("changes_history_2024.json", lambda: b'{"data": []}'), 'changes_history_2024.json: is not a publication history: an object without a "publications" list'),
    case("another run holds the home's writer lock", another_run_is_writing,
         "waited 1 s for run run-holder (pid "),
    case("a killed run's build left in builds/", a_killed_runs_build_is_left, None, then=killed_build_removed_and_reported),
    # Regression tests of two bugs this matrix found (see the module docstring).
    # A new trailing column that holds OFAC's null marker in every row is a layout change too.
    case("new trailing column of null markers (13 fields)", directory(every_row(lambda f: [*f, b"-0- "])), "12-column layout"),
    # SDN_COMMENTS.CSV is optional: directory mode skips it when absent; live mode must too
    case("optional SDN_COMMENTS.CSV answers 404 in live mode", live(SDN_COMMENTS_CSV=[Reply(404, body=b"Not Found")]), None, then=comments_absent_on_purpose),
]


# -- the good warehouse every case starts from --------------------------------------------
@pytest.fixture(scope="module")
def baseline(dbt_manifest, tmp_path_factory) -> Callable[[str], Path]:
    """A published warehouse home per baseline kind, built once per module on first use.

    bundled: a copy of the session's full bundled refresh (`make run`).
    sample: a full refresh in directory mode from the sample's files (every source's folder points
    at its bundled sample): the sample's bytes, but not the bundled mode, since the cases load
    edited or live copies of them, and a bundled sample's list history refuses any other list
    (orchestration/loading.py check_history_lineage).
    real-2024-01-18: a full refresh with the real list of 2024-01-18 (its 13,848 entries become the
    published row count the gates' floor and ceiling are computed from), every other source from
    its sample's files.
    """
    built: dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind in built:
            return built[kind]
        root = tmp_path_factory.mktemp(f"baseline-{kind}")
        home = root / "home"
        if kind == "bundled":
            shutil.copytree(bundled_build()[0], home, symlinks=True)  # the session's `make run`
        elif kind == "sample":
            shutil.copytree(sample_dir_build(), home, symlinks=True)
        elif kind == "real-2024-01-18":
            # a home of its own: the real list after the 51-entry sample would be a 270-fold growth
            shutil.copytree(real_baseline(), home, symlinks=True)
        else:
            raise ValueError(kind)
        built[kind] = home
        return home

    return get


def observations(published: Path) -> list[tuple]:
    con = duckdb.connect(str(published), read_only=True)
    try:
        return con.execute("select * from history.ofac_list_observations order by observed_at").fetchall()
    finally:
        con.close()


def report(home: Path, name: str) -> dict:
    return json.loads((home / name).read_text())


@pytest.mark.parametrize("bad", CASES)
def test_bad_input(bad: Case, baseline, refresh, warehouse_home: Path, http_server: ScriptedServer, tmp_path, monkeypatch):
    shutil.copytree(baseline(bad.baseline), warehouse_home, symlinks=True)
    published = warehouse_home / "warehouse.duckdb"
    before_sha = sha256_of(published)
    before_history = observations(published)
    before_run = report(warehouse_home, "published_run.json")["run_id"]
    assert before_history, "the baseline must have observed a list version"

    ctx = Ctx(tmp_path, http_server, {"WAREHOUSE_OFAC_BASE_URL": http_server.url(EXPORTS)}, warehouse_home)
    try:
        run_case(bad, ctx, warehouse_home, refresh, monkeypatch, tmp_path,
                 before_sha, before_history, before_run, published)
    finally:
        for undo in ctx.cleanup:
            undo()


def run_case(bad: Case, ctx: Ctx, warehouse_home: Path, refresh, monkeypatch, tmp_path: Path,
             before_sha: str, before_history: list[tuple], before_run: str, published: Path) -> None:
    http_server = ctx.server
    sources = bad.setup(ctx)
    for name, value in ctx.env.items():
        monkeypatch.setenv(name, value)

    code, out, err = refresh("--only", bad.only, *bad.args, sources=sources)
    shown = f"exit {code}\n--- stdout (tail) ---\n{out[-2000:]}\n--- stderr (tail) ---\n{err[-4000:]}"
    last = report(warehouse_home, "last_run.json")

    if bad.sdn_requests is not None:
        assert http_server.hits(f"{EXPORTS}/SDN.CSV") == bad.sdn_requests, shown

    if bad.expect is None and last.get("unchanged"):
        # the problem is ridden out and the files are those of the published load: nothing to publish
        assert code == 0 and "Nothing changed, nothing published" in out, shown
        assert sha256_of(published) == before_sha and observations(published) == before_history
        assert not bad.new_version, shown
        if bad.then:
            bad.then(warehouse_home, http_server)
        return
    if bad.expect is None:  # a transient problem the client rides out: the run publishes
        assert code == 0, shown
        assert last["published"] is True, shown
        assert report(warehouse_home, "published_run.json")["run_id"] != before_run
        assert report(warehouse_home, "published_run.json")["run_id"] == last["run_id"]
        if bad.new_version:  # a new SDN.CSV: exactly one more version in the history
            assert observations(published)[:-1] == before_history and len(observations(published)) == len(before_history) + 1
        else:  # the same SDN.CSV bytes are the same list version: nothing new in the history
            assert observations(published) == before_history
        if bad.then:
            bad.then(warehouse_home, http_server)
        return

    assert code != 0, shown
    assert "REFRESH FAILED" in err, shown
    failure = err[err.index("REFRESH FAILED"):].replace(str(tmp_path), "<tmp>")
    assert f"[{bad.only}]" in failure, shown  # the error names the source
    assert bad.expect in failure, shown
    assert last["published"] is False, last
    assert last["run_id"] != before_run
    assert bad.expect in (last["error"] or ""), last["error"]
    assert sha256_of(published) == before_sha, "a failed refresh changed the published file"
    assert observations(published) == before_history
    assert report(warehouse_home, "published_run.json")["run_id"] == before_run
    if bad.then:
        bad.then(warehouse_home, http_server)
