"""JODI Oil World Database (primary products): Iraq's and Iran's crude production and exports.

The publisher's files (keyless, rewritten in place every month, so the landing zone keeps every
download by sha256):
    <base>/world_primary_csv.zip                      full history since 2002 (~23 MB zip, ~283 MB CSV)
    <base>/annual-csv/primary/{YYYY}.csv              one past year
    <base>/annual-csv/primary/primaryyear{YYYY}.csv   the current year
All share one 7-column layout, UTF-8, header row:
    REF_AREA,TIME_PERIOD,ENERGY_PRODUCT,FLOW_BREAKDOWN,UNIT_MEASURE,OBS_VALUE,ASSESSMENT_CODE
Every product x flow is published once per unit (KBBL, KBD, KL, KTONS, CONVBBL). OBS_VALUE is a
number or one of the markers `-`, `..`, `x`: those become NULL with the marker kept, never zero.

Live mode fetches the zip; directory mode takes the zip or per-year files as JODI names them.
The whole CSV is read by DuckDB (the zip is unpacked by streaming to a temp file) and filtered
there; only Iraq's and Iran's crude rows ever reach Python.
"""

from __future__ import annotations

import mmap
import re
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.errors import FetchError, FormatError
from orchestration.landing import LandedFile, LandingZone
from orchestration.settings import BUNDLED, LIVE, SourceMode
from orchestration.sources.base import PROVENANCE_TYPES, LiveAccess, PublisherFile, RawTable, Source, with_provenance

SOURCE = "jodi"
BASE_URL = "https://www.jodidata.org/_resources/files/downloads/oil-data"
ZIP_NAME = "world_primary_csv.zip"
YEAR_FILE = re.compile(r"^(?:primaryyear)?(?P<year>\d{4})\.csv$")
TABLE = "jodi_crude_oil"

COLUMNS = ("REF_AREA", "TIME_PERIOD", "ENERGY_PRODUCT", "FLOW_BREAKDOWN", "UNIT_MEASURE", "OBS_VALUE", "ASSESSMENT_CODE")
AREAS = ("IQ", "IR")  # Iraq, Iran
PRODUCT = "CRUDEOIL"
FLOWS = ("INDPROD", "TOTEXPSB")  # production, total exports
UNIT = "KBD"  # thousand barrels per day
MARKERS = ("-", "..", "x")  # published instead of a number: NULL plus the marker, never zero

FILES = (PublisherFile(ZIP_NAME, ZIP_NAME, "zip"),)
TABLES = (
    RawTable(
        TABLE,
        "JODI Oil World Database: Iraq (IQ) and Iran (IR) crude oil production (INDPROD) and exports "
        "(TOTEXPSB) in thousand barrels per day, one row per country, month and flow",
        ("ref_area", "time_period", "flow_breakdown"),
        (ZIP_NAME, "[0-9][0-9][0-9][0-9].csv", "primaryyear[0-9][0-9][0-9][0-9].csv"),
    ),
)

PROVENANCE = PROVENANCE_TYPES
SCHEMA = pa.schema(
    [
        ("ref_area", pa.string()),
        ("time_period", pa.string()),
        ("period", pa.date32()),
        ("energy_product", pa.string()),
        ("flow_breakdown", pa.string()),
        ("unit_measure", pa.string()),
        ("obs_value", pa.float64()),
        ("obs_value_text", pa.string()),
        ("obs_marker", pa.string()),
        ("assessment_code", pa.int32()),
    ]
)


