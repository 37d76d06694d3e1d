"""The charts and static HTML report rendered at publish: from the sample build, what each chart
plots matches the marts; a chart without data says so; report/current follows publish and rollback."""

from __future__ import annotations

import base64
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from matplotlib.text import Text
from PIL import Image

from orchestration import charts
from orchestration.analysis.event_study import KEY_EVENTS_SQL
from orchestration.assets.publish import charts_markdown
from orchestration.settings import layout
from orchestration.warehouse import Warehouse
from tests.conftest import query_file as query

FILES = ["pressure_compliance.png", "crude_exports.png", "banks_barred.png", "iraq_imports_from_iran.png", "event_study.png"]
PIXELS = {chart.file: (round(chart.size[0] * charts.DPI), round(chart.size[1] * charts.DPI)) for chart in charts.CHARTS}


def assert_pngs(folder: Path) -> None:
    for name in FILES:
        path = folder / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.size == PIXELS[name], name
    assert PIXELS["pressure_compliance.png"] == (1100, 616) and PIXELS["event_study.png"] == (1100, 726)


@pytest.fixture(scope="module")
def sample_home(published_sample) -> Path:
    return published_sample[0]


@pytest.fixture(scope="module")
def rendered(sample_home, tmp_path_factory) -> tuple[dict, Path]:
    """The report rendered again from the sample's published file, read-only, into a folder of its own."""
    folder = tmp_path_factory.mktemp("report")
    con = duckdb.connect(str(sample_home / "warehouse.duckdb"), read_only=True)
    try:
        result = charts.render_report(con, folder, run_id="run-test", published_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    finally:
        con.close()
    return result, folder


def test_the_sample_refresh_leaves_the_charts_and_report_in_the_home(published_sample):
    home, out = published_sample
    run_id = json.loads((home / "published_run.json").read_text())["run_id"]
    current = home / "report" / "current"
    assert current.is_symlink() and current.readlink() == Path(run_id)
    assert_pngs(current)
    page = (current / "index.html").read_text()
    for name in FILES:
        assert f'<img src="{name}"' in page
    assert run_id in page and "SAMPLE" in page
    # opens from disk: no script, no stylesheet or image from elsewhere
    assert "<script" not in page.lower() and not re.search(r'(src|href)="(https?:)?//', page)
    assert f"Charts and report (opens from disk): {current / 'index.html'}" in out
    # the run report, inside the file and beside it, lists every chart and whether it had data
    stored = json.loads(query(home / "warehouse.duckdb", "select report from meta.published_runs order by published_at desc limit 1")[0][0])
    assert [c["file"] for c in stored["charts"]] == FILES and all(c["has_data"] for c in stored["charts"])
    assert {c["file"]: c["is_sample"] for c in stored["charts"]}["banks_barred.png"] is False  # curated register only


def test_each_chart_plots_what_the_marts_hold(rendered, sample_home):
    result, folder = rendered
    assert_pngs(folder)
    assert result["is_sample"] and "ofac" in result["sample_sources"]
    facts = {c["file"]: c["facts"] for c in result["charts"]}
    assert all(c["has_data"] and c["note"] is None for c in result["charts"])
    db = sample_home / "warehouse.duckdb"

    # the key events marked: NSPM-2, the waiver's lapse and the four bank-ban waves
    assert facts["pressure_compliance.png"]["key_events"] == query(db, f"select count(*) from ({KEY_EVENTS_SQL})")[0][0] == 6
    # every month from the first to the last with an index, so a month without one is a gap, never bridged
    assert facts["pressure_compliance.png"]["months"] == query(db, """
        select count(*) from marts.rpt_pressure_vs_compliance
        where month between (select min(month) from marts.rpt_pressure_vs_compliance where coalesce(pressure_index, compliance_index) is not null)
                        and (select max(month) from marts.rpt_pressure_vs_compliance where coalesce(pressure_index, compliance_index) is not null)
    """)[0][0]

    # banks barred at the last month: 31 banks, 34 with the payment firms, in four waves
    banks = facts["banks_barred.png"]
    last = query(db, "select strftime(month, '%Y-%m'), banks_barred_cumulative, institutions_barred_cumulative "
                     "from marts.fct_iraq_compliance_monthly order by month desc limit 1")[0]
    assert (banks["last_month"], banks["banks_barred"], banks["institutions_barred"]) == last
    assert (banks["banks_barred"], banks["institutions_barred"], banks["waves"]) == (31, 34, 4)

    # imports: every month's basis is marked (the sample's are IMF estimates) and the mirror energy month
    imports = facts["iraq_imports_from_iran.png"]
    assert (imports["reported_months"], imports["estimate_months"], imports["mirror_months"]) == query(db, """
        select count(*) filter (where not iraq_imports_is_mirror and not iraq_imports_is_estimate),
               count(*) filter (where iraq_imports_is_estimate and not iraq_imports_is_mirror),
               count(*) filter (where iraq_imports_is_mirror)
        from marts.fct_iraq_iran_trade_monthly where iraq_imports_from_iran_usd is not null""")[0]
    assert (imports["energy_months"], imports["energy_mirror_months"]) == (3, 1)

    # exports: the halt of 2023-03-25 to 2025-09-26 shaded, each country's months with a figure plotted
    crude = facts["crude_exports.png"]
    assert crude["halted_periods"] == 1 and crude["pipeline_periods"] == 3
    assert (crude["iraq_months"], crude["iran_months"]) == query(db, """
        select count(exports_kbd) filter (where country_iso3 = 'IRQ'), count(exports_kbd) filter (where country_iso3 = 'IRN')
        from marts.fct_oil_monthly""")[0]

    # the event study: every difference plotted, the outcome with none named
    study = facts["event_study.png"]
    assert study["rows_with_difference"] == query(db, "select count(difference) from marts.rpt_event_study")[0][0] > 0
    assert study["outcomes_without_estimate"] == ["iraq_energy_imports_from_iran_usd"]
    assert "compliance_index" in study["outcomes_shown"] and study["key_events"] == 6

    # the page: every chart by relative path, the run and its time, the key figures with their tables
    page = (folder / "index.html").read_text()
    assert all(f'<img src="{name}"' in page for name in FILES)
    assert "run-test" in page and "2026-01-02 03:04:05 UTC" in page
    figures = {f["label"]: f["value"] for f in result["key_figures"]}
    assert figures[f"Banks barred from dollars, to {last[0]}"].startswith("31 banks (44% of 70 licensed); 34")
    assert figures["Key events marked"] == "6"

    # the Dagster UI's markdown: each chart embedded as a data-URI PNG, byte for byte
    markdown = charts_markdown(folder, result["charts"])
    embedded = re.findall(r"!\[[^\]]+\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown)
    assert [base64.b64decode(e) for e in embedded] == [(folder / name).read_bytes() for name in FILES]


def test_a_chart_without_data_says_so_in_the_figure_and_the_result(sample_home, tmp_path, monkeypatch):
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(sample_home / "warehouse.duckdb", db)
    con = duckdb.connect(str(db))
    con.execute("delete from marts.rpt_event_study")
    con.execute("drop table marts.fct_iraq_iran_trade_monthly")
    shown: dict[str, list[str]] = {}
    save = charts._save_png

    def capture(fig, path):  # what each figure says, as drawn
        shown[path.name] = [t.get_text() for t in fig.findobj(Text)]
        save(fig, path)

    monkeypatch.setattr(charts, "_save_png", capture)
    try:
        result = charts.render_report(con, tmp_path / "report", run_id="run-empty", published_at=datetime.now(UTC))
    finally:
        con.close()
    flagged = {c["file"]: (c["has_data"], c["note"]) for c in result["charts"]}
    assert flagged["event_study.png"] == (False, "marts.rpt_event_study has no rows")
    assert flagged["iraq_imports_from_iran.png"] == (False, "marts.fct_iraq_iran_trade_monthly is not in this version")
    assert all(flagged[name][0] for name in FILES if name not in ("event_study.png", "iraq_imports_from_iran.png"))
    for name in ("event_study.png", "iraq_imports_from_iran.png"):
        assert any("NO DATA TO CHART" in text and flagged[name][1] in text for text in shown[name]), shown[name]
        assert any(text.startswith("Sources: ") for text in shown[name])  # still titled and sourced
    assert not any("NO DATA" in text for text in shown["banks_barred.png"])
    assert_pngs(tmp_path / "report")  # never left out: every file is there, at its size
    page = (tmp_path / "report" / "index.html").read_text()
    assert page.count("<strong>No data:</strong>") == 2 and "marts.rpt_event_study has no rows" in page


def test_report_current_follows_the_publish_and_the_rollback(sample_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(sample_home, home, symlinks=True)  # parquet/current and report/current stay links
    store = Warehouse(layout(home))
    first = store.published_run_id()
    assert store.report_version() == first

    store.ensure_build("run-next")  # a copy of the sample's version: every chart has data
    report = store.publish("run-next", {"gates": []})
    store.save_report(report)
    store.finish("run-next")
    assert store.published_run_id() == store.report_version() == store.parquet_version() == "run-next"
    assert [c["file"] for c in report["charts"]] == FILES and all(c["has_data"] for c in report["charts"])
    assert "run-next" in (home / "report" / "current" / "index.html").read_text()
    assert sorted(p.name for p in (home / "report").iterdir()) == sorted(["current", first, "run-next"])

    before, after = store.rollback()
    assert (before["run_id"], after["run_id"]) == ("run-next", first)
    assert store.report_version() == store.parquet_version() == first
    page = (home / "report" / "current" / "index.html").read_text()
    assert first in page and "run-next" not in page
    store.rollback("run-next")
    assert store.report_version() == "run-next"


def test_reports_are_pruned_with_their_versions(tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_KEEP_VERSIONS", "2")
    store = Warehouse(layout(tmp_path / "home"))
    for number in range(3):  # builds without marts: every chart renders, saying it has no data
        run_id = f"run-{number}"
        with store.connect(run_id) as con:
            con.execute(f"create or replace table raw.ofac_sdn as select range as ent_num from range({number + 1})")
        report = store.publish(run_id, {"gates": []})
        store.finish(run_id)
        assert [c["has_data"] for c in report["charts"]] == [False] * 5
        assert "marts.rpt_pressure_vs_compliance, marts.fct_sanctions_events are not in this version" in report["charts"][0]["note"]
    assert sorted(p.name for p in store.report_dir.iterdir()) == ["current", "run-1", "run-2"]
    assert store.report_version() == "run-2"
    assert_pngs(store.report_dir / "current")


def test_the_summary_names_new_and_changed_key_figures_against_the_version_built_on(sample_home, tmp_path, monkeypatch, capsys):
    """`warehouse status` (and the end of `make run`) list the report's key figures, each marked
    unchanged or with its value in the version this one was built on."""
    from orchestration.cli import main

    home = tmp_path / "home"
    shutil.copytree(sample_home, home, symlinks=True)
    store = Warehouse(layout(home))
    build = store.ensure_build("run-changed")
    con = duckdb.connect(str(build))
    try:
        month, before = con.execute("select month, exports_kbd from marts.fct_oil_monthly where country_iso3 = 'IRQ' "
                                    "and exports_kbd is not null order by month desc limit 1").fetchone()
        con.execute("update marts.fct_oil_monthly set exports_kbd = 3600 where country_iso3 = 'IRQ' and month = ?", [month])
    finally:
        con.close()
    store.save_report(store.publish("run-changed", {"gates": []}))
    store.finish("run-changed")

    monkeypatch.setenv("WAREHOUSE_HOME", str(home))
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "Key figures (against the version it built on):" in out
    assert f"  Iraq's crude exports, {month:%Y-%m}: 3,600 kb/d (JODI)  (was {before:,.0f} kb/d (JODI))" in out
    assert "  Key events marked: 6  (unchanged)" in out
    assert re.search(r"  Banks barred from dollars, to \d{4}-\d{2}: 31 banks .*\(unchanged\)", out)
