"""Charts of a published version and a static HTML report, rendered by the publish step.

Five PNG charts, each drawn from the marts with one SQL query per series, and `index.html`, which
shows them by relative path (it opens from disk: no server, no JavaScript, no external assets):

    pressure_compliance.png     the pressure and compliance indices by month, the key events marked
    crude_exports.png           Iraq's and Iran's crude exports, the Kurdistan pipeline's halt shaded
    banks_barred.png            Iraqi banks and payment firms barred from US dollars, cumulative
    iraq_imports_from_iran.png  Iraq's imports from Iran: Iraq's report, IMF estimate or Iran's mirror
    event_study.png             the event study's before / after differences with their 95% intervals

A chart whose table is missing or empty is still drawn, saying so in the figure, and flagged
(`has_data: false`, with the reason) in what `render_report` returns: never silently left out.
Every figure names its tables and publishers at the bottom, and says when its inputs are the
bundled sample.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")  # files only: no display, no GUI toolkit

import matplotlib.dates as mdates
import matplotlib.ticker as mticker
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from PIL import Image

from orchestration.analysis.event_study import KEY_EVENTS_SQL, OUTCOMES
from orchestration.warehouse import tables_in

DPI = 110
SIZE = (10.0, 5.6)  # inches: 1100 x 616 pixels at DPI
TALL = (10.0, 6.6)  # the event study's small multiples: 1100 x 726 pixels

PRESSURE, COMPLIANCE = "#c0392b", "#1f77b4"
IRAQ, IRAN, KURDISTAN = "#1f77b4", "#2ca02c", "#ff7f0e"
SAMPLE_RED = "#b00020"

SAMPLE_NOTE = (
    "Built from the bundled SAMPLE: the curated registers (bank bans, FinCEN 311, the waiver, events, SOMO, the "
    "pipeline) are real, sourced facts; the OFAC rows are real but most listing dates are illustrative, and the "
    "trade and oil figures are made up. A demonstration of the method, not findings."
)


class NoData(Exception):
    """The chart's table is missing from this version, or holds nothing to plot: the figure says so."""


@dataclass(frozen=True)
class Chart:
    file: str
    title: str
    caption: str  # what it shows and how to read it
    tables: str  # the tables and columns it is drawn from
    publishers: str  # who published the figures behind it (the source line)
    sample_sources: tuple[str, ...]  # its sources in meta.source_loads: the chart is SAMPLE if any is
    size: tuple[float, float]
    draw: Callable[[duckdb.DuckDBPyConnection, Figure, set[str]], dict]  # returns facts; raises NoData


# -- helpers -------------------------------------------------------------------------------
def _require(present: set[str], *tables: str) -> None:
    missing = [t for t in tables if t not in present]
    if missing:
        raise NoData(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in this version")


def _month_axis(ax, start, end) -> None:
    locator = mdates.AutoDateLocator(minticks=5, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    # month ticks name their year ("Jul 2024"), so a short range is dated without an offset label
    formats = ["%Y", "%b %Y", "%d %b %Y", "%H:%M", "%H:%M", "%S.%f"]
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, formats=formats, zero_formats=formats,
                                                             show_offset=False))
    ax.set_xlim(pd.Timestamp(start), pd.Timestamp(end))
    ax.set_xlabel("Month")
    ax.grid(axis="y", color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)


def _event_label(event_type: str, title: str) -> str:
    if event_type == "bank_ban":
        count = re.match(r"\s*(\d+)", title or "")
        return f"Bank-ban wave: {count.group(1)} barred" if count else "Bank-ban wave"
    if event_type == "waiver_lapsed":
        return "Electricity waiver lapsed"
    if event_type == "presidential_action":
        return (title or "Presidential action").split(":")[0][:32]
    return (title or event_type)[:32]