class JodiSource(Source):
    """Live: the full-history zip. Bundled / directory: the zip or JODI's per-year CSV files."""

    def land(self, zone: LandingZone, mode: SourceMode, live: LiveAccess | None) -> dict[str, LandedFile]:
        if mode.kind == LIVE:
            if live is None:
                raise FetchError(self.name, ZIP_NAME, "live mode needs an HTTP session")
            return {ZIP_NAME: zone.land_url(live.session, self.name, ZIP_NAME, f"{live.base_url(self)}/{ZIP_NAME}", "zip")}
        folder = self.local_folder(mode)
        where = "the bundled sample" if mode.kind == BUNDLED else f"directory {folder}"
        names = sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        unknown = [n for n in names if n.lower().endswith((".csv", ".zip")) and n != ZIP_NAME and not YEAR_FILE.match(n)]
        if unknown:
            raise FetchError(
                self.name, str(folder / unknown[0]),
                f"not a JODI file name: expected {ZIP_NAME}, <YYYY>.csv or primaryyear<YYYY>.csv as JODI names them",
            )
        years = [n for n in names if YEAR_FILE.match(n)]
        if ZIP_NAME in names and years:
            raise FetchError(
                self.name, str(folder),
                f"holds both {ZIP_NAME} and per-year files ({', '.join(years)}): keep one or the other, "
                "they overlap and JODI rewrites both",
            )
        chosen = [ZIP_NAME] if ZIP_NAME in names else years
        if not chosen:
            raise FetchError(
                self.name, str(folder),
                f"no JODI file in {where}: expected {ZIP_NAME} or per-year files <YYYY>.csv / primaryyear<YYYY>.csv",
            )
        return {
            name: zone.land_local(self.name, name, folder / name, mode.kind, "zip" if name == ZIP_NAME else "csv")
            for name in chosen
        }


def parse(landed: Mapping[str, LandedFile], today: date | None = None) -> dict[str, pa.Table]:
    """Iraq's and Iran's crude production and exports in kb/d, or FormatError naming file and cause."""
    if not landed:
        return {TABLE: SCHEMA.empty_table()}
    today = today or date.today()
    con = duckdb.connect()
    try:
        con.execute("set threads = 2")
        con.execute(
            "create table picked (source_file varchar, REF_AREA varchar, TIME_PERIOD varchar, ENERGY_PRODUCT varchar, "
            "FLOW_BREAKDOWN varchar, UNIT_MEASURE varchar, OBS_VALUE varchar, ASSESSMENT_CODE varchar)"
        )
        with tempfile.TemporaryDirectory(prefix="jodi-") as tmp:
            paths = {}
            for name, file in sorted(landed.items()):
                paths[name] = _unzipped_csv(file.path, name, Path(tmp)) if name == ZIP_NAME else file.path
                _check_header(paths[name], name)
            _read_filtered(con, paths)
        _check(con, landed, today)
        return {TABLE: _rows_with_provenance(con, landed)}
    finally:
        con.close()


