"""OFAC Sanctions List Service: CSV exports (SDN.CSV, ADD.CSV, ALT.CSV, SDN_COMMENTS.CSV), the
optional advanced XML exports (SDN_ADVANCED.XML, CONS_ADVANCED.XML: listing dates, relationships;
parsed in ofac_advanced.py) and the optional publication history (`/changes/history/{year}`).

The publisher's format (checked on real files): no header row, CRLF line ends, every file ends
with a DOS end-of-file byte 0x1A on a line of its own, the null marker is `-0- ` (with the
trailing space), and several programs are packed in one field as `IRAN] [SDGT] [IRGC`.
Parsing is done in bulk by DuckDB's strict CSV reader, straight from the landed file (read once
to land and check it, once to parse it); the final 0x1A is checked (its absence means truncation)
and its line skipped as a comment line (`comment = chr(26)`), never by switching reader errors off.

The publication history lives beside the exports on the same service, not under them:

    exports   <service>/api/PublicationPreview/exports/<FILE>
    history   <service>/changes/history/{year}      landed as changes_history_{year}.json

`<service>` is the live base URL (the http resource's `ofac_base_url`, WAREHOUSE_OFAC_BASE_URL, if
set) with a trailing
`/api/PublicationPreview/exports` or `/exports` cut off, so a mirror or a local test server set as
the base URL serves the history too. Its answer is `{"publications": [{"publicationID": 803,
"datePublished": "2026-01-16T10:01:44.740051"}]}` (older clients read a bare list of the same
objects); timestamps carry no zone and are US Eastern.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.errors import FetchError, FormatError, NotFound, SourceError
from orchestration.landing import LandedFile, LandingZone
from orchestration.settings import LIVE, SourceMode
from orchestration.sources.base import (
    PROVENANCE_TYPES,
    LiveAccess,
    PublisherFile,
    RawQuery,
    RawTable,
    Source,
    count_lines,
    provenance_arrays,
    with_provenance,
)
from orchestration.sources.ofac_advanced import (
    empty_entries,
    empty_relationships,
    orphan_summary,
    parse_advanced_xml,
)

SOURCE = "ofac"
EXPORTS = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports"
NULL_MARKER = "-0- "
EOF_BYTE = b"\x1a"
EASTERN = ZoneInfo("America/New_York")  # the publication history's timestamps carry no zone
ADVANCED_FILES = ("SDN_ADVANCED.XML", "CONS_ADVANCED.XML")
HISTORY_FILES = "changes_history_*.json"
HISTORY_NAME = re.compile(r"changes_history_(\d{4})\.json")

# Column layouts as published (no header row in the files, so the order is the contract).
SDN_COLUMNS = {
    "ent_num": "INTEGER",
    "sdn_name": "VARCHAR",
    "sdn_type": "VARCHAR",
    "program": "VARCHAR",
    "title": "VARCHAR",
    "call_sign": "VARCHAR",
    "vess_type": "VARCHAR",
    "tonnage": "VARCHAR",
    "grt": "VARCHAR",
    "vess_flag": "VARCHAR",
    "vess_owner": "VARCHAR",
    "remarks": "VARCHAR",
}
ADD_COLUMNS = {
    "ent_num": "INTEGER",
    "add_num": "INTEGER",
    "address": "VARCHAR",
    "city_state_province_postal_code": "VARCHAR",
    "country": "VARCHAR",
    "add_remarks": "VARCHAR",
}
ALT_COLUMNS = {
    "ent_num": "INTEGER",
    "alt_num": "INTEGER",
    "alt_type": "VARCHAR",
    "alt_name": "VARCHAR",
    "alt_remarks": "VARCHAR",
}
COMMENTS_COLUMNS = {
    "ent_num": "INTEGER",
    "remarks_extended": "VARCHAR",
}

FILES = (
    PublisherFile("SDN.CSV", "SDN.CSV", "csv"),
    PublisherFile("ADD.CSV", "ADD.CSV", "csv"),
    PublisherFile("ALT.CSV", "ALT.CSV", "csv"),
    PublisherFile("SDN_COMMENTS.CSV", "SDN_COMMENTS.CSV", "csv", required=False),
    PublisherFile("SDN_ADVANCED.XML", "SDN_ADVANCED.XML", "xml", required=False),
    PublisherFile("CONS_ADVANCED.XML", "CONS_ADVANCED.XML", "xml", required=False),
)
# One file per year, so a pattern: OfacSource.land fetches the current year's (live) or reads every
# changes_history_YYYY.json of the folder (bundled, directory).
HISTORY = PublisherFile(HISTORY_FILES, "changes/history/{year}", "json", required=False)

TABLES = (
    RawTable("ofac_sdn", "OFAC SDN list entries (SDN.CSV), one row per listed entity and list version", ("list_version", "ent_num"), ("SDN.CSV",)),
    RawTable("ofac_addresses", "Addresses of SDN entries (ADD.CSV)", ("list_version", "add_num"), ("ADD.CSV",)),
    RawTable("ofac_aliases", "Aliases of SDN entries (ALT.CSV): aka, fka, nka", ("list_version", "alt_num"), ("ALT.CSV",)),
    RawTable(
        "ofac_comments",
        "Remarks beyond the 1,000-character cut of SDN.CSV (SDN_COMMENTS.CSV, optional)",
        ("list_version", "ent_num"),
        ("SDN_COMMENTS.CSV",),
    ),
    RawTable(
        "ofac_sanctions_entries",
        "Sanctions entries of the advanced XML exports (optional): list, listing date, legal bases, programs",
        ("source_file", "entry_id"),  # entry ids are unique within a file; non-SDN entries recur in both files
        ADVANCED_FILES,
    ),
    RawTable(
        "ofac_profile_relationships",
        "Relationships between profiles in the advanced XML exports (optional), relation type resolved",
        ("source_file", "relationship_id"),
        ADVANCED_FILES,
    ),
    RawTable(
        "ofac_publications",
        "OFAC's publication history (/changes/history/{year}, optional): publication id and time",
        ("publication_id",),
        (HISTORY_FILES,),
    ),
)

LAYOUTS = {
    "SDN.CSV": ("ofac_sdn", SDN_COLUMNS),
    "ADD.CSV": ("ofac_addresses", ADD_COLUMNS),
    "ALT.CSV": ("ofac_aliases", ALT_COLUMNS),
    "SDN_COMMENTS.CSV": ("ofac_comments", COMMENTS_COLUMNS),
}


def csv_select(columns: Mapping[str, str], several: bool = False) -> str:
    """The SELECT that reads OFAC CSV exports of one layout from `$path` (parameters: `csv_params`);
    over several files, each row also gets a `filename` column naming its file."""
    # Read every field as text and turn the null marker into NULL afterwards: given
    # `nullstr`, DuckDB's strict reader silently drops an extra trailing field that holds
    # the null marker, so a new all-null column would pass unnoticed.
    typed = ", ".join(f"cast(nullif({column}, $null) as {kind}) as {column}" for column, kind in columns.items())
    return (
        f"select {typed}{', filename' if several else ''} from read_csv($path, header = false, "
        "columns = $columns, delim = ',', "
        # the landed file itself, read once: its last line, OFAC's end-of-file byte 0x1A
        # (checked first), is skipped as a comment line
        "quote = '\"', escape = '\"', auto_detect = false, strict_mode = true, comment = chr(26), "
        f"filename = {'true' if several else 'false'})"
    )


def csv_params(path: Path | list[Path], name: str, columns: Mapping[str, str]) -> dict:
    """`csv_select`'s parameters, once each file's ending is checked (a truncated file is refused)."""
    for one in path if isinstance(path, list) else [path]:
        _check_ending(one, name)
    return {"path": [str(p) for p in path] if isinstance(path, list) else str(path),
            "columns": {c: "VARCHAR" for c in columns}, "null": NULL_MARKER}


def layout_error(name: str, columns: Mapping[str, str], exc: duckdb.Error) -> FormatError:
    first = str(exc).strip().splitlines()
    detail = " ".join(line.strip() for line in first[:3])
    return FormatError(SOURCE, name, f"does not match OFAC's {len(columns)}-column layout ({', '.join(columns)}): {detail}")


def read_ofac_csv(path: Path, name: str, columns: Mapping[str, str]) -> pa.Table:
    """Parse one OFAC CSV export into an Arrow table, or raise FormatError naming file and cause."""
    params = csv_params(path, name, columns)
    con = duckdb.connect()
    try:
        return con.sql(csv_select(columns), params=params).fetch_arrow_table()
    except duckdb.Error as exc:
        raise layout_error(name, columns, exc) from None
    finally:
        con.close()


def _check_ending(path: Path, name: str) -> None:
    """OFAC ends each file with CRLF then 0x1A: refuse a file that does not (truncated). Reads the
    first line and the last three bytes only."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        first_line = handle.readline(1 << 16)
        handle.seek(max(0, size - 3))
        tail = handle.read()
    if not first_line.endswith(b"\r\n"):
        raise FormatError(SOURCE, name, "lines do not end with CRLF as OFAC's exports do")
    if not tail.endswith(EOF_BYTE):
        ending = "mid-line" if not tail.endswith(b"\n") else "without it"
        raise FormatError(
            SOURCE,
            name,
            f"truncated: the file ends {ending}, but every OFAC export ends with the end-of-file byte 0x1A",
        )
    if not tail.endswith(b"\r\n" + EOF_BYTE) and size > 1:
        raise FormatError(SOURCE, name, "truncated: the last row is incomplete before the 0x1A end-of-file byte")


