"""IMF International Trade in Goods by partner (IMTS, successor of DOTS) over SDMX-CSV, keyless.

One request per series key, each landed as its own file named after the key:

    GET https://api.imf.org/external/sdmx/2.1/data/IMF.STA,IMTS/{COUNTRY}.{INDICATOR}.{COUNTERPART}.M?startPeriod=2015
    Accept: application/vnd.sdmx.data+csv;version=1.0.0
    landed (and read in directory mode) as  <dir>/imf/IMTS_{COUNTRY}.{INDICATOR}.{COUNTERPART}.M.csv

e.g. `IMTS_IRQ.MG_CIF_USD.IRN.M.csv` (Iraq's imports from Iran). The keys: Iraq with Iran and
with the World (`G001`), Iran with Iraq, and the World and Iraq's main partners (TUR, CHN, IND,
ARE, KOR, USA) with Iraq, each for imports (`MG_CIF_USD`) and exports (`XG_FOB_USD`).

The publisher's format (DOMAIN.md 2.3): SDMX-CSV 1.0 with the header
`DATAFLOW,COUNTRY,INDICATOR,COUNTERPART_COUNTRY,FREQUENCY,TIME_PERIOD,OBS_VALUE,SCALE,PRECISION,
DECIMALS_DISPLAYED,TRADE_FLOW,VALUATION,UNIT,DERIVATION_TYPE,OVERLAP,STATUS`; monthly periods
look like `2025-M01`; OBS_VALUE is in whole US dollars (SCALE is for display only). Columns are
read by name; a missing or unknown column, an SDMX-ML (XML) answer where CSV was asked for, a
series that is not the one requested, a period in the future, or the same observation twice
each stop the run. DERIVATION_TYPE and STATUS are kept as published: most Iraq and Iran figures
are IMF estimates built from partner reports, and the marts say so.

The twenty answers are read together, in one DuckDB statement, and their rows checked in SQL
(`parse`); when anything is wrong they are read again one by one (`read_imts_csv`), whose error
names the file and the cause.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.errors import FetchError, FormatError
from orchestration.landing import LandedFile, LandingZone
from orchestration.settings import LIVE, SourceMode
from orchestration.sources.base import (
    PROVENANCE_TYPES,
    LiveAccess,
    PublisherFile,
    RawTable,
    Source,
    count_lines,
    with_provenance,
)

SOURCE = "imf"
PROVENANCE = tuple(PROVENANCE_TYPES)  # the columns every parsed row carries after the data
API = "https://api.imf.org/external/sdmx/2.1/data/IMF.STA,IMTS"
ACCEPT = "application/vnd.sdmx.data+csv;version=1.0.0"
START_PERIOD = "2015"
FREQUENCY = "M"
WORLD = "G001"  # IMF's code for the World as counterpart or reporter

IMPORTS = "MG_CIF_USD"
EXPORTS = "XG_FOB_USD"
MAIN_PARTNERS = ("TUR", "CHN", "IND", "ARE", "KOR", "USA")

# SDMX-CSV columns as documented, with the raw table's names and types (read by name, any order).
COLUMNS = {
    "DATAFLOW": ("dataflow", "VARCHAR"),
    "COUNTRY": ("country", "VARCHAR"),
    "INDICATOR": ("indicator", "VARCHAR"),
    "COUNTERPART_COUNTRY": ("counterpart_country", "VARCHAR"),
    "FREQUENCY": ("frequency", "VARCHAR"),
    "TIME_PERIOD": ("time_period", "VARCHAR"),
    "OBS_VALUE": ("obs_value", "DOUBLE"),
    "SCALE": ("scale", "VARCHAR"),
    "PRECISION": ("precision", "VARCHAR"),
    "DECIMALS_DISPLAYED": ("decimals_displayed", "VARCHAR"),
    "TRADE_FLOW": ("trade_flow", "VARCHAR"),
    "VALUATION": ("valuation", "VARCHAR"),
    "UNIT": ("unit", "VARCHAR"),
    "DERIVATION_TYPE": ("derivation_type", "VARCHAR"),
    "OVERLAP": ("overlap", "VARCHAR"),
    "STATUS": ("status", "VARCHAR"),
}
KEY = ("country", "indicator", "counterpart_country", "frequency", "time_period")
MONTHLY_PERIOD = re.compile(r"^(\d{4})-M(0[1-9]|1[0-2])$")
TABLE = "imf_imts_trade"

# The raw table's data columns from the SDMX-CSV's text, an empty cell being NULL.
SELECTED = ", ".join(f"cast(nullif(trim(\"{column}\"), '') as {kind}) as {raw}" for column, (raw, kind) in COLUMNS.items())
# How every answer is read: its header line is checked in Python first, then skipped; `$columns`
# names the columns in the file's order.
CSV_OPTIONS = """header = true, columns = $columns, delim = ',', quote = '"',
                          escape = '"', auto_detect = false, strict_mode = true"""
# `_check_rows` as one SQL condition over the raw columns: TRUE for every row it refuses (and for a
# period in digits other than ASCII's, which it takes). `$keys[file_index]` is the series key the
# row's file was requested for, `$this_month` this month as a period ('2025-M01'). `\n?`: like
# Python's `$`, MONTHLY_PERIOD takes a newline at the end; year 0 makes Python's `date` fail.
ROW_IS_BAD = r"""coalesce(
        concat_ws('.', coalesce(country, 'None'), coalesce(indicator, 'None'), coalesce(counterpart_country, 'None'),
                  coalesce(frequency, 'None')) is distinct from $keys[file_index]
        or not starts_with(coalesce(dataflow, ''), 'IMF.STA:IMTS')
        or not regexp_full_match(coalesce(time_period, ''), '\d{4}-M(0[1-9]|1[0-2])\n?')
        or time_period[1:4] = '0000'
        or time_period[1:8] > $this_month
        or unit is distinct from 'USD', true)"""


@dataclass(frozen=True)
class SeriesQuery:
    """One IMTS series key: who reports, which flow, with whom."""

    country: str
    indicator: str
    counterpart: str
    frequency: str = FREQUENCY

    @property
    def key(self) -> str:
        return f"{self.country}.{self.indicator}.{self.counterpart}.{self.frequency}"

    @property
    def file_name(self) -> str:
        return f"IMTS_{self.key}.csv"

    @property
    def path(self) -> str:
        return f"{self.key}?startPeriod={START_PERIOD}"


def _queries() -> tuple[SeriesQuery, ...]:
    pairs = [("IRQ", "IRN"), ("IRN", "IRQ"), ("IRQ", WORLD)]
    pairs += [(partner, "IRQ") for partner in (WORLD, *MAIN_PARTNERS)]
    return tuple(SeriesQuery(c, i, p) for c, p in pairs for i in (IMPORTS, EXPORTS))


QUERIES = _queries()
QUERY_BY_FILE = {q.file_name: q for q in QUERIES}
FILES = tuple(PublisherFile(q.file_name, q.path, "csv") for q in QUERIES)
TABLES = (
    RawTable(
        TABLE,
        "IMF IMTS monthly goods trade of Iraq and Iran with each other, Iraq's totals, and partners' "
        "reports on Iraq (SDMX-CSV), one row per series and month, DERIVATION_TYPE / STATUS kept",
        KEY,
        tuple(q.file_name for q in QUERIES),
    ),
)


class ImfSource(Source):
    """Keyless SDMX: the base landing, plus the Accept header that asks for SDMX-CSV."""

    def land(self, zone: LandingZone, mode: SourceMode, live: LiveAccess | None) -> dict[str, LandedFile]:
        if mode.kind != LIVE:
            return _explain_xml(lambda: super(ImfSource, self).land(zone, mode, live))
        if live is None:
            raise FetchError(self.name, "IMTS", "live mode needs an HTTP session")
        landed: dict[str, LandedFile] = {}
        for spec in self.files:
            landed[spec.name] = _explain_xml(
                lambda spec=spec: zone.land_url(
                    live.session, self.name, spec.name, self.url_of(spec, live), "csv", headers={"Accept": ACCEPT}
                )
            )
        return landed


def _explain_xml(fetch):
    """An SDMX-ML answer where SDMX-CSV was asked for gets a cause that says so."""
    try:
        return fetch()
    except FormatError as exc:
        if "XML" not in exc.cause:
            raise
        raise FormatError(
            SOURCE,
            exc.subject,
            f"the SDMX answer is SDMX-ML (XML), but SDMX-CSV was requested (Accept: {ACCEPT}); "
            f"the API ignored the Accept header or sent an XML error message ({exc.cause})",
        ) from None


def read_imts_csv(landed: LandedFile, con: duckdb.DuckDBPyConnection) -> pa.Table:
    """One landed SDMX-CSV answer as rows of the raw table (provenance included), read with `con`
    (a DuckDB connection costs about 20 ms to open: a parse of twenty answers shares one)."""
    name = landed.name
    query = QUERY_BY_FILE.get(name)
    if query is None:
        raise FormatError(SOURCE, name, "is not one of the IMTS series files this source requests")
    header = _header(landed.path, name)
    mismatch = _header_mismatch(header)
    if mismatch:
        raise FormatError(SOURCE, name, mismatch)
    try:
        table = con.sql(
            f"""
            select {SELECTED}, $file::varchar as source_file
            from read_csv($path, {CSV_OPTIONS})
            """,
            params={"path": str(landed.path), "columns": {column: "VARCHAR" for column in header}, "file": name},
        ).fetch_arrow_table()
        table = with_provenance(table, {name: landed})
    except duckdb.Error as exc:
        detail = " ".join(line.strip() for line in str(exc).strip().splitlines()[:3])
        raise FormatError(SOURCE, name, f"is not valid IMTS SDMX-CSV: {detail}") from None
    _check_rows(table, query, name)
    return table


def _header(path: Path, name: str) -> list[str]:
    with open(path, "rb") as handle:
        first = handle.readline(1 << 16).decode("utf-8-sig").strip()
    return [c.strip().strip('"') for c in first.split(",")] if first else []


def _header_mismatch(header: list[str]) -> str | None:
    """Why `header` is not IMTS's documented columns (in any order), or None when it is."""
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        return (
            f"SDMX-CSV header does not match IMTS's documented columns: missing {missing or 'none'}, "
            f"unknown {unknown or 'none'}"
        )
    return None