def _unzipped_csv(path: Path, name: str, scratch: Path) -> Path:
    """The one CSV inside JODI's zip, streamed to a temp file (never held in memory)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            csvs = [m for m in members if m.filename.lower().endswith(".csv")]
            if len(csvs) != 1:
                listed = ", ".join(m.filename for m in members[:5]) or "nothing"
                raise FormatError(SOURCE, name, f"expected exactly one CSV inside the zip, found {listed}")
            target = scratch / Path(csvs[0].filename).name
            with archive.open(csvs[0]) as inp, open(target, "wb") as out:
                shutil.copyfileobj(inp, out, 1 << 20)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise FormatError(SOURCE, name, f"is not a readable zip archive (truncated?): {exc}") from None
    return target


def _check_header(path: Path, name: str) -> None:
    with open(path, "rb") as handle:
        header = handle.readline(4096).decode("utf-8", "replace").lstrip("\ufeff").strip()
    if header.split(",") != list(COLUMNS):
        raise FormatError(SOURCE, name, f"header is {header[:200]!r}; JODI's layout is {','.join(COLUMNS)}")


def _read_filtered(con: duckdb.DuckDBPyConnection, paths: Mapping[str, Path]) -> None:
    """Iraq's and Iran's crude rows of every file (landed name -> CSV path) into `picked`, in one
    statement (DuckDB reads the files in parallel); a file that does not parse is named by reading
    the files one by one again (only then)."""
    try:
        _insert_picked(con, paths)
    except duckdb.Error as exc:
        con.execute("delete from picked")
        if len(paths) == 1:
            raise _layout_error(next(iter(paths)), exc) from None
        for name, path in paths.items():
            try:
                _insert_picked(con, {name: path})
            except duckdb.Error as one:
                raise _layout_error(name, one) from None
        raise _layout_error(", ".join(paths), exc) from None


def _insert_picked(con: duckdb.DuckDBPyConnection, paths: Mapping[str, Path]) -> None:
    """The files in one `read_csv` over their list, or, if any holds a quote character (JODI's do
    not), one `read_csv` per file under UNION ALL: a list read can lose rows after an unclosed
    quote (the DuckDB bug of `sources.base.count_lines`; tests/sources/test_jodi.py). The list reads
    the 1x bench's 25 files in 0.5 s, the UNION ALL in 0.85 s; looking for a quote takes 0.02 s."""
    where = f"where REF_AREA in {AREAS} and ENERGY_PRODUCT = '{PRODUCT}' and FLOW_BREAKDOWN in {FLOWS}"
    options = ("header = true, columns = $columns, delim = ',', quote = '\"', auto_detect = false, strict_mode = true, "
               "all_varchar = true")
    columns = {c: "VARCHAR" for c in COLUMNS}
    if len(paths) == 1 or not any(_holds_a_quote(path) for path in paths.values()):
        con.execute(f"insert into picked select $names[list_position($paths, filename)], * exclude (filename) "
                    f"from read_csv($paths, {options}, filename = true) {where}",
                    {"names": list(paths), "paths": [str(p) for p in paths.values()], "columns": columns})
        return
    reads = " union all ".join(f"select $name{i}, * from read_csv($path{i}, {options}) {where}" for i in range(len(paths)))
    params = {f"{kind}{i}": value for i, (name, path) in enumerate(paths.items())
              for kind, value in (("name", name), ("path", str(path)))}
    con.execute(f"insert into picked {reads}", {**params, "columns": columns})


def _holds_a_quote(path: Path) -> bool:
    if path.stat().st_size == 0:
        return False
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.find(b'"') != -1


def _layout_error(name: str, exc: duckdb.Error) -> FormatError:
    detail = " ".join(line.strip() for line in str(exc).strip().splitlines()[:3])
    return FormatError(SOURCE, name, f"does not match JODI's 7-column CSV layout: {detail}")


def _fail_if(con: duckdb.DuckDBPyConnection, sql: str, file: str, cause: str) -> None:
    """Raise FormatError when `sql` (columns: source_file, shown) returns rows; show up to five."""
    rows = con.execute(sql + " limit 5").fetchall()
    if rows:
        raise FormatError(SOURCE, rows[0][0] or file, f"{cause}: {'; '.join(str(r[1]) for r in rows)}")