# One version of the SDN list is identified by its three required CSV files together: an
# address-only change (ADD.CSV) or an alias-only one (ALT.CSV) is a new version even when SDN.CSV is
# byte for byte the same. SDN_COMMENTS.CSV is optional (a live 404 leaves it out on purpose): were
# it part of the identity, a load without it would be a "new version" whose long remarks all
# look cut, thousands of false changes; a change past the 1,000th character of a remark alone is
# the one change this leaves unseen. The advanced XML exports render the same list (plus the
# consolidated one) and are not part of it.
LIST_FILES = tuple(LAYOUTS)
IDENTITY_FILES = ("SDN.CSV", "ADD.CSV", "ALT.CSV")
LIST_TABLES = {name: table for name, (table, _) in LAYOUTS.items()}  # file -> its raw table
# on SDN.CSV's rows only: the version's publication where its source says it (an archive's folder
# name, in a backfill); NULL for a refresh, whose publication is matched from OFAC's history
PUBLICATION_COLUMNS = {"list_published_at": pa.timestamp("us", tz="UTC"), "list_publication_id": pa.int64()}


def list_version_of(landed: Mapping[str, LandedFile]) -> str:
    """sha256 over one `NAME sha256` line per identifying file that was landed, in a fixed order."""
    lines = "".join(f"{name} {landed[name].sha256}\n" for name in IDENTITY_FILES if name in landed)
    return hashlib.sha256(lines.encode()).hexdigest()