def _check_rows(table: pa.Table, query: SeriesQuery, name: str) -> None:
    rows = table.select(["dataflow", "country", "indicator", "counterpart_country", "frequency", "time_period", "unit"])
    this_month = date.today().replace(day=1)
    for dataflow, country, indicator, counterpart, frequency, period, unit in zip(*(c.to_pylist() for c in rows.columns)):
        got = f"{country}.{indicator}.{counterpart}.{frequency}"
        if got != query.key:
            raise FormatError(SOURCE, name, f"holds series {got}, but {query.key} was requested")
        if not (dataflow or "").startswith("IMF.STA:IMTS"):
            raise FormatError(SOURCE, name, f"DATAFLOW is {dataflow!r}, not IMF.STA:IMTS")
        match = MONTHLY_PERIOD.match(period or "")
        if not match:
            raise FormatError(SOURCE, name, f"TIME_PERIOD {period!r} is not a monthly period like 2025-M01")
        if date(int(match.group(1)), int(match.group(2)), 1) > this_month:
            raise FormatError(SOURCE, name, f"TIME_PERIOD {period} is in the future (today is {date.today()})")
        if unit != "USD":
            raise FormatError(SOURCE, name, f"UNIT is {unit!r} in {period}, expected USD")


def parse(landed: Mapping[str, LandedFile]) -> dict[str, pa.Table]:
    """Every landed IMTS series as one raw table; the same observation twice is an error.

    The answers are read together and checked in SQL (`_read_together`). When that finds anything
    wrong they are read again one by one as `read_imts_csv` reads them, in file name order, whose
    error names the file and the cause; should that find nothing wrong, the run stops all the same.
    """
    if not landed:
        raise FormatError(SOURCE, "IMTS", "no series files were landed")
    files = [landed[name] for name in sorted(landed)]
    con = duckdb.connect()
    try:
        table, finding = _read_together(files, con)
        if table is None:
            table = _read_one_by_one(files, con)
            if finding:
                raise FormatError(
                    SOURCE,
                    "IMTS",
                    f"reading the answers together found {finding}, but reading them one by one found nothing "
                    "wrong; refused rather than loaded half-checked (a bug in orchestration/sources/imf.py)",
                )
    finally:
        con.close()
    return {TABLE: table}