def _month(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m")


def _with_data(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The months from the first to the last with a figure in any of `columns`, every month between
    kept, so a month without a figure is a gap in the line, never bridged."""
    has = rows[columns].notna().any(axis=1).to_numpy()
    if not has.any():
        return rows.iloc[0:0]
    return rows.iloc[has.argmax():len(has) - has[::-1].argmax()].reset_index(drop=True)


# -- the charts ----------------------------------------------------------------------------
def draw_pressure_compliance(con: duckdb.DuckDBPyConnection, fig: Figure, present: set[str]) -> dict:
    _require(present, "marts.rpt_pressure_vs_compliance", "marts.fct_sanctions_events")
    rows = _with_data(con.execute("""
        select month, pressure_index, compliance_index, pressure_index_3m, compliance_index_3m
        from marts.rpt_pressure_vs_compliance order by month
    """).df(), ["pressure_index", "compliance_index"])
    if rows.empty:
        raise NoData("marts.rpt_pressure_vs_compliance has no month with either index")
    events = con.execute(KEY_EVENTS_SQL).df()
    ax, key = fig.subplots(1, 2, width_ratios=(3.1, 1))
    month = pd.to_datetime(rows["month"])
    for column, colour, label in (("pressure_index", PRESSURE, "Pressure index"),
                                  ("compliance_index", COMPLIANCE, "Compliance index")):
        ax.plot(month, rows[column], color=colour, linewidth=0.9, alpha=0.45, label=f"{label}, monthly")
        ax.plot(month, rows[column + "_3m"], color=colour, linewidth=2.2, label=f"{label}, 3-month mean")
    top = max(float(rows[["pressure_index", "compliance_index"]].max().max()), 10.0)
    ax.set_ylim(0, top * 1.3)  # the top band holds the event numbers
    ax.set_ylabel("Index, 0 to 100 (mean of component scores x 100)")
    _month_axis(ax, month.min() - pd.DateOffset(months=1), month.max() + pd.DateOffset(months=1))
    # key events: a dotted line and a number each (staggered where events crowd), named in the key
    level, previous, lines = 0, None, []
    for number, event in enumerate(events.itertuples(), start=1):
        when = pd.Timestamp(event.event_date)
        level = (level + 1) % 3 if previous is not None and (when - previous).days < 120 else 0
        previous = when
        ax.axvline(when, color="0.3", linestyle=":", linewidth=1.1)
        ax.text(when, 0.965 - 0.07 * level, str(number), transform=ax.get_xaxis_transform(), ha="center", va="top",
                fontsize=8, fontweight="bold", bbox={"boxstyle": "circle,pad=0.2", "facecolor": "white", "edgecolor": "0.3"})
        lines.append(f"{number}  {when:%Y-%m-%d}  {_event_label(event.event_type, event.title)}")
    key.set_axis_off()
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="0.3", linestyle=":", linewidth=1.1))
    labels.append("Key event (numbered below)")
    key.legend(handles, labels, loc="upper left", fontsize=8, frameon=False, borderaxespad=0)
    key.text(0, 0.6, "Key events (those of the event study)\n" + ("\n".join(lines) if lines else "none recorded"),
             transform=key.transAxes, ha="left", va="top", fontsize=8, linespacing=1.5)
    return {"months": len(rows), "key_events": len(events),
            "pressure_months": int(rows["pressure_index"].notna().sum()),
            "compliance_months": int(rows["compliance_index"].notna().sum())}


def draw_crude_exports(con: duckdb.DuckDBPyConnection, fig: Figure, present: set[str]) -> dict:
    _require(present, "marts.fct_oil_monthly")
    rows = _with_data(con.execute("""
        select
            month,
            max(exports_kbd) filter (where country_iso3 = 'IRQ') as iraq_kbd,
            max(exports_kbd) filter (where country_iso3 = 'IRQ' and exports_source = 'somo') as iraq_somo_kbd,
            max(exports_kbd) filter (where country_iso3 = 'IRN') as iran_kbd,
            max(krg_exports_kbd) filter (where country_iso3 = 'IRQ') as kurdistan_kbd
        from marts.fct_oil_monthly
        group by month
        order by month
    """).df(), ["iraq_kbd", "iran_kbd", "kurdistan_kbd"])
    if rows.empty:
        raise NoData("marts.fct_oil_monthly has no month with a crude export figure")
    periods = con.execute("""
        select period_start, period_end, status, last_confirmed
        from raw.krg_pipeline_status order by period_start
    """).df() if "raw.krg_pipeline_status" in present else pd.DataFrame()
    ax = fig.add_subplot()
    month = pd.to_datetime(rows["month"])
    start, end = month.min() - pd.DateOffset(months=1), month.max() + pd.DateOffset(months=1)
    handles = []
    for period in periods.itertuples():
        first = max(pd.Timestamp(period.period_start), start)
        if period.status == "halted":
            last = min(pd.Timestamp(period.period_end) + pd.Timedelta(days=1) if pd.notna(period.period_end) else end, end)
            if first < last:
                ax.axvspan(first, last, color=PRESSURE, alpha=0.10, linewidth=0)
                handles.append(Patch(facecolor=PRESSURE, alpha=0.18, label=(
                    f"Kurdistan pipeline halted ({pd.Timestamp(period.period_start):%Y-%m-%d} to "
                    f"{pd.Timestamp(period.period_end):%Y-%m-%d})" if pd.notna(period.period_end)
                    else f"Kurdistan pipeline halted (since {pd.Timestamp(period.period_start):%Y-%m-%d})")))
        if pd.isna(period.period_end) and pd.notna(period.last_confirmed):
            # an open period is known only up to its last confirmation
            unconfirmed = max(pd.Timestamp(period.last_confirmed) + pd.Timedelta(days=1), start)
            if unconfirmed < end:
                ax.axvspan(unconfirmed, end, facecolor="none", edgecolor="0.78", hatch="///", linewidth=0)
                handles.append(Patch(facecolor="white", edgecolor="0.6", hatch="///",
                                     label=f"Pipeline {period.status} since {pd.Timestamp(period.period_start):%Y-%m-%d}, "
                                           f"not confirmed after {pd.Timestamp(period.last_confirmed):%Y-%m-%d}"))
    # small markers: a month between two gaps still shows
    line_iraq, = ax.plot(month, rows["iraq_kbd"], color=IRAQ, linewidth=2, marker=".", markersize=4,
                         label="Iraq (JODI, or SOMO where published)")
    somo = ax.scatter(month, rows["iraq_somo_kbd"], s=36, facecolor="white", edgecolor=IRAQ, linewidth=1.5, zorder=3,
                      label="Iraq: month of SOMO's published total")
    line_iran, = ax.plot(month, rows["iran_kbd"], color=IRAN, linewidth=2, marker=".", markersize=4, label="Iran (JODI)")
    kurdistan = ax.bar(month, rows["kurdistan_kbd"], width=20, color=KURDISTAN, label="Kurdistan via Ceyhan (where published)")
    top = float(rows[["iraq_kbd", "iran_kbd", "kurdistan_kbd"]].max().max())
    ax.set_ylim(0, top * 1.12)
    ax.set_ylabel("Crude exports, thousand barrels per day (kb/d)")
    ax.yaxis.set_major_formatter(mticker.StrMethodFormatter("{x:,.0f}"))
    _month_axis(ax, start, end)
    fig.legend([line_iraq, somo, line_iran, kurdistan, *handles], [h.get_label() for h in (line_iraq, somo, line_iran, kurdistan, *handles)],
               loc="lower center", ncol=3, fontsize=8, frameon=False)
    return {"months": len(rows), "iraq_months": int(rows["iraq_kbd"].notna().sum()),
            "iran_months": int(rows["iran_kbd"].notna().sum()), "pipeline_periods": len(periods),
            "halted_periods": int((periods["status"] == "halted").sum()) if len(periods) else 0}


def draw_banks_barred(con: duckdb.DuckDBPyConnection, fig: Figure, present: set[str]) -> dict:
    _require(present, "marts.fct_iraq_compliance_monthly")
    rows = con.execute("""
        select month, banks_barred_cumulative, institutions_barred_cumulative, new_institutions_barred,
               new_banks_barred, new_payment_firms_barred, licensed_banks_denominator
        from marts.fct_iraq_compliance_monthly order by month
    """).df()
    if rows.empty:
        raise NoData("marts.fct_iraq_compliance_monthly has no rows")
    waves = rows[rows["new_institutions_barred"] > 0]
    first = pd.Timestamp(waves["month"].min() if len(waves) else rows["month"].min())
    shown = rows[pd.to_datetime(rows["month"]) >= first - pd.DateOffset(months=12)]
    shown = pd.concat([shown, shown.tail(1).assign(month=pd.Timestamp(shown["month"].max()) + pd.DateOffset(months=1))])
    month = pd.to_datetime(shown["month"])  # one more point: the last month's step runs to its end
    ax = fig.add_subplot()
    ax.step(month, shown["institutions_barred_cumulative"], where="post", color=COMPLIANCE, linewidth=1.4,
            linestyle="--", label="Banks and payment firms barred")
    ax.step(month, shown["banks_barred_cumulative"], where="post", color=COMPLIANCE, linewidth=2.4, label="Banks barred")
    for wave in waves.itertuples():
        parts = f"{wave.new_banks_barred} banks" + (f", {wave.new_payment_firms_barred} payment firms"
                                                     if wave.new_payment_firms_barred else "")
        ax.annotate(f"+{wave.new_institutions_barred} in {_month(wave.month)}\n({parts})",
                    (pd.Timestamp(wave.month), wave.institutions_barred_cumulative), xytext=(-6, 8),
                    textcoords="offset points", ha="right", va="bottom", fontsize=8)
    top = int(rows["institutions_barred_cumulative"].max())
    ax.set_ylim(0, max(top * 1.3, 5))
    ax.set_ylabel("Institutions barred, cumulative (count)")
    denominator = int(rows["licensed_banks_denominator"].iloc[-1])
    share = ax.secondary_yaxis("right", functions=(lambda banks: banks / denominator * 100,
                                                   lambda pct: pct * denominator / 100))
    share.set_ylabel(f"Banks barred, % of {denominator} licensed banks")
    _month_axis(ax, month.min(), month.max())
    fig.legend(loc="lower center", ncol=2, fontsize=8, frameon=False)
    announced = [a for (a,) in con.execute("""
        select distinct announced_by from marts.fct_iraqi_bank_restrictions
        where action_type = 'usd_access_barred' and announced_by is not null order by 1
    """).fetchall()] if "marts.fct_iraqi_bank_restrictions" in present else []
    last = rows.iloc[-1]
    facts = {"months": len(rows), "waves": len(waves), "last_month": _month(last["month"]),
             "banks_barred": int(last["banks_barred_cumulative"]),
             "institutions_barred": int(last["institutions_barred_cumulative"])}
    if announced:
        facts["publishers"] = ("register of Iraqi institutions barred from dollars at the request of the US Treasury and "
                               f"the Federal Reserve Bank of New York, as announced by {', '.join(announced)}")
    return facts


BASES = {  # how the imports figure was obtained: legend label, colour, hatch
    "reported": ("Iraq's own report", "#1f77b4", None),
    "estimate": ("Iraq's figure as estimated by the IMF", "#9ecae1", "//"),
    "mirror": ("Iran's report of its exports to Iraq (mirror, FOB)", "#fdae6b", "xx"),
}


def draw_iraq_imports(con: duckdb.DuckDBPyConnection, fig: Figure, present: set[str]) -> dict:
    _require(present, "marts.fct_iraq_iran_trade_monthly")
    rows = con.execute("""
        select
            month,
            iraq_imports_from_iran_usd / 1e6 as imports_musd,
            case when iraq_imports_is_mirror then 'mirror' when iraq_imports_is_estimate then 'estimate'
                 when iraq_imports_from_iran_usd is not null then 'reported' end as basis,
            iraq_energy_imports_from_iran_usd / 1e6 as energy_musd,
            coalesce(energy_is_mirror, false) as energy_is_mirror
        from marts.fct_iraq_iran_trade_monthly
        where iraq_imports_from_iran_usd is not null or iraq_energy_imports_from_iran_usd is not null
        order by month
    """).df()
    if rows.empty:
        raise NoData("marts.fct_iraq_iran_trade_monthly has no month with Iraq's imports from Iran")
    ax = fig.add_subplot()
    month = pd.to_datetime(rows["month"])
    for basis, (label, colour, hatch) in BASES.items():
        part = rows["basis"] == basis
        if part.any():
            ax.bar(month[part], rows.loc[part, "imports_musd"], width=22, color=colour, hatch=hatch, edgecolor="0.25",
                   linewidth=0.6, label=f"All goods: {label}")
    energy = rows["energy_musd"].notna()
    own = energy & ~rows["energy_is_mirror"]
    mirror = energy & rows["energy_is_mirror"]
    if own.any():
        ax.scatter(month[own], rows.loc[own, "energy_musd"], marker="D", s=36, color="#6a3d9a", zorder=3,
                   label="Gas and electricity (HS 2711, 2716): Iraq's report")
    if mirror.any():
        ax.scatter(month[mirror], rows.loc[mirror, "energy_musd"], marker="D", s=36, facecolor="white",
                   edgecolor="#6a3d9a", linewidth=1.5, zorder=3, label="Gas and electricity: Iran's mirror figure")
    top = float(rows[["imports_musd", "energy_musd"]].max().max())
    ax.set_ylim(0, top * 1.15)
    ax.set_ylabel("Iraq's imports from Iran, USD million per month")
    ax.yaxis.set_major_formatter(mticker.StrMethodFormatter("{x:,.0f}"))
    _month_axis(ax, month.min() - pd.DateOffset(months=1), month.max() + pd.DateOffset(months=1))
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: not labels[i].startswith("All goods"))  # the bars first
    fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower center", ncol=2, fontsize=8,
               frameon=False)
    counts = rows["basis"].value_counts()
    return {"months": len(rows), **{f"{basis}_months": int(counts.get(basis, 0)) for basis in BASES},
            "energy_months": int(energy.sum()), "energy_mirror_months": int(mirror.sum())}


OUTCOME_UNITS = {  # panel title, x-axis unit, scale from the mart's unit
    "compliance_index": ("Compliance index", "index points", 1.0),
    "new_institutions_barred": ("Institutions barred", "institutions per month", 1.0),
    "iraq_imports_from_iran_usd": ("Iraq's imports from Iran", "USD million per month", 1e-6),
    "iran_share_of_iraq_imports": ("Iran's share of Iraq's imports", "percentage points", 100.0),
    "iraq_energy_imports_from_iran_usd": ("Gas and electricity from Iran", "USD million per month", 1e-6),
    "krg_pipeline_active_days": ("Kurdistan pipeline active", "days per month", 1.0),
    "iraq_crude_exports_kbd": ("Iraq's crude exports", "kb/d", 1.0),
}
WINDOW_STYLE = {3: ("#1f77b4", "o", -0.17), 6: ("#d62728", "s", 0.17)}


def draw_event_study(con: duckdb.DuckDBPyConnection, fig: Figure, present: set[str]) -> dict:
    _require(present, "marts.rpt_event_study")
    rows = con.execute("""
        select event_type, event_date, event_title, outcome, window_months, difference, ci_low, ci_high
        from marts.rpt_event_study order by event_date, event_type, outcome, window_months
    """).df()
    estimated = rows[rows["difference"].notna()]
    if estimated.empty:
        raise NoData("marts.rpt_event_study has no rows" if rows.empty else
                     "marts.rpt_event_study has no difference (too few months of data around every key event)")
    outcomes = [o for o in (*OUTCOMES, *sorted(set(rows["outcome"]) - set(OUTCOMES))) if o in set(estimated["outcome"])]
    without = [o for o in dict.fromkeys(rows["outcome"]) if o not in outcomes]
    events = rows[["event_type", "event_date", "event_title"]].drop_duplicates().reset_index(drop=True)
    labels = [f"{_event_label(e.event_type, e.event_title)}\n{pd.Timestamp(e.event_date):%Y-%m-%d}" for e in events.itertuples()]
    columns = 3 if len(outcomes) > 4 else len(outcomes)
    axes = fig.subplots(math.ceil(len(outcomes) / columns), columns, sharey=True, squeeze=False)
    for ax in axes.flat[len(outcomes):]:
        ax.set_axis_off()
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        title, unit, scale = OUTCOME_UNITS.get(outcome, (outcome, "outcome units", 1.0))
        part = rows[rows["outcome"] == outcome]
        for position, event in enumerate(events.itertuples()):
            mine = part[(part["event_type"] == event.event_type) & (part["event_date"] == event.event_date)]
            if mine["difference"].isna().all():
                ax.text(0.5, position, "no estimate", transform=ax.get_yaxis_transform(), ha="center", va="center",
                        fontsize=7, color="0.4", bbox={"facecolor": "white", "edgecolor": "none", "pad": 1}, zorder=3)
            for row in mine[mine["difference"].notna()].itertuples():
                colour, marker, offset = WINDOW_STYLE.get(row.window_months, ("0.3", "^", 0.0))
                value, low, high = row.difference * scale, row.ci_low * scale, row.ci_high * scale
                ax.errorbar(value, position + offset, xerr=[[max(value - low, 0)], [max(high - value, 0)]], fmt=marker,
                            color=colour, markersize=4.5, capsize=2.5, linewidth=1.2)
        ax.axvline(0, color="0.2", linewidth=0.8)
        ax.set_title(title, fontsize=9.5)
        ax.set_xlabel(f"After − before, {unit}", fontsize=8)
        ax.tick_params(axis="x", labelsize=7.5)
        ax.grid(axis="x", color="0.9", linewidth=0.8)
        ax.set_axisbelow(True)
    axes[0][0].set_ylim(len(events) - 0.5, -0.5)  # the first event on top
    axes[0][0].set_yticks(range(len(events)), labels, fontsize=7.5)
    for row in axes:
        row[0].tick_params(axis="y", labelsize=7.5)
    handles = [Line2D([], [], color=c, marker=m, linewidth=1.2, markersize=4.5) for c, m, _ in WINDOW_STYLE.values()]
    legend = [f"{w}-month windows: difference of means and its 95% block-bootstrap interval" for w in WINDOW_STYLE]
    if without:
        handles.append(Line2D([], [], linestyle="none"))
        legend.append("No estimate at all (too few months): " + ", ".join(OUTCOME_UNITS.get(o, (o,))[0] for o in without))
    fig.legend(handles, legend, loc="lower center", ncol=1 if without else 2, fontsize=8, frameon=False)
    return {"rows": len(rows), "rows_with_difference": len(estimated), "outcomes_shown": outcomes,
            "outcomes_without_estimate": without, "key_events": len(events)}


CHARTS = (
    Chart(
        file="pressure_compliance.png",
        title="US pressure on Iraq over Iran, and Iraq's compliance, by month",
        caption=("The pressure index (US acts: Iraq- and Iran-nexus designations, Federal Register actions, FinCEN 311 "
                 "steps, presidential actions, the withdrawal of the electricity waiver, warnings) and the compliance "
                 "index (Iraq's acts: institutions barred from dollars, falls in imports from Iran, in Iran's share and in "
                 "energy imports, the Kurdistan pipeline's restart, enforcement), each 100 x the mean of its component "
                 "scores in [0, 1]. Thin lines: monthly; thick lines: 3-month means. A month with fewer than two scored "
                 "components has no index (a gap). Dotted lines: the key events of the event study (NSPM-2, the "
                 "waiver's lapse, each bank-ban wave)."),
        tables=("marts.rpt_pressure_vs_compliance (month, pressure_index, compliance_index, pressure_index_3m, "
                "compliance_index_3m); marts.fct_sanctions_events (event_type, event_date, title of the key events)"),
        publishers=("OFAC (SDN list, advanced XML, publication history), Federal Register, FinCEN, US State Department, "
                    "The White House (NSPM-2); IMF IMTS, UN Comtrade; curated registers of bank bans and the Kurdistan "
                    "pipeline (official statements and news reports, one source URL per row)"),
        sample_sources=("ofac", "federal_register", "imf", "comtrade"),
        size=SIZE,
        draw=draw_pressure_compliance,
    ),
    Chart(
        file="crude_exports.png",
        title="Crude oil exports of Iraq and Iran, with the Kurdistan pipeline's status",
        caption=("Each country's best monthly crude export estimate in thousand barrels per day: for Iraq the total "
                 "published by SOMO (hollow circles) where there is one, else JODI; for Iran JODI. Bars: Kurdistan's exports via "
                 "Ceyhan, where published. Shaded: the Kirkuk–Ceyhan pipeline halted, from the pipeline register; "
                 "hatched: months after the register's last confirmation of the pipeline's status. A gap is a month "
                 "without a figure (JODI's markers stay missing, never zero)."),
        tables=("marts.fct_oil_monthly (month, country_iso3, exports_kbd, exports_source, krg_exports_kbd); "
                "raw.krg_pipeline_status (period_start, period_end, status, last_confirmed)"),
        publishers=("JODI Oil World Database; SOMO (Iraq's State Oil Marketing Organization), from Ministry of Oil "
                    "statements; pipeline register: Reuters, Iraq's Ministry of Oil, The New Region"),
        sample_sources=("jodi",),
        size=SIZE,
        draw=draw_crude_exports,
    ),
    Chart(
        file="banks_barred.png",
        title="Iraqi banks barred from US-dollar transactions, cumulative",
        caption=("Iraqi banks (solid) and banks plus payment firms (dashed) barred from US-dollar transactions at the "
                 "request of the US Treasury and the Federal Reserve Bank of New York, cumulative at each month's end, "
                 "with the size of each wave; the right axis gives the banks as a share of Iraq's licensed banks. These "
                 "are not OFAC designations, and none is known to have regained dollar access."),
        tables=("marts.fct_iraq_compliance_monthly (month, banks_barred_cumulative, institutions_barred_cumulative, "
                "new_institutions_barred, new_banks_barred, new_payment_firms_barred, licensed_banks_denominator); "
                "marts.fct_iraqi_bank_restrictions (announced_by)"),
        publishers="curated register of Iraqi institutions barred from dollars (Central Bank of Iraq, news reports)",
        sample_sources=(),
        size=SIZE,
        draw=draw_banks_barred,
    ),
    Chart(
        file="iraq_imports_from_iran.png",
        title="Iraq's imports from Iran: reported, estimated or mirrored",
        caption=("Iraq's imports of goods from Iran in USD million per month, the warehouse's best figure: Iraq's own "
                 "report first, then Iraq's figure as estimated by the IMF (hatched), then Iran's report of its exports "
                 "to Iraq (a mirror figure, cross-hatched; valued FOB, so a few percent below Iraq's CIF). Diamonds: "
                 "the gas and electricity part (HS 2711, 2716), hollow where it is Iran's mirror figure."),
        tables=("marts.fct_iraq_iran_trade_monthly (month, iraq_imports_from_iran_usd, iraq_imports_is_mirror, "
                "iraq_imports_is_estimate, iraq_energy_imports_from_iran_usd, energy_is_mirror)"),
        publishers="IMF International Trade in Goods by partner (IMTS); UN Comtrade (partner-reported trade)",
        sample_sources=("imf", "comtrade"),
        size=SIZE,
        draw=draw_iraq_imports,
    ),
    Chart(
        file="event_study.png",
        title="Event study: Iraq's compliance outcomes after each key event",
        caption=("For each key event and compliance outcome: the mean of the months after (the event's month and the "
                 "w-1 months after it) minus the mean of the w months before, for windows of 3 and 6 months, with 95% "
                 "circular block-bootstrap intervals. An interval that crosses zero is no evidence of a change. Events "
                 "inside each other's windows (NSPM-2, the 2025-02 bank-ban wave and the waiver's lapse fall within five "
                 "weeks) cannot be told apart (rpt_event_study.other_key_events_in_window names them)."),
        tables=("marts.rpt_event_study (event_type, event_date, event_title, outcome, window_months, difference, "
                "ci_low, ci_high)"),
        publishers=("computed by the warehouse from the compliance inputs: the bank-ban register, IMF IMTS, UN Comtrade, "
                    "JODI, SOMO and the Kurdistan pipeline register; key events: The White House, US State Department"),
        sample_sources=("imf", "comtrade", "jodi"),
        size=TALL,
        draw=draw_event_study,
    ),
)


def _frame(fig: Figure, chart: Chart, publishers: str, sample: bool, run_id: str) -> None:
    """Title, then at the bottom, stacked upwards: the source line, the SAMPLE flag and the chart's
    legend (placed here, measured, so nothing overlaps); the layout engine keeps that band free."""
    fig.suptitle(chart.title, fontsize=13, fontweight="bold")
    renderer = FigureCanvasAgg(fig).get_renderer()
    pad = 4 / 72 * fig.dpi  # 4 points, in pixels
    source = "\n".join(textwrap.wrap(f"Sources: {publishers}. Tables: {chart.tables}. Run {run_id}.", 178))
    placed = [fig.text(0.008, 0.006, source, fontsize=7, color="0.25", ha="left", va="bottom", linespacing=1.3)]
    if sample:
        placed.append(fig.text(0.008, 0, "SAMPLE DATA: built from the bundled sample; illustrative figures, not "
                               "publications", fontsize=8.5, color=SAMPLE_RED, fontweight="bold", ha="left", va="bottom"))
    placed.extend(fig.legends)
    bottom = 0.006 * fig.bbox.height
    for artist in placed:
        if artist in fig.legends:
            artist.set_bbox_to_anchor((0.5, bottom / fig.bbox.height), transform=fig.transFigure)  # its loc: lower center
        else:
            artist.set_y(bottom / fig.bbox.height)
        bottom += artist.get_window_extent(renderer).height + pad
    band = bottom / fig.bbox.height
    fig.get_layout_engine().set(rect=(0, band, 1, 1 - band))


def _save_png(fig: Figure, path: Path) -> None:
    """A 256-colour palette PNG of the figure's Agg pixels: the same picture at about a third of an
    RGBA PNG's size, which keeps the charts embedded in the Dagster UI's metadata small. zlib's
    default level, not PIL's `optimize`: the five sample charts are 7% larger (182 KB against 169 KB)
    and written in 31 ms rather than 212 ms."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    with Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        palette.save(path, format="PNG")


def _draw_empty(fig: Figure, reason: str) -> None:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, f"NO DATA TO CHART\n{reason}", ha="center", va="center", fontsize=14, color="0.3",
            transform=ax.transAxes, wrap=True)


def sample_sources(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[str]:
    """The sources whose loaded files are the bundled sample (meta.source_loads.is_sample)."""
    if "meta.source_loads" not in present:
        return []
    return [s for (s,) in con.execute(
        "select distinct source from meta.source_loads where is_sample order by 1").fetchall()]


def render_report(con: duckdb.DuckDBPyConnection, folder: Path, *, run_id: str, published_at: datetime) -> dict:
    """Write the five charts and index.html into `folder`. Returns what was rendered: per chart its
    file, title, whether it had data (with the reason when not) and the facts it plotted."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    present = tables_in(con)
    samples = sample_sources(con, present)
    rendered = []
    for chart in CHARTS:
        fig = Figure(figsize=chart.size, dpi=DPI, layout="constrained")
        try:
            facts, note = chart.draw(con, fig, present), None
        except NoData as empty:
            fig.clear()
            facts, note = {}, str(empty)
            _draw_empty(fig, note)
        sample = any(source in samples for source in chart.sample_sources)
        publishers = facts.pop("publishers", chart.publishers)
        _frame(fig, chart, publishers, sample, run_id)
        _save_png(fig, folder / chart.file)
        width, height = (round(side * DPI) for side in chart.size)
        rendered.append({"file": chart.file, "title": chart.title, "has_data": note is None, "note": note,
                         "is_sample": sample, "pixels": [width, height], "publishers": publishers, "facts": facts})
    figures = key_figures(con, present)
    (folder / "index.html").write_text(_html(rendered, figures, run_id=run_id, published_at=published_at, samples=samples),
                                       encoding="utf-8")
    return {"folder": str(folder), "html": "index.html", "is_sample": bool(samples), "sample_sources": samples,
            "charts": rendered, "key_figures": figures}


# -- the static report ---------------------------------------------------------------------
def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple | None:
    return con.execute(sql).fetchone()


def key_figures(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[dict]:
    """A few figures for the report's table, each with the table it is read from (left out when its
    table is not in this version, or has no row for it)."""
    figures = []

    def add(label: str, value: str, source: str) -> None:
        figures.append({"label": label, "value": value, "from": source})

    if "marts.rpt_pressure_vs_compliance" in present:
        for column, label in (("pressure_index", "Highest pressure index"), ("compliance_index", "Highest compliance index")):
            row = _one(con, f"select month, {column} from marts.rpt_pressure_vs_compliance "
                            f"where {column} is not null order by {column} desc, month desc limit 1")
            if row:
                add(label, f"{row[1]:.1f} in {_month(row[0])}", f"marts.rpt_pressure_vs_compliance.{column}")
    if "marts.fct_sanctions_events" in present:
        count = _one(con, f"select count(*) from ({KEY_EVENTS_SQL})")[0]
        add("Key events marked", f"{count}", "marts.fct_sanctions_events")
    if "marts.fct_iraq_compliance_monthly" in present:
        row = _one(con, "select month, banks_barred_cumulative, institutions_barred_cumulative, "
                        "share_of_licensed_banks_barred, licensed_banks_denominator "
                        "from marts.fct_iraq_compliance_monthly order by month desc limit 1")
        if row:
            add(f"Banks barred from dollars, to {_month(row[0])}",
                f"{row[1]} banks ({row[3]:.0%} of {row[4]} licensed); {row[2]} with payment firms",
                "marts.fct_iraq_compliance_monthly")
    if "marts.fct_iraq_iran_trade_monthly" in present:
        row = _one(con, "select month, iraq_imports_from_iran_usd, iraq_imports_is_mirror, iraq_imports_is_estimate, "
                        "iran_share_of_iraq_imports from marts.fct_iraq_iran_trade_monthly "
                        "where iraq_imports_from_iran_usd is not null order by month desc limit 1")
        if row:
            basis = "Iran's mirror figure" if row[2] else "IMF estimate" if row[3] else "Iraq's report"
            share = f"; Iran's share of Iraq's imports {row[4]:.1%}" if row[4] is not None else ""
            add(f"Iraq's imports from Iran, {_month(row[0])}", f"USD {row[1] / 1e6:,.0f} million ({basis}){share}",
                "marts.fct_iraq_iran_trade_monthly")
    if "marts.fct_oil_monthly" in present:
        for iso3, name in (("IRQ", "Iraq's"), ("IRN", "Iran's")):
            row = _one(con, f"select month, exports_kbd, exports_source from marts.fct_oil_monthly "
                            f"where country_iso3 = '{iso3}' and exports_kbd is not null order by month desc limit 1")
            if row:
                add(f"{name} crude exports, {_month(row[0])}", f"{row[1]:,.0f} kb/d ({(row[2] or '').upper()})",
                    "marts.fct_oil_monthly")
    if "raw.krg_pipeline_status" in present:
        row = _one(con, "select status, period_start, last_confirmed from raw.krg_pipeline_status "
                        "order by period_start desc limit 1")
        if row:
            add("Kurdistan pipeline (Kirkuk–Ceyhan)", f"{row[0]} since {row[1]:%Y-%m-%d}, last confirmed {row[2]:%Y-%m-%d}",
                "raw.krg_pipeline_status")
    if "marts.rpt_event_study" in present:
        row = _one(con, "select count(*), count(difference), count(*) filter (where ci_low > 0 or ci_high < 0) "
                        "from marts.rpt_event_study")
        add("Event-study estimates", f"{row[1]} of {row[0]} rows have a difference; {row[2]} intervals exclude zero",
            "marts.rpt_event_study")
    return figures


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1140px;
       margin: 2em auto; padding: 0 1em; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 2em; border-top: 1px solid #ddd; padding-top: 1em; }
.sample { border: 2px solid #b00020; background: #fff3f4; color: #5a0010; padding: 0.6em 1em; }
.empty { border: 2px solid #8a6d00; background: #fffbe6; padding: 0.4em 1em; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
.from, .sources { font-size: 0.9em; color: #444; }
code { font-size: 0.92em; }
"""


def _html(charts: list[dict], figures: list[dict], *, run_id: str, published_at: datetime, samples: list[str]) -> str:
    e = html.escape
    when = published_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    by_file = {c.file: c for c in CHARTS}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Iraq–Iran sanctions warehouse: report of run {e(run_id)}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Iraq–Iran sanctions warehouse: charts of the published version</h1>",
        f"<p>Version of run <code>{e(run_id)}</code>, published at {e(when)}. The figures below are read from that "
        "version's <code>warehouse.duckdb</code> (the same tables are in <code>parquet/&lt;run_id&gt;/</code>).</p>",
    ]
    if samples:
        parts.append(f'<p class="sample"><strong>SAMPLE.</strong> {e(SAMPLE_NOTE)} Inputs from the bundled sample: '
                     f"{e(', '.join(samples))}.</p>")
    if figures:
        parts.append("<h2>Key figures</h2><table><tr><th>figure</th><th>value</th><th>from</th></tr>")
        parts.extend(f"<tr><td>{e(f['label'])}</td><td>{e(f['value'])}</td><td><code>{e(f['from'])}</code></td></tr>"
                     for f in figures)
        parts.append("</table>")
    for chart in charts:
        spec = by_file[chart["file"]]
        width, height = chart["pixels"]
        parts.append(f'<h2 id="{e(chart["file"].removesuffix(".png"))}">{e(chart["title"])}</h2>')
        if not chart["has_data"]:
            parts.append(f'<p class="empty"><strong>No data:</strong> {e(chart["note"])}</p>')
        parts.append(f'<p><img src="{e(chart["file"])}" alt="{e(chart["title"])}" width="{width}" height="{height}"></p>')
        parts.append(f"<p>{e(spec.caption)}</p>")
        parts.append(f'<p class="from">From: <code>{e(spec.tables)}</code></p>')
        sample = " Its inputs include the bundled SAMPLE." if chart["is_sample"] else ""
        parts.append(f'<p class="sources">Sources: {e(chart["publishers"])}.{e(sample)}</p>')
    parts.append('<p class="from">Rendered by the publish step (orchestration/charts.py) when the version was published; '
                 "this folder opens from disk, without a server.</p></body></html>")
    return "\n".join(parts) + "\n"