def _versioned(table: pa.Table, version: str, extra: Mapping[str, object] | None = None) -> pa.Table:
    table = table.append_column(pa.field("list_version", pa.string()), pa.repeat(pa.scalar(version, pa.string()), table.num_rows))
    for column, kind in (PUBLICATION_COLUMNS.items() if extra is not None else ()):
        table = table.append_column(pa.field(column, kind), pa.repeat(pa.scalar(extra.get(column), kind), table.num_rows))
    return table


def parse(landed: Mapping[str, LandedFile]) -> dict[str, pa.Table | RawQuery]:
    """Every landed OFAC file as its raw table; an absent optional file gives an empty table.

    The CSV exports are queries that the build runs straight from the landed files (DuckDB's
    reader, no copy of the rows through Python), checked there before they are committed
    (`check_loaded`); a file that does not parse is named with its cause by `first_unreadable`.
    The rows are those of `parse_version`, which reads them into Arrow."""
    version = list_version_of(landed)
    tables: dict[str, pa.Table | RawQuery] = {}
    for file_name, (table, _) in LAYOUTS.items():
        if file_name not in landed:
            tables[table] = raw_schema(file_name).empty_table()
            continue
        query = csv_query(file_name, list_files([(landed[file_name], version, None, None)]))
        tables[table] = replace(query, failed=lambda exc: first_unreadable(landed) or _unread(landed, exc),
                                check=check_loaded if table == "ofac_sdn" else None)
    tables.update(parse_advanced(landed))
    tables["ofac_publications"] = parse_publications(landed)
    return tables


