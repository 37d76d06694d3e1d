"""What every source declares, so one factory can turn any of them into Dagster assets.

A source is a publisher (OFAC, the Federal Register, IMF, Comtrade, JODI, EIA...). It names the
files it needs as the publisher names them, how to get each in live mode, and how to parse the
landed bytes into typed Arrow tables. Parsers are pure functions with no Dagster imports.

Paged APIs (Federal Register, Comtrade) override `land` to fetch several pages; each page is
landed as its own immutable file, so directory mode replays them by their page file names.

Live mode gets everything it needs from the caller in one `LiveAccess` (the HTTP session, base-URL
overrides and API keys, from the `http` resource): no source reads the environment.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import requests

from orchestration.errors import FetchError, NotFound
from orchestration.landing import LandedFile, LandingZone
from orchestration.settings import BUNDLED, LIVE, SAMPLE_DIR, SourceMode

# The provenance every raw row carries; multi-file parsers attach it per row themselves.
PROVENANCE_TYPES = {
    "source_file": pa.string(),
    "source_url": pa.string(),
    "fetched_at": pa.timestamp("us", tz="UTC"),
    "source_sha256": pa.string(),
    "source_mode": pa.string(),
    "is_sample": pa.bool_(),
}


def provenance_arrays(files: list[LandedFile], names: list[str]) -> dict[str, pa.Array]:
    """The provenance columns, one value per file, in PROVENANCE_TYPES order; `names` gives each
    file's `source_file`."""
    return {
        "source_file": pa.array(names, PROVENANCE_TYPES["source_file"]),
        "source_url": pa.array([f.origin for f in files], PROVENANCE_TYPES["source_url"]),
        "fetched_at": pa.array([f.fetched_at for f in files], PROVENANCE_TYPES["fetched_at"]),
        "source_sha256": pa.array([f.sha256 for f in files], PROVENANCE_TYPES["source_sha256"]),
        "source_mode": pa.array([f.mode for f in files], PROVENANCE_TYPES["source_mode"]),
        "is_sample": pa.array([f.is_sample for f in files], PROVENANCE_TYPES["is_sample"]),
    }


def with_provenance(rows: pa.Table, landed: Mapping[str, LandedFile]) -> pa.Table:
    """`rows` (with a `source_file` column naming the landed file of each row) plus the other
    provenance columns of that file, appended after the data columns in PROVENANCE_TYPES order."""
    names = pa.array(list(landed), pa.string())
    index = pc.index_in(rows.column("source_file"), value_set=names)
    if index.null_count:
        raise ValueError("rows name a source_file that was not landed")
    per_file = provenance_arrays(list(landed.values()), list(landed))
    data = rows.drop_columns([c for c in PROVENANCE_TYPES if c in rows.column_names])
    for column, values in per_file.items():
        data = data.append_column(pa.field(column, PROVENANCE_TYPES[column]), pc.take(values, index))
    return data


def count_lines(path: Path) -> int:
    """The lines of a text file: its line ends, plus one for a last line without one.

    The guard against a DuckDB bug (2.0.1): `read_csv` given a list of files can drop the rest of
    a file after a quote that never closes, without an error, where reading that file alone stops
    at the line. A reader of several files compares each one's rows with its lines (OFAC's
    backfill, IMF) or reads them as a list only when no file holds a quote (JODI)."""
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            lines, last = lines + chunk.count(b"\n"), chunk[-1:]
    return lines + (last != b"\n")


@dataclass(frozen=True)
class RawQuery:
    """A raw table's rows as SQL that the build runs itself (no copy of the rows through Python):
    `sql` reads the Arrow tables in `inputs` under their names, and takes `params`. Its columns
    are those the parsed Arrow table would have had, provenance included. `failed` turns a DuckDB
    error while it runs into the source's error (naming the file and the cause); `check` runs on
    the load's connection once all of the source's tables are written, before they are committed."""

    sql: str
    params: dict = field(default_factory=dict)
    inputs: dict[str, pa.Table] = field(default_factory=dict)
    failed: Callable[[duckdb.Error], Exception] | None = None
    check: Callable[[duckdb.DuckDBPyConnection], None] | None = None


@dataclass(frozen=True)
class PublisherFile:
    name: str  # exactly as the publisher names it: directory mode looks for <dir>/<source>/<name>
    url: str  # where live mode fetches it, relative to the source's base_url
    expect: str  # csv | json | xml | zip: what the bytes must look like
    required: bool = True
    encoding: str = "utf-8"


