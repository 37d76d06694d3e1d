"""Backfill: many dated versions of the OFAC SDN list from an archive, loaded in one run.

    <archive>/ofac/<version>/SDN.CSV            required
    <archive>/ofac/<version>/ADD.CSV            where the archive has them
    <archive>/ofac/<version>/ALT.CSV
    <archive>/ofac/<version>/SDN_COMMENTS.CSV

`<version>` is the publication date, `YYYY-MM-DD` or `YYYY-MM-DDTHHMMSS` (US Eastern, as OFAC dates
its publications; a date alone is taken as 00:00 that day), or `publication-<id>` (OFAC's
publicationID). A file name differing only in case (`sdn.csv`) is accepted with a notice.

The run is a normal refresh of the OFAC source (same job, gates, write-audit-publish and history
tables) whose CSV raw tables hold every new version at once, each row with its version's identity
(`list_version`) and publication. Each version's files are landed in turn, in publication order,
so the observed clock (`observed_at`, the landing time) follows the publication order; the dbt
models compare successive versions in bulk. Placement against the history already recorded:

- a version whose identity is already recorded, published no later than the newest recorded
  version, is skipped (re-running a backfill, or an archive that overlaps the history);
- any other version published no later than the newest recorded version is refused, and the
  whole backfill with it: the history is append-only, and the change facts of the versions
  after it would have to be recomputed. Backfill into a fresh WAREHOUSE_HOME before the first
  refresh, or from an archive holding only newer versions;
- a version identical to the one before it (a day when nothing changed) adds no observation.

The advanced XML tables and the publication history table keep their published rows (an archive
holds the CSV exports only). A version that fails (a truncated file, ADD.CSV not belonging to its
SDN.CSV) stops the whole run, naming the version: nothing is published.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.errors import FetchError, FormatError, NothingNew, SourceError
from orchestration.landing import LandedFile, LandingZone
from orchestration.loading import check_history_lineage, keep_raw_tables, load_raw_tables
from orchestration.sources.base import RawQuery
from orchestration.sources.ofac import (
    EASTERN,
    FILES,
    LAYOUTS,
    LIST_FILES,
    LIST_TABLES,
    SOURCE,
    check_entries,
    check_orphans,
    check_records,
    csv_query,
    first_unreadable,
    list_files,
    list_version_of,
    loaded_counts,
    parse_advanced,
    parse_publications,
    raw_schema,
)
from orchestration.warehouse import Warehouse, tables_in

ARCHIVE_MODE = "archive"  # source_mode of backfilled rows
DATED = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T(\d{6}))?")
PUBLICATION = re.compile(r"publication-(\d+)")
CSV_TABLES = tuple(LIST_TABLES.values())
EXPECT = {spec.name: spec for spec in FILES}


@dataclass(frozen=True)
class ArchiveVersion:
    label: str  # the folder name
    published_at: datetime | None  # UTC
    publication_id: int | None
    files: dict[str, Path]  # publisher's file name -> the archive's file
    notices: tuple[str, ...] = ()

    @property
    def order(self) -> tuple:
        return (self.published_at, self.publication_id or 0)


def _version_of(folder: Path) -> ArchiveVersion:
    dated, numbered = DATED.fullmatch(folder.name), PUBLICATION.fullmatch(folder.name)
    published_at = publication_id = None
    if dated:
        try:
            wall = datetime.strptime(dated[1] + (dated[2] or "000000"), "%Y-%m-%d%H%M%S")
        except ValueError:
            raise FetchError(SOURCE, str(folder), "is not a valid date (YYYY-MM-DD or YYYY-MM-DDTHHMMSS)") from None
        published_at = wall.replace(tzinfo=EASTERN).astimezone(UTC)
    elif numbered:
        publication_id = int(numbered[1])
    else:
        raise FetchError(
            SOURCE, str(folder), "is not a list version: name it YYYY-MM-DD, YYYY-MM-DDTHHMMSS or publication-<id>"
        )
    files: dict[str, Path] = {}
    notices = []
    for path in sorted(folder.iterdir()):
        name = next((n for n in LIST_FILES if n.lower() == path.name.lower()), None)
        if name is None or not path.is_file():
            notices.append(f"{folder.name}/{path.name}: not an SDN list CSV export, ignored")
            continue
        if name in files:
            raise FetchError(SOURCE, str(path), f"a second file named {name} (case aside) in {folder.name}")
        if path.name != name:
            notices.append(f"{folder.name}/{path.name}: read as {name} (the publisher's name)")
        files[name] = path
    if "SDN.CSV" not in files:
        raise FetchError(SOURCE, str(folder), "has no SDN.CSV")
    return ArchiveVersion(folder.name, published_at, publication_id, files, tuple(notices))


def scan_archive(archive: Path) -> list[ArchiveVersion]:
    """The archive's list versions in publication order, or an error naming what is wrong."""
    root = Path(archive) / SOURCE
    if not root.is_dir():
        raise FetchError(SOURCE, str(archive), f"is not an archive: it has no {SOURCE}/ folder of list versions")
    versions = [_version_of(folder) for folder in sorted(root.iterdir()) if folder.is_dir()]
    if not versions:
        raise FetchError(SOURCE, str(root), "holds no list version folders")
    kinds = {v.published_at is None for v in versions}
    if len(kinds) > 1:
        raise FetchError(
            SOURCE, str(root), "mixes dated and publication-<id> folders, which cannot be put in one order: name them one way"
        )
    return sorted(versions, key=lambda v: v.order)