def list_files(entries: Sequence[tuple[LandedFile, str, datetime | None, int | None]]) -> pa.Table:
    """One row per (landed CSV export, list version reading it): its path, the version's identity
    and publication (NULL where unknown), and the file's provenance, as `with_provenance` gives it."""
    files = [file for file, _, _, _ in entries]
    return pa.table({
        "path": pa.array([str(f.path) for f in files], pa.string()),
        "list_version": pa.array([version for _, version, _, _ in entries], pa.string()),
        "list_published_at": pa.array([at for _, _, at, _ in entries], PUBLICATION_COLUMNS["list_published_at"]),
        "list_publication_id": pa.array([pid for _, _, _, pid in entries], PUBLICATION_COLUMNS["list_publication_id"]),
        **provenance_arrays(files, [f.name for f in files]),
    })


def csv_query(file_name: str, files: pa.Table) -> RawQuery:
    """One CSV export's raw table from every file in `files` (`list_files`), read in one DuckDB
    statement that the build runs (in parallel over the files; a file several versions share is
    read once): each row with its version's identity, on SDN.CSV's rows its publication, and its
    file's provenance. A file whose ending shows it truncated is refused here, naming it.

    Given several files, a list read can lose rows after an unclosed quote (the DuckDB bug of
    `count_lines`): a query over several files is followed by `check_records` (the backfill's).
    Reading each file on its own under UNION ALL avoids it, but made a 300-version backfill's load
    34 s slower."""
    table, columns = LAYOUTS[file_name]
    publication = ", f.list_published_at, f.list_publication_id" if table == "ofac_sdn" else ""
    provenance = ", ".join(f"f.{column}" for column in PROVENANCE_TYPES)
    paths = [Path(p) for p in dict.fromkeys(files.column("path").to_pylist())]
    return RawQuery(
        f"with rows as ({csv_select(columns, several=True)}) "
        f"select {', '.join(f'rows.{c}' for c in columns)}, f.list_version{publication}, {provenance} "
        "from rows join list_files as f on f.path = rows.filename",
        csv_params(paths, file_name, columns),
        {"list_files": files},
    )


def first_unreadable(landed: Mapping[str, LandedFile]) -> SourceError | None:
    """The first of a version's CSV exports that does not parse, read alone, as its FormatError
    (naming the file and the cause); None if each parses alone."""
    for file_name, (_, columns) in LAYOUTS.items():
        if file_name in landed:
            try:
                read_ofac_csv(landed[file_name].path, file_name, columns)
            except SourceError as exc:
                return exc
    return None


def _unread(landed: Mapping[str, LandedFile], failure: duckdb.Error) -> FormatError:
    first = str(failure).strip().splitlines()[0]
    return FormatError(SOURCE, ", ".join(n for n in LAYOUTS if n in landed), f"loading the CSV exports failed: {first}")


def loaded_counts(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], dict[str, dict[str, tuple[int, int]]]]:
    """Per list version in the build's raw tables: its SDN.CSV entries; per ADD.CSV and ALT.CSV,
    its rows and those of them naming an ent_num that its SDN.CSV lacks (orphans)."""
    entries = dict(con.execute("select list_version, count(*) from raw.ofac_sdn group by 1").fetchall())
    orphans: dict[str, dict[str, tuple[int, int]]] = {}
    for file_name, table in (("ADD.CSV", "ofac_addresses"), ("ALT.CSV", "ofac_aliases")):
        rows = con.execute(f"select list_version, count(*) from raw.{table} group by 1").fetchall()
        # an anti join: no distinct entries to build first (0.35 s on 7 million addresses, not 0.8)
        lost = dict(con.execute(f"select list_version, count(*) from raw.{table} anti join raw.ofac_sdn "
                                "using (list_version, ent_num) group by 1").fetchall())
        orphans[file_name] = {identity: (count, lost.get(identity, 0)) for identity, count in rows}
    return entries, orphans