def _read_one_by_one(files: list[LandedFile], con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The answers read and checked one at a time, then together: the first error found is raised."""
    table = pa.concat_tables([read_imts_csv(landed, con) for landed in files])
    finding = _whole_table_finding(table, con)
    if finding:
        raise finding
    return table


def _whole_table_finding(table: pa.Table, con: duckdb.DuckDBPyConnection) -> FormatError | None:
    """What is wrong with the rows of every answer taken together: none at all, or an observation twice."""
    if table.num_rows == 0:
        return FormatError(SOURCE, "IMTS", "every series answer is empty (no observations at all)")
    con.register("observations", table)
    duplicate = con.execute(
        f"select {', '.join(KEY)}, list(distinct source_file), count(*) from observations "
        f"group by all having count(*) > 1 order by all limit 1"
    ).fetchall()
    if duplicate:
        *key, names, count = duplicate[0]
        return FormatError(
            SOURCE,
            ", ".join(names),
            f"duplicate key: observation {'.'.join(key[:4])} {key[4]} appears {count} times",
        )
    return None


def _read_together(files: list[LandedFile], con: duckdb.DuckDBPyConnection) -> tuple[pa.Table | None, str | None]:
    """Every answer read in one DuckDB statement (one per header, should their columns come in
    different orders) and its rows checked in SQL, as `read_imts_csv` would read and check them.

    (the table, None) when nothing is wrong: `read_imts_csv`'s tables concatenated, in `files`
    order. (None, what was found) when something is. (None, None) when this read cannot vouch for
    the rows although it found nothing wrong: the answers are then read one by one and that decides.
    """
    groups: dict[tuple[str, ...], list[str]] = {}
    lines = []  # each file's rows after its header, counted as line ends
    for landed in files:
        if landed.name not in QUERY_BY_FILE:
            return None, f"{landed.name}, not an IMTS series file"
        header = _header(landed.path, landed.name)
        if _header_mismatch(header):
            return None, f"the header of {landed.name}, not IMTS's columns"
        groups.setdefault(tuple(header), []).append(str(landed.path))
        lines.append(count_lines(landed.path) - 1)
    paths = [str(landed.path) for landed in files]
    if len(set(paths)) != len(paths):  # two names for one landed path: `filename` would not tell them apart
        return None, None
    today = date.today()
    params = {
        "paths": paths,
        "names": [landed.name for landed in files],
        "keys": [QUERY_BY_FILE[landed.name].key for landed in files],
        "this_month": f"{today.year:04d}-M{today.month:02d}",
    }
    parts = []
    try:
        for header, group in groups.items():
            parts.append(
                con.sql(
                    f"""
                    with answers as (
                        select {SELECTED}, list_position($paths, filename) as file_index
                        from read_csv($group, {CSV_OPTIONS}, filename = true)
                    )
                    select * exclude (file_index), $names[file_index] as source_file, file_index,
                           {ROW_IS_BAD} as is_bad
                    from answers
                    """,
                    params={**params, "group": group, "columns": dict.fromkeys(header, "VARCHAR")},
                ).to_arrow_table()
            )
    except duckdb.Error as exc:
        return None, f"an answer DuckDB could not read ({' '.join(str(exc).split())[:300]})"
    rows = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    if pc.any(rows.column("is_bad")).as_py():
        flagged = pc.unique(pc.filter(rows.column("source_file"), rows.column("is_bad"))).to_pylist()
        return None, f"rows the row checks refuse (in {', '.join(map(str, flagged))})"
    # A row per line, or the one-by-one read decides: a list read can lose rows after an unclosed
    # quote (the DuckDB bug of `count_lines`), and a quoted line break, legal but never seen from
    # IMF, makes a row of two lines.
    counted = pc.value_counts(rows.column("file_index"))
    read = dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True))
    if any(read.get(index, 0) != count for index, count in enumerate(lines, start=1)):
        return None, None
    order = rows.column("file_index")
    if len(order) > 1 and not pc.all(pc.less_equal(order[:-1], order[1:])).as_py():
        rows = rows.sort_by("file_index")  # a stable sort: rows keep their order within their file
    if rows.num_rows == 0:
        return None, "no observations at all"
    # Every row passed the series check, so its country, indicator, counterpart and frequency are
    # its file's (a key's four parts hold no dot), and no two files were asked for the same key: an
    # observation twice is a file with a period twice. (Table.group_by would import pyarrow's Acero
    # engine, some 17 ms the first time.)
    periods = pc.binary_join_element_wise(pc.cast(rows.column("file_index"), pa.string()), rows.column("time_period"), " ")
    if pc.count_distinct(periods).as_py() != rows.num_rows:
        return None, "an observation twice"
    return with_provenance(rows.drop_columns(["file_index", "is_bad"]), {landed.name: landed for landed in files}), None


IMF = ImfSource(
    name=SOURCE,
    title="IMF International Trade in Goods by partner (IMTS), SDMX-CSV",
    licence="IMF data: free reuse with attribution (IMF Terms of Use)",
    files=FILES,
    tables=TABLES,
    parse=parse,
    base_url=API,
    docs_url="https://data.imf.org/en/Resource-Pages/IMF-API",
)