@dataclass(frozen=True)
class Recorded:
    """The newest list version already in the history (None: the history is empty)."""

    list_versions: frozenset[str] = frozenset()
    newest_version: str | None = None
    newest_published_at: datetime | None = None  # its publication, or else when it was observed
    newest_publication_id: int | None = None
    newest_label: str = ""


def recorded_history(warehouse: Warehouse, run_id: str) -> Recorded:
    with warehouse.connect(run_id) as con:
        present = tables_in(con)
        if "history.ofac_list_observations" not in present:
            return Recorded()
        known = {v for (v,) in con.execute("select distinct list_version from history.ofac_list_observations").fetchall()}
        publications = "history.ofac_list_publications" in present
        row = con.execute(
            "select o.list_version, o.observed_at, "
            + ("p.published_at, p.publication_id " if publications else "null, null ")
            + "from history.ofac_list_observations o "
            + ("left join history.ofac_list_publications p using (list_version) " if publications else "")
            + "order by o.observed_at desc limit 1"
        ).fetchone()
    if row is None:
        return Recorded()
    version, observed_at, published_at, publication_id = row
    clock = published_at or observed_at
    label = f"published {published_at:%Y-%m-%d %H:%M} UTC" if published_at else f"observed {observed_at:%Y-%m-%d %H:%M} UTC"
    return Recorded(frozenset(known), version, clock, publication_id, f"{version[:12]}…, {label}")


def is_newer(version: ArchiveVersion, recorded: Recorded) -> bool:
    if recorded.newest_published_at is None and recorded.newest_publication_id is None:
        return True
    if version.published_at is not None:
        return version.published_at > recorded.newest_published_at
    if recorded.newest_publication_id is None:
        raise FetchError(
            SOURCE, version.label, "cannot be placed: the newest recorded list version has no OFAC publication id "
            "to compare with; name the archive's folders by date"
        )
    return version.publication_id > recorded.newest_publication_id