def check_records(con: duckdb.DuckDBPyConnection, versions: Sequence[Mapping[str, LandedFile]],
                  named: Callable[[int, SourceError], SourceError]) -> None:
    """Each version's rows in the build's raw tables against its files' records (their lines but
    the final 0x1A one, `count_lines`): a file with fewer rows than records is read alone
    (`first_unreadable`) and its error raised, through `named(version index, error)`; read alone
    the same as with the others (a record over two lines), it stands; otherwise the load is
    refused, naming the file. A version identical to another holds its rows once per copy."""
    identities = [list_version_of(landed) for landed in versions]
    copies = Counter(identities)
    for file_name, table in LIST_TABLES.items():
        rows = dict(con.execute(f"select list_version, count(*) from raw.{table} group by 1").fetchall())
        records: dict[Path, int] = {}
        for index, (landed, identity) in enumerate(zip(versions, identities, strict=True)):
            if file_name not in landed:
                continue
            path = landed[file_name].path
            got = rows.get(identity, 0)
            if got == copies[identity] * records.setdefault(path, count_lines(path) - 1):
                continue
            if (exc := first_unreadable({file_name: landed[file_name]})) is not None:
                raise named(index, exc)
            alone = copies[identity] * read_ofac_csv(path, file_name, LAYOUTS[file_name][1]).num_rows
            if alone != got:
                raise named(index, FormatError(SOURCE, file_name, f"DuckDB read {got:,} rows of it among the other "
                                                                   f"files and {alone:,} alone; refused"))


def check_loaded(con: duckdb.DuckDBPyConnection) -> None:
    """A refresh's list version, checked in the build as `parse_version` checks it: SDN.CSV has
    entries, and ADD.CSV and ALT.CSV belong to it (`check_orphans`)."""
    entries, orphans = loaded_counts(con)
    check_entries(sum(entries.values()))
    for file_name, counts in orphans.items():
        for rows, lost in counts.values():
            check_orphans(file_name, rows, lost)


def parse_version(
    landed: Mapping[str, LandedFile], published_at: datetime | None = None, publication_id: int | None = None
) -> dict[str, pa.Table]:
    """One list version's landed files as raw tables in Arrow, each CSV row carrying the version's
    identity (`list_version`); SDN.CSV's rows also its publication, where known from the source.
    The reference that `parse`'s queries and a backfill's are tested against: their rows, not
    their checks (entries, orphans), which run in the build (`check_loaded`, `check_versions`)."""
    version = list_version_of(landed)
    publication = {"list_published_at": published_at, "list_publication_id": publication_id}
    tables: dict[str, pa.Table] = {}
    for file_name, (table, columns) in LAYOUTS.items():
        rows = read_ofac_csv(landed[file_name].path, file_name, columns) if file_name in landed else _empty(columns)
        tables[table] = _versioned(rows, version, publication if table == "ofac_sdn" else None)
    tables.update(parse_advanced(landed))
    tables["ofac_publications"] = parse_publications(landed)
    return tables


# ADD.CSV / ALT.CSV rows whose ent_num is not in SDN.CSV, as a share of the file, at most. OFAC's
# files are published together, so a few orphans are normal; files of different dates have more
# (the real 2024 SDN.CSV beside the 2026 ADD.CSV / ALT.CSV in ../shared: 28% and 18%); files that do
# not belong to the list at all have nearly all. 40% lets a mixed-date archive through.
MAX_ORPHAN_SHARE = 0.40