def _check(con: duckdb.DuckDBPyConnection, landed: Mapping[str, LandedFile], today: date) -> None:
    files = ", ".join(sorted(landed))
    if con.execute("select count(*) from picked").fetchone()[0] == 0:
        raise FormatError(SOURCE, files, f"no {PRODUCT} {'/'.join(FLOWS)} rows for Iraq (IQ) or Iran (IR)")
    series = "REF_AREA || ' ' || FLOW_BREAKDOWN || ' ' || TIME_PERIOD"
    _fail_if(con, """select source_file, TIME_PERIOD from picked
                      where not regexp_full_match(coalesce(TIME_PERIOD, ''), '\\d{4}-(0[1-9]|1[0-2])')""",
             files, "TIME_PERIOD is not a month as YYYY-MM")
    current = f"{today:%Y-%m}"
    _fail_if(con, f"select source_file, {series} from picked where TIME_PERIOD > '{current}'",
             files, f"period in the future (after {current})")
    year_files = [n for n in landed if YEAR_FILE.match(n)]
    for name in year_files:
        year = YEAR_FILE.match(name).group("year")  # type: ignore[union-attr]
        _fail_if(con, f"select source_file, {series} from picked where source_file = '{name}' "
                      f"and left(TIME_PERIOD, 4) <> '{year}'", name, f"a month outside {year} in JODI's file for {year}")
    _fail_if(con, f"""select min(source_file), {series} || ' only in ' || string_agg(distinct UNIT_MEASURE, '/')
                      from picked group by REF_AREA, FLOW_BREAKDOWN, TIME_PERIOD
                      having count(*) filter (where UNIT_MEASURE = '{UNIT}') = 0
                      order by TIME_PERIOD""",
             files, f"unit other than {UNIT}: series published without a {UNIT} row")
    _fail_if(con, f"""select min(source_file), {series} || ' in ' || string_agg(source_file, ' and ')
                      from picked where UNIT_MEASURE = '{UNIT}' group by REF_AREA, FLOW_BREAKDOWN, TIME_PERIOD
                      having count(*) > 1""",
             files, "duplicate key (REF_AREA, TIME_PERIOD, FLOW_BREAKDOWN) for KBD")
    markers = ", ".join(f"'{m}'" for m in MARKERS)
    _fail_if(con, f"""select source_file, {series} || ' = ' || coalesce(OBS_VALUE, '<empty>') from picked
                      where UNIT_MEASURE = '{UNIT}' and trim(coalesce(OBS_VALUE, '')) not in ({markers})
                        and try_cast(trim(OBS_VALUE) as double) is null""",
             files, f"OBS_VALUE is neither a number nor one of JODI's markers {' '.join(MARKERS)}")
    _fail_if(con, f"""select source_file, {series} || ' = ' || OBS_VALUE from picked
                      where UNIT_MEASURE = '{UNIT}' and try_cast(trim(OBS_VALUE) as double) < 0""",
             files, "negative kb/d")
    _fail_if(con, f"""select source_file, {series} || ' = ' || coalesce(ASSESSMENT_CODE, '<empty>') from picked
                      where UNIT_MEASURE = '{UNIT}' and try_cast(ASSESSMENT_CODE as integer) is null""",
             files, "ASSESSMENT_CODE is not a whole number")


def _rows_with_provenance(con: duckdb.DuckDBPyConnection, landed: Mapping[str, LandedFile]) -> pa.Table:
    markers = ", ".join(f"'{m}'" for m in MARKERS)
    table = con.sql(
        f"""
        select REF_AREA as ref_area,
               TIME_PERIOD as time_period,
               cast(TIME_PERIOD || '-01' as date) as period,
               ENERGY_PRODUCT as energy_product,
               FLOW_BREAKDOWN as flow_breakdown,
               UNIT_MEASURE as unit_measure,
               case when trim(OBS_VALUE) in ({markers}) then null else cast(trim(OBS_VALUE) as double) end as obs_value,
               OBS_VALUE as obs_value_text,
               case when trim(OBS_VALUE) in ({markers}) then trim(OBS_VALUE) end as obs_marker,
               cast(ASSESSMENT_CODE as integer) as assessment_code,
               source_file
        from picked
        where UNIT_MEASURE = '{UNIT}'
        order by ref_area, flow_breakdown, time_period
        """
    ).fetch_arrow_table()
    return with_provenance(table, landed).cast(pa.schema([*SCHEMA, *(pa.field(k, v) for k, v in PROVENANCE.items())]))


JODI = JodiSource(
    name=SOURCE,
    title="JODI Oil World Database (primary): crude oil production and exports",
    licence="JODI data: free of charge, reuse with acknowledgement of the Joint Organisations Data Initiative (JODI)",
    files=FILES,
    tables=TABLES,
    parse=parse,
    base_url=BASE_URL,
    docs_url="https://www.jodidata.org/oil/database/data-downloads.aspx",
    parse_empty_ok=True,
)