@dataclass
class BackfillPlan:
    loaded: list[tuple[ArchiveVersion, dict[str, LandedFile]]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # labels already in the history
    unchanged: list[str] = field(default_factory=list)  # identical to the version just before
    deferred: list[str] = field(default_factory=list)  # after a return to a version of this batch
    notices: list[str] = field(default_factory=list)


def land_archive(
    zone: LandingZone, versions: list[ArchiveVersion], recorded: Recorded, log: Callable[[str], None]
) -> BackfillPlan:
    """Land each version's files in publication order and decide what it is: new, already recorded
    (skipped) or out of order (refused, naming it)."""
    plan = BackfillPlan()
    previous = recorded.newest_version
    in_batch: set[str] = set()
    for index, version in enumerate(versions):
        plan.notices.extend(version.notices)
        landed = {
            name: zone.land_local(SOURCE, name, path, ARCHIVE_MODE, EXPECT[name].expect, EXPECT[name].encoding)
            for name, path in version.files.items()
        }
        identity = list_version_of(landed)
        if is_newer(version, recorded):
            if identity == previous:
                plan.unchanged.append(version.label)  # a day on which nothing changed: no new observation
            elif identity in in_batch:
                # the list went back to a version loaded earlier in this batch: one load holds each
                # version once, so the rest waits for the next run of the same command
                plan.deferred = [v.label for v in versions[index:]]
                plan.notices.append(
                    f"{version.label}: the list returns to a version loaded earlier in this backfill; it and the "
                    f"{len(plan.deferred) - 1} version(s) after it load when the same command runs again"
                )
                break
            else:
                plan.loaded.append((version, landed))
                in_batch.add(identity)
            previous = identity
            continue
        if identity in recorded.list_versions:
            plan.skipped.append(version.label)
            continue
        raise FetchError(
            SOURCE,
            version.label,
            f"is older than the newest list version recorded in this WAREHOUSE_HOME ({recorded.newest_label}) and is not "
            "in its history: the history is append-only, so a backfill adds only newer versions. Backfill into a fresh "
            "WAREHOUSE_HOME before its first refresh, or leave this version out",
        )
    for notice in plan.notices:
        log(f"[{SOURCE}] notice: {notice}")
    if plan.skipped:
        log(f"[{SOURCE}] {len(plan.skipped)} version(s) already in the history, skipped: {', '.join(plan.skipped)}")
    if plan.unchanged:
        log(f"[{SOURCE}] {len(plan.unchanged)} version(s) identical to the one before, no new observation: "
            f"{', '.join(plan.unchanged)}")
    return plan


def _named(version: ArchiveVersion, exc: SourceError) -> SourceError:
    return type(exc)(SOURCE, f"archive version {version.label}, {exc.subject}", exc.cause)


def archive_queries(plan: BackfillPlan) -> dict[str, RawQuery | pa.Table]:
    """The CSV raw tables of every version to load, as SQL the build runs: each row with its
    version's identity, publication and provenance, as one refresh per version would give them.

    Each kind of file (SDN.CSV, ADD.CSV, ...) is read in one DuckDB statement over every version's
    file (`csv_query`) and joined to its versions there: four reads, not four per version, and the
    rows go straight into the build, never through Python. A file whose ending shows it truncated
    is refused here, a file that breaks the layout fails the load; either way
    `name_failing_version` names its version."""
    tables: dict[str, RawQuery | pa.Table] = {}
    for file_name, (table, _) in LAYOUTS.items():
        entries = [(landed[file_name], list_version_of(landed), version.published_at, version.publication_id)
                   for version, landed in plan.loaded if file_name in landed]
        if not entries:
            tables[table] = raw_schema(file_name).empty_table()
            continue
        try:
            tables[table] = csv_query(file_name, list_files(entries))
        except SourceError as exc:
            raise name_failing_version(plan, exc) from None
    return tables


def name_failing_version(plan: BackfillPlan, failure: Exception) -> SourceError:
    """Reading the archive's files at once failed: read them one by one to find the first version
    whose file fails, and name it."""
    for version, landed in plan.loaded:
        if (exc := first_unreadable(landed)) is not None:
            return _named(version, exc)
    if isinstance(failure, SourceError):
        return failure
    first = str(failure).strip().splitlines()[0]
    return FormatError(SOURCE, "archive", f"loading the archive's CSV files failed: {first}")


def check_versions(con: duckdb.DuckDBPyConnection, plan: BackfillPlan) -> None:
    """A refresh's checks on each loaded version, in bulk on the build's raw tables (`loaded_counts`):
    its SDN.CSV has entries, and its ADD.CSV and ALT.CSV belong to it (`check_orphans`); the first
    version in publication order that fails is named. First, each version's rows against its files'
    records (`check_records`): the files were read together, and DuckDB can drop rows silently so."""
    check_records(con, [landed for _, landed in plan.loaded], lambda index, exc: _named(plan.loaded[index][0], exc))
    entries, orphans = loaded_counts(con)
    for version, landed in plan.loaded:
        identity = list_version_of(landed)
        try:
            check_entries(entries.get(identity, 0))
            for file_name, counts in orphans.items():
                check_orphans(file_name, *counts.get(identity, (0, 0)))
        except SourceError as exc:
            raise _named(version, exc) from None


def load_backfill(warehouse: Warehouse, run_id: str, source, archive: str, zone: LandingZone,
                  log: Callable[[str], None]) -> dict[str, dict]:
    """Land, check, parse and load every new version of the archive into the run's build: the CSV
    raw tables hold them all; the other OFAC tables keep their published rows. Returns, per raw
    table, its row count and its report (what was loaded, skipped, noticed)."""
    versions = scan_archive(Path(archive))
    log(f"[{SOURCE}] backfill from {archive}: {len(versions)} list version(s), {versions[0].label} to {versions[-1].label}")
    plan = land_archive(zone, versions, recorded_history(warehouse, run_id), log)
    if not plan.loaded:
        raise NothingNew(SOURCE, archive, f"nothing to backfill: all {len(versions)} version(s) are already in the "
                            "history or identical to the version before them")
    every = {f"{version.label}/{name}": file for version, landed in plan.loaded for name, file in landed.items()}
    check_history_lineage(warehouse, run_id, source, every)  # every version at once: one look at the history
    tables = archive_queries(plan)
    others = {**parse_advanced({}), "ofac_publications": parse_publications({})}
    kept = keep_raw_tables(warehouse, run_id, source, "a backfill loads the SDN list's CSV exports only", empty=others)
    files_of = {table: [f for version, landed in plan.loaded for n, f in landed.items() if LIST_TABLES[n] == table]
                for table in CSV_TABLES}
    report = {
        "archive": str(archive),
        "versions_in_archive": len(versions),
        "loaded": [v.label for v, _ in plan.loaded],
        "skipped_already_recorded": plan.skipped,
        "unchanged_from_the_day_before": plan.unchanged,
        "deferred_to_the_next_run": plan.deferred,
        "notices": plan.notices,
    }
    try:
        counts = load_raw_tables(warehouse, run_id, source, tables, every, summary={"backfill": report}, files_of=files_of)
    except duckdb.Error as exc:
        raise name_failing_version(plan, exc) from None
    with warehouse.connect(run_id) as con:
        check_versions(con, plan)
    warehouse.record_report(run_id, f"backfill-{SOURCE}", {"kind": "backfill", "source": SOURCE, **report})
    first, last = plan.loaded[0][0].label, plan.loaded[-1][0].label
    log(f"[{SOURCE}] backfill: {len(plan.loaded)} version(s) loaded ({first} to {last}), "
        f"{counts['ofac_sdn']:,} SDN rows in all; {len(plan.skipped)} skipped as already recorded")
    return {**{t: {"rows": n, "kept": True} for t, n in kept.items()},
            **{t: {"rows": n, "backfill": report} for t, n in counts.items()}}