@dataclass(frozen=True)
class RawTable:
    name: str  # table name in schema `raw`, also the asset key ["raw", name]
    description: str
    primary_key: tuple[str, ...]
    from_files: tuple[str, ...]  # the publisher files (or fnmatch patterns, for pages) it is parsed from

    def fed_by(self, file_name: str) -> bool:
        return any(fnmatch.fnmatchcase(file_name, pattern) for pattern in self.from_files)


@dataclass(frozen=True)
class LiveAccess:
    """What live mode needs: the HTTP session, base-URL overrides and API keys by source name.

    An empty or missing override means the publisher's own address, an empty or missing key means
    none. The keys never show in the repr (nor, so, in a log line or an error that prints one).
    """

    session: requests.Session
    base_urls: Mapping[str, str] = field(default_factory=dict)  # source name -> override ('' = publisher's)
    keys: Mapping[str, str] = field(default_factory=dict, repr=False)  # source name -> API key ('' = none)

    def base_url(self, source: Source) -> str:
        return source.live_base_url(self.base_urls.get(source.name, ""))

    def key(self, source_name: str) -> str | None:
        return self.keys.get(source_name, "").strip() or None


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    licence: str
    files: tuple[PublisherFile, ...]
    tables: tuple[RawTable, ...]
    # landed files by publisher file name -> per raw table name, its Arrow rows or the query that reads them
    parse: Callable[[Mapping[str, LandedFile]], dict[str, pa.Table | RawQuery]]
    # the publisher's address; the http resource's <name>_base_url (WAREHOUSE_<NAME>_BASE_URL) overrides
    # it in live mode (a mirror, or a local test server)
    base_url: str = ""
    docs_url: str = ""
    parse_empty_ok: bool = False  # parse({}) gives empty tables with the right columns (skippable sources)
    # the persistent history table its versions are compared in (OFAC): sample and real never mix there
    history_table: str | None = None
    # parsed tables -> counts worth reporting (e.g. orphan entries), keyed by publisher file;
    # a value's "text", if any, is its run-log line
    summarize: Callable[[dict[str, pa.Table]], dict] | None = None
    extra: dict = field(default_factory=dict)
    # how stale its raw tables may become before their freshness check fails (orchestration/freshness.py)
    max_age: timedelta = timedelta(days=35)

    def live_base_url(self, override: LiveAccess | str | None = None) -> str:
        """The address live mode fetches from: the override (a URL, or a LiveAccess's entry for this
        source) unless it is empty, else the publisher's `base_url`."""
        if isinstance(override, LiveAccess):
            return override.base_url(self)
        return ((override or "").strip() or self.base_url).rstrip("/")

    def local_folder(self, mode: SourceMode) -> Path:
        """Where bundled or directory mode reads this source's files: the sample, or <dir>/<source>."""
        return SAMPLE_DIR / self.name if mode.kind == BUNDLED else Path(mode.directory) / self.name  # type: ignore[arg-type]

    def url_of(self, spec: PublisherFile, base: LiveAccess | str | None = None) -> str:
        """Where live mode fetches `spec`: at the publisher's address, or under the override `base`."""
        return f"{self.live_base_url(base)}/{spec.url}" if self.base_url else spec.url

    def land(self, zone: LandingZone, mode: SourceMode, live: LiveAccess | None) -> dict[str, LandedFile]:
        """Bring every file of this source into the landing zone, from wherever the mode says
        (live mode needs `live`: the session, base-URL overrides and keys)."""
        landed: dict[str, LandedFile] = {}
        for spec in self.files:
            if mode.kind == LIVE:
                if live is None:
                    raise FetchError(self.name, spec.name, "live mode needs an HTTP session")
                try:
                    landed[spec.name] = zone.land_url(
                        live.session, self.name, spec.name, self.url_of(spec, live), spec.expect, encoding=spec.encoding
                    )
                except NotFound:
                    if spec.required:
                        raise
                continue
            folder = self.local_folder(mode)
            path = folder / spec.name
            if not path.exists():
                if spec.required:
                    where = "the bundled sample" if mode.kind == BUNDLED else f"directory {folder}"
                    raise FetchError(self.name, spec.name, f"required file is missing from {where} (expected {path})")
                continue
            landed[spec.name] = zone.land_local(self.name, spec.name, path, mode.kind, spec.expect, spec.encoding)
        return landed


def optional_file_note(source: Source, landed: Mapping[str, LandedFile]) -> dict[str, str]:
    """Optional publisher files that were not present: reported, never silently dropped."""
    return {
        spec.name: "absent (optional file; its table is empty on purpose)"
        for spec in source.files
        if not spec.required and not any(fnmatch.fnmatchcase(name, spec.name) for name in landed)
    }