def check_entries(rows: int) -> None:
    if rows == 0:
        raise FormatError(SOURCE, "SDN.CSV", "has no entries")


def check_orphans(file_name: str, rows: int, orphans: int) -> None:
    share = orphans / rows if rows else 0
    if share > MAX_ORPHAN_SHARE:
        raise FormatError(
            SOURCE,
            file_name,
            f"{share:.0%} of its {rows:,} rows ({orphans:,}) name an ent_num that is not in SDN.CSV, "
            f"more than the {MAX_ORPHAN_SHARE:.0%} allowed: it does not belong to this list",
        )


def parse_advanced(landed: Mapping[str, LandedFile]) -> dict[str, pa.Table]:
    """Entries and relationships of the landed advanced XML files, provenance per row; without
    any, empty tables with the data columns (the loader adds empty provenance)."""
    files = {name: landed[name] for name in ADVANCED_FILES if name in landed}
    if not files:
        return {"ofac_sanctions_entries": empty_entries(), "ofac_profile_relationships": empty_relationships()}
    parsed = {name: parse_advanced_xml(file.path, name) for name, file in files.items()}

    def stacked(part: str) -> pa.Table:
        tables = [
            getattr(p, part).append_column("source_file", pa.array([name] * getattr(p, part).num_rows, pa.string()))
            for name, p in parsed.items()
        ]
        return with_provenance(pa.concat_tables(tables), files)

    return {"ofac_sanctions_entries": stacked("entries"), "ofac_profile_relationships": stacked("relationships")}


PUBLICATION_TYPES = {
    "publication_id": pa.int64(),
    "published_at": pa.timestamp("us", tz="UTC"),
    "published_at_eastern": pa.timestamp("us"),
}


def read_publications(path: Path, name: str) -> list[tuple[int, datetime, datetime]]:
    """(publication id, UTC time, Eastern wall time as given) of one /changes/history answer."""
    try:
        answer = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FormatError(SOURCE, name, f"is not valid JSON ({exc.msg} at line {exc.lineno}); truncated?") from None
    if isinstance(answer, dict):
        if "publications" not in answer or not isinstance(answer["publications"], list):
            keys = ", ".join(sorted(answer)) or "none"
            raise FormatError(
                SOURCE, name, f'is not a publication history: an object without a "publications" list (keys: {keys})'
            )
        items = answer["publications"]
    elif isinstance(answer, list):
        items = answer  # the bare list older clients read
    else:
        raise FormatError(SOURCE, name, f"is not a publication history: a JSON {type(answer).__name__}")
    rows = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or "publicationID" not in item or "datePublished" not in item:
            raise FormatError(SOURCE, name, f"publication {index} lacks publicationID or datePublished: {str(item)[:120]}")
        publication_id, published = item["publicationID"], item["datePublished"]
        if isinstance(publication_id, bool) or not isinstance(publication_id, int):
            raise FormatError(SOURCE, name, f"publication {index}: publicationID {publication_id!r} is not an integer")
        try:
            eastern = datetime.fromisoformat(published)
        except (TypeError, ValueError):
            raise FormatError(SOURCE, name, f"publication {publication_id}: datePublished {published!r} is not a timestamp") from None
        if eastern.tzinfo is not None:
            raise FormatError(SOURCE, name, f"publication {publication_id}: datePublished {published!r} carries a zone; OFAC's carry none")
        rows.append((publication_id, eastern.replace(tzinfo=EASTERN).astimezone(UTC), eastern))
    return rows


def parse_publications(landed: Mapping[str, LandedFile]) -> pa.Table:
    files = {name: file for name, file in sorted(landed.items()) if HISTORY_NAME.fullmatch(name)}
    if not files:
        return pa.schema(PUBLICATION_TYPES.items()).empty_table()
    columns: dict[str, list] = {c: [] for c in (*PUBLICATION_TYPES, "source_file")}
    seen: dict[int, str] = {}
    for name, file in files.items():
        for publication_id, utc, eastern in read_publications(file.path, name):
            if publication_id in seen:
                raise FormatError(SOURCE, name, f"publication {publication_id} is listed twice (also in {seen[publication_id]})")
            seen[publication_id] = name
            for column, value in zip(columns, (publication_id, utc, eastern, name)):
                columns[column].append(value)
    table = pa.table({c: pa.array(columns[c], t) for c, t in {**PUBLICATION_TYPES, "source_file": pa.string()}.items()})
    return with_provenance(table, files)


