"""`warehouse refresh` on the bundled sample builds both trade marts with the sample's known values."""

from __future__ import annotations

import pytest

from tests.conftest import query


@pytest.fixture(scope="module")
def built(published_sample):
    """The session's full bundled refresh (read only)."""
    return published_sample[0]


def test_iraq_imports_from_iran_in_march_2025(built):
    row = query(
        built,
        "select iraq_imports_from_iran_usd, iraq_imports_source, iraq_imports_reported_by, iraq_imports_is_mirror, "
        "iraq_imports_is_estimate, round(iran_share_of_iraq_imports, 4), iraq_gas_imports_from_iran_usd, "
        "iraq_electricity_imports_from_iran_usd, iraq_energy_imports_from_iran_usd, energy_source, energy_is_mirror "
        "from marts.fct_iraq_iran_trade_monthly where month = date '2025-03-01'",
    )
    # IMF's estimate of Iraq's own imports beats Iran's mirror (743.9 M from Comtrade); the energy part
    # is Iran's reported exports of gas (251 M) and electricity (38.4 M): mirror figures
    assert row == [(812345678.0, "imf_imts", "IRQ", False, True, 0.133, 251000000.0, 38400000.0, 289400000.0, "comtrade", True)]


def test_iraqs_own_report_beats_the_mirror_for_energy(built):
    row = query(
        built,
        "select iraq_gas_imports_from_iran_usd, iraq_electricity_imports_from_iran_usd, energy_is_mirror "
        "from marts.fct_iraq_iran_trade_monthly where month = date '2025-01-01'",
    )
    assert row == [(298500000.0, 60250000.0, False)]  # Iraq's Comtrade report, not Iran's 305 M / 61.5 M


def test_one_row_per_month(built):
    assert query(built, "select count(*), count(distinct month), min(month)::varchar, max(month)::varchar "
                        "from marts.fct_iraq_iran_trade_monthly") == [(12, 12, "2024-07-01", "2025-06-01")]


def test_bilateral_keeps_both_sources_and_labels_mirrors(built):
    both = query(
        built,
        "select source, value_usd, is_mirror, is_estimate from marts.fct_bilateral_trade_monthly "
        "where period = date '2025-03-01' and reporter_iso3 = 'IRN' and partner_iso3 = 'IRQ' and flow = 'export' "
        "and hs_code = 'TOTAL' order by source",
    )
    assert [(s, m, e) for s, _, m, e in both] == [("comtrade", False, False), ("imf_imts", False, True)]
    assert both[0][1] == 743900000.0
    turkiye = query(
        built,
        "select distinct is_mirror from marts.fct_bilateral_trade_monthly where reporter_iso3 = 'TUR' and partner_iso3 = 'IRQ'",
    )
    assert turkiye == [(True,)]
    # annual rows only where the reporter has no month of that flow in that year
    annual = query(built, "select reporter_iso3, extract(year from period), hs_code from marts.fct_bilateral_trade_monthly "
                          "where period_grain = 'year' and partner_iso3 = 'IRQ' order by 1, 2")
    assert ("ARE", 2024, "TOTAL") in annual and ("KOR", 2024, "2709") in annual
    # Comtrade's 0 with unit -1 is NULL, never zero
    assert query(built, "select count(*) from marts.fct_bilateral_trade_monthly where quantity = 0") == [(0,)]
    assert query(built, "select count(*) from marts.fct_bilateral_trade_monthly where source = 'comtrade' "
                        "and hs_code = 'TOTAL' and quantity is not null") == [(0,)]
