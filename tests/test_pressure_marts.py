"""The monthly pressure and compliance facts, the events table, the lag report and the event study,
on the session's bundled build: the facts DOMAIN.md says the marts must reproduce, the index
recomputed by hand for one month, and the validation of each index against its key event months."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
import yaml

from tests.conftest import REPO


@pytest.fixture(scope="module")
def con(published_sample):
    home, _ = published_sample
    connection = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    yield connection
    connection.close()


def rows(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()


def by_month(con, table: str, column: str) -> dict[str, object]:
    return dict(rows(con, f"select strftime(month, '%Y-%m'), {column} from marts.{table}"))


def months_since_2018(today: date) -> int:
    return (today.year - 2018) * 12 + today.month


CAPS = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())["vars"]["score_caps"]


# -- the calendar ---------------------------------------------------------------------------
@pytest.mark.parametrize("table", ["fct_sanctions_pressure_monthly", "fct_iraq_compliance_monthly", "rpt_pressure_vs_compliance"])
def test_one_row_per_month_from_2018_to_now(con, table):
    (count, first, last, distinct), = rows(con, f"select count(*), min(month), max(month), count(distinct month) from marts.{table}")
    today = date.today()
    assert (first, last) == (date(2018, 1, 1), today.replace(day=1))
    assert count == distinct == months_since_2018(today)


# -- facts the marts must reproduce (DOMAIN.md sections 2-3) --------------------------------
def test_bank_ban_waves_and_31_banks(con):
    new = by_month(con, "fct_iraq_compliance_monthly", "new_institutions_barred")
    banks = by_month(con, "fct_iraq_compliance_monthly", "new_banks_barred")
    firms = by_month(con, "fct_iraq_compliance_monthly", "new_payment_firms_barred")
    assert {m: n for m, n in new.items() if n} == {"2022-11": 4, "2023-07": 14, "2024-02": 8, "2025-02": 8}
    assert (banks["2025-02"], firms["2025-02"]) == (5, 3)
    cumulative = by_month(con, "fct_iraq_compliance_monthly", "banks_barred_cumulative")
    assert (cumulative["2022-10"], cumulative["2022-11"], cumulative["2024-12"], cumulative["2025-02"]) == (0, 4, 26, 31)
    (denominator, share), = rows(con, "select licensed_banks_denominator, share_of_licensed_banks_barred "
                                      "from marts.fct_iraq_compliance_monthly where month = '2025-02-01'")
    assert denominator == 70 and share == pytest.approx(31 / 70)


def test_waiver_in_force_days(con):
    days = by_month(con, "fct_sanctions_pressure_monthly", "waiver_in_force_days")
    assert days["2018-10"] == 0 and days["2018-11"] == 24  # first granted 2018-11-07
    assert days["2025-02"] == 28  # in force all of February 2025
    assert 0 < days["2025-03"] < 31  # part of March: not renewed on 2025-03-08
    assert days["2025-03"] == 8
    assert all(days[m] == 0 for m in days if m >= "2025-04")
    withdrawn = by_month(con, "fct_sanctions_pressure_monthly", "score_waiver_withdrawn")
    assert withdrawn["2025-03"] == pytest.approx(1 - 8 / 31)
    assert withdrawn["2025-05"] == 0 and withdrawn["2018-11"] == 0


def test_nspm2_is_a_presidential_action_of_february_2025(con):
    actions = by_month(con, "fct_sanctions_pressure_monthly", "presidential_actions")
    assert actions["2025-02"] == 1
    events = rows(con, "select event_date, side, source from marts.fct_sanctions_events "
                       "where event_type = 'presidential_action' and source = 'sanctions_events'")
    assert events == [(date(2025, 2, 4), "pressure", "sanctions_events")]


def test_fly_baghdad_designations_of_january_2024_are_iraq_nexus(con):
    fly_baghdad = rows(con, "select event_date, date_basis, iraq_nexus, side from marts.fct_sanctions_events "
                            "where source_doc_id = 'ofac:39236:SDN List'")
    assert fly_baghdad == [(date(2024, 1, 22), "legal_effect", True, "pressure")]
    listed = {n for (n,) in rows(con, "select cast(split_part(source_doc_id, ':', 2) as integer) from marts.fct_sanctions_events "
                                      "where event_type = 'designation' and iraq_nexus and event_date = '2024-01-22'")}
    assert listed == {39236, 47168, 47169, 47170, 47177, 47178, 47179, 47180}
    (entities, days), = rows(con, "select new_iraq_nexus_entities, iraq_nexus_designation_days "
                                  "from marts.fct_sanctions_pressure_monthly where month = '2024-01-01'")
    assert (entities, days) == (8, 1)  # one batch: eight entities, one designation day


def test_kurdistan_pipeline_days(con):
    days = by_month(con, "fct_iraq_compliance_monthly", "krg_pipeline_active_days")
    assert days["2023-02"] == 28 and days["2023-03"] == 24
    assert all(days[f"{y}-{m:02d}"] == 0 for y in (2023, 2024, 2025) for m in range(1, 13) if "2023-04" <= f"{y}-{m:02d}" <= "2025-08")
    assert days["2025-09"] == 4
    assert days["2026-02"] is None  # after the register's last confirmation (2026-01-05): no data, not zero


def test_fincen_311_on_al_huda(con):
    actions = by_month(con, "fct_sanctions_pressure_monthly", "fincen_actions")
    assert (actions["2024-01"], actions["2024-06"], actions["2024-07"], actions["2024-08"]) == (2, 1, 1, 0)
    status = by_month(con, "fct_iraq_compliance_monthly", "al_huda_311_status")
    assert (status["2023-12"], status["2024-01"], status["2024-07"], status["2024-08"]) == ("none", "proposed", "final", "in_effect")


def test_federal_register_actions_by_type_continuations_apart(con):
    rows_ = {m: r for m, *r in rows(con, "select strftime(month, '%Y-%m'), fr_rules, fr_proposed_rules, fr_notices, "
                                         "fr_presidential_documents, fr_iraq_emergency_continuations "
                                         "from marts.fct_sanctions_pressure_monthly")}
    for month in ("2018-05", "2019-05", "2020-05"):  # 2018-11015, 2019-10777, 2020-11217: counted apart
        assert rows_[month] == [0, 0, 0, 0, 1], month
    assert rows_["2018-08"][3] == 1 and rows_["2020-01"][3] == 1  # EO 13846, EO 13902
    # the FinCEN 311 documents (2024-02004, 2024-14415) count once, as FinCEN actions
    assert rows_["2024-01"][1] == 0 and rows_["2024-07"][0] == 0
    documents = dict(rows(con, "select source_doc_id, event_type from marts.fct_sanctions_events where source = 'federal_register'"))
    assert documents["fr:2024-02004"] == "federal_register_document" and documents["fr:2018-17068"] == "presidential_action"
    assert "fr:SAMPLE-2025-9001" not in documents  # an unrelated agency's document stays out of scope


def test_months_without_data_are_null_never_zero(con):
    imports = by_month(con, "fct_iraq_compliance_monthly", "iraq_imports_from_iran_usd")
    assert imports["2019-06"] is None and imports["2025-02"] > 0
    scores = by_month(con, "fct_iraq_compliance_monthly", "score_imports_from_iran_fall")
    assert scores["2024-08"] is None  # fewer than 6 months behind the trailing mean
    enforcement = by_month(con, "fct_iraq_compliance_monthly", "score_enforcement")
    assert set(enforcement.values()) == {None}  # the register records no Iraqi enforcement action yet
    index = by_month(con, "fct_iraq_compliance_monthly", "compliance_index")
    components = by_month(con, "fct_iraq_compliance_monthly", "n_components")
    assert components["2026-02"] == 1 and index["2026-02"] is None  # fewer than two scored components


def test_every_event_type_sits_on_one_side(con):
    sides = rows(con, "select event_type, count(distinct side), min(side) from marts.fct_sanctions_events group by 1")
    assert all(n == 1 for _, n, _ in sides)
    side = {t: s for t, _, s in sides}
    assert side["bank_ban"] == side["pipeline_restart"] == "compliance"
    assert side["designation"] == side["fincen_311_step"] == side["waiver_lapsed"] == side["presidential_action"] == "pressure"
    assert rows(con, "select count(*) from marts.fct_sanctions_events where source_url is null or title is null") == [(0,)]


# -- the index, recomputed by hand for one month ---------------------------------------------
def test_pressure_index_recomputed_by_hand_for_february_2025(con):
    frame = con.execute("select * from marts.fct_sanctions_pressure_monthly where month = '2025-02-01'").df().iloc[0]
    previous = con.execute("select waiver_in_force_days from marts.fct_sanctions_pressure_monthly "
                           "where month = '2025-01-01'").fetchone()[0]
    scores = {
        "score_iraq_designations": min(frame.iraq_nexus_designation_days / CAPS["iraq_designation_days"], 1),
        "score_iran_designations": min(frame.iran_nexus_designation_days / CAPS["iran_designation_days"], 1),
        "score_federal_register": min((frame.fr_rules + frame.fr_proposed_rules + frame.fr_notices) / CAPS["federal_register_actions"], 1),
        "score_fincen": min(frame.fincen_actions / CAPS["fincen_actions"], 1),
        "score_presidential": min(frame.presidential_actions / CAPS["presidential_actions"], 1),
        "score_waiver_withdrawn": max(previous / 31 - frame.waiver_in_force_days / 28, 0),
        "score_warnings": min(frame.warnings / CAPS["warnings"], 1),
    }
    for name, value in scores.items():
        assert frame[name] == pytest.approx(value), name
    assert frame.n_components == 7
    assert frame.pressure_index == pytest.approx(100 * sum(scores.values()) / 7)
    assert frame.presidential_actions == 1 and frame.pressure_index > 0


def test_compliance_index_recomputed_by_hand_for_march_2025(con):
    history = con.execute("select * from marts.fct_iraq_compliance_monthly where month between '2024-03-01' and '2025-03-01' "
                          "order by month").df()
    month = history.iloc[-1]
    trailing = history.iloc[:-1]["iraq_imports_from_iran_usd"].dropna()
    assert len(trailing) == 8 and month.imports_trailing_months == 8
    fall = min(max((trailing.mean() - month.iraq_imports_from_iran_usd) / trailing.mean(), 0), 1)
    assert month.score_imports_from_iran_fall == pytest.approx(fall) and 0 < fall < 0.05
    shares = history.iloc[:-1]["iran_share_of_iraq_imports"].dropna()
    share_fall = min(max((shares.mean() - month.iran_share_of_iraq_imports) / shares.mean(), 0), 1)
    assert month.score_iran_share_fall == pytest.approx(share_fall)
    scored = [month.score_institutions_barred, fall, share_fall, month.score_pipeline_restart]
    assert month.score_institutions_barred == 0 and month.score_pipeline_restart == 0
    assert month.n_components == 4  # energy imports have too short a history, enforcement no register
    assert month.compliance_index == pytest.approx(100 * sum(scored) / 4)


# -- validation: key event months rank in the top quarter of their index --------------------
@pytest.mark.parametrize(
    ("table", "index", "months"),
    [
        ("fct_sanctions_pressure_monthly", "pressure_index", ["2025-02", "2025-03"]),  # NSPM-2, waiver lapse
        ("fct_iraq_compliance_monthly", "compliance_index", ["2022-11", "2023-07", "2024-02", "2025-02"]),  # bank bans
    ],
)
def test_key_event_months_rank_at_or_above_the_75th_percentile(con, table, index, months):
    ranks = dict(rows(con, f"select strftime(month, '%Y-%m'), percent_rank() over (order by {index}) "
                           f"from marts.{table} where {index} is not null"))
    assert len(ranks) >= 90
    for month in months:
        assert ranks[month] >= 0.75, (month, ranks[month])


# -- reports ----------------------------------------------------------------------------------
def test_lag_correlations_say_how_many_months_they_rest_on(con):
    assert rows(con, "select count(*), count(distinct component), min(lag_months), max(lag_months) "
                     "from marts.rpt_pressure_compliance_lags") == [(91, 7, 0, 12)]
    lag0 = dict(rows(con, "select component, n_months from marts.rpt_pressure_compliance_lags where lag_months = 0"))
    assert lag0["score_institutions_barred"] == months_since_2018(date.today())  # both series cover every month
    assert lag0["score_enforcement"] == 0
    assert rows(con, "select count(*) from marts.rpt_pressure_compliance_lags where n_months < 6 and correlation is not null") == [(0,)]


def test_event_study(con):
    events = rows(con, "select distinct event_type, event_date from marts.rpt_event_study order by event_date")
    assert events == [
        ("bank_ban", date(2022, 11, 1)), ("bank_ban", date(2023, 7, 19)), ("bank_ban", date(2024, 2, 4)),
        ("presidential_action", date(2025, 2, 4)), ("bank_ban", date(2025, 2, 16)), ("waiver_lapsed", date(2025, 3, 8)),
    ]
    assert rows(con, "select count(*), count(distinct outcome), count(distinct window_months) from marts.rpt_event_study") == [(84, 7, 2)]
    # the 2023-07 wave: 14 institutions in the event month, none in the 3 months before
    (n_before, n_after, before, after, diff, low, high, p, n_placebo), = rows(
        con, "select n_before, n_after, mean_before, mean_after, difference, ci_low, ci_high, placebo_p_value, n_placebo_months "
             "from marts.rpt_event_study where event_date = '2023-07-19' and outcome = 'new_institutions_barred' and window_months = 3")
    assert (n_before, n_after, before) == (3, 3, 0) and after == pytest.approx(14 / 3) and diff == pytest.approx(14 / 3)
    assert low <= diff <= high and 0 < p <= 1 and n_placebo > 30
    # NSPM-2 and the 2025-02 wave share a month: the report says so instead of crediting either alone
    near = rows(con, "select other_key_events_in_window from marts.rpt_event_study "
                     "where event_type = 'presidential_action' and window_months = 3 limit 1")[0][0]
    assert "bank_ban 2025-02-16" in near and "waiver_lapsed 2025-03-08" in near
    # too little data: no difference, no interval, never a zero
    assert rows(con, "select count(*) from marts.rpt_event_study where (n_before < 2 or n_after < 2) and "
                     "(difference is not null or ci_low is not null)") == [(0,)]


# -- three clocks and the program classification ----------------------------------------------
def test_three_clocks_are_separate_columns(con):
    (listing, published, observed), = rows(con, "select listing_date, first_list_published_at, first_observed_at "
                                                "from marts.dim_sanctioned_entity where ent_num = 39236")
    assert listing == date(2024, 1, 22)
    assert published is not None and published.date() < observed.date()  # the sample's publication history
    assert published.date() != listing


def test_programs_missed_before_now_give_an_iran_nexus(con):
    reasons = rows(con, "select nexus_reasons from marts.dim_sanctioned_entity where ent_num = 10391")[0][0]
    assert "iran/program:HRIT-IR" in reasons
    classification = dict(rows(con, "select program, country_focus from raw.ofac_program_classification"))
    assert classification["CAATSA - IRAN"] == classification["HRIT-IR"] == "iran"
    assert classification["IRAQ3"] == "iraq" and classification["SDGT"] == "none"