def summarize(tables: Mapping[str, pa.Table]) -> dict:
    """What the run log and the load report say about the optional files: entries and orphans
    per advanced XML file, publications per history file."""
    summary = orphan_summary(tables["ofac_sanctions_entries"]) if tables["ofac_sanctions_entries"].num_rows else {}
    publications = tables["ofac_publications"]
    for name in sorted(set(publications.column("source_file").to_pylist()) if publications.num_rows else ()):
        mine = publications.filter(pc.equal(publications["source_file"], name))
        latest = pc.max(mine["publication_id"]).as_py()
        summary[name] = {"publications": mine.num_rows, "latest_publication_id": latest,
                         "text": f"{mine.num_rows} publications, the latest {latest}"}
    return summary


def raw_schema(file_name: str) -> pa.Schema:
    """The schema of one CSV export's raw table as a refresh loads it: the file's columns, the
    version's identity (and, on SDN.CSV's rows, its publication), then the provenance columns."""
    table, columns = LAYOUTS[file_name]
    rows = _versioned(_empty(columns), "", {} if table == "ofac_sdn" else None)
    return with_provenance(rows.append_column("source_file", pa.array([], pa.string())), {}).schema


def _empty(columns: Mapping[str, str]) -> pa.Table:
    types = {"INTEGER": pa.int32(), "VARCHAR": pa.string()}
    return pa.table({name: pa.array([], type=types[kind]) for name, kind in columns.items()})


class OfacSource(Source):
    """The exports as declared in FILES, plus the publication history (one file per year)."""

    def service_root(self, base: LiveAccess | str | None = None) -> str:
        root = self.live_base_url(base)
        for suffix in ("/api/PublicationPreview/exports", "/exports"):
            if root.endswith(suffix):
                return root[: -len(suffix)]
        return root

    def url_of(self, spec: PublisherFile, base: LiveAccess | str | None = None) -> str:
        if spec is HISTORY:
            return f"{self.service_root(base)}/{HISTORY.url}"
        return super().url_of(spec, base)

    def land(self, zone: LandingZone, mode: SourceMode, live: LiveAccess | None) -> dict[str, LandedFile]:
        landed = Source.land(replace(self, files=FILES), zone, mode, live)
        if mode.kind == LIVE:
            if live is None:
                raise FetchError(self.name, HISTORY_FILES, "live mode needs an HTTP session")
            year = datetime.now(EASTERN).year
            name = f"changes_history_{year}.json"
            url = self.url_of(HISTORY, live).format(year=year)
            with contextlib.suppress(NotFound):  # optional: no history published at that address
                landed[name] = zone.land_url(live.session, self.name, name, url, HISTORY.expect)
            return landed
        folder = self.local_folder(mode)
        for path in sorted(folder.glob(HISTORY_FILES)) if folder.is_dir() else ():
            if not HISTORY_NAME.fullmatch(path.name):
                raise FetchError(self.name, str(path), "is not named changes_history_YYYY.json")
            landed[path.name] = zone.land_local(self.name, path.name, path, mode.kind, HISTORY.expect)
        return landed


OFAC = OfacSource(
    name=SOURCE,
    title="OFAC Sanctions List Service: SDN list CSV and advanced XML exports, publication history",
    licence="US government work, public domain",
    files=(*FILES, HISTORY),
    tables=TABLES,
    parse=parse,
    base_url=EXPORTS,
    docs_url="https://ofac.treasury.gov/sanctions-list-service",
    summarize=summarize,
    history_table="history.ofac_list_observations",
    max_age=timedelta(days=5),  # business days: Friday to Tuesday over a Monday holiday, plus a day
)
