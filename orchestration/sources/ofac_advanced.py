"""OFAC's advanced XML exports, SDN_ADVANCED.XML and CONS_ADVANCED.XML (one schema), streamed.

The real SDN file is ~122 MB, so it is read with lxml `iterparse` and every element below the
top-level sections is cleared (with its already-read siblings) as soon as it has been read:
memory stays flat in the file's size (benchmarks/advanced_xml_memory.py). The layout, checked on
a real file of 2024-02-23 (shared/data/formats):

    Sanctions (xmlns = one of NAMESPACES)
      DateOfIssue, ReferenceValueSets/<Kind>Values/<Kind ID=..>name</Kind>   (first)
      Locations, IDRegDocuments, DistinctParties/DistinctParty/Profile[@ID]
      ProfileRelationships/ProfileRelationship, SanctionsEntries/SanctionsEntry, SanctionsEntryLinks

`SanctionsEntry/@ProfileID` = `Profile/@ID` = SDN.CSV's ent_num. Every ID an entry or relationship
uses is resolved through the reference sets read before it; an ID that does not resolve, or one met
before the reference sets, is a FormatError. An entry whose profile is not in the same file is an
orphan: kept (profile_present = false) and counted, never an error.
"""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa
from lxml import etree

from orchestration.errors import FormatError

SOURCE = "ofac"
NAMESPACES = (
    "http://www.un.org/sanctions/1.0",  # older files, and the real 2024-02-23 file
    "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML",  # reported for newer ones
)
ROOT = "Sanctions"
CREATED = "Created"  # the EntryEventType whose date is the listing date
PROGRAM = "Program"  # the SanctionsType whose measure names a program in its Comment
GREGORIAN = "Gregorian"

ENTRY_TYPES = {
    "entry_id": pa.int64(),
    "profile_id": pa.int64(),
    "list_id": pa.int64(),
    "list_name": pa.string(),
    "listing_date": pa.date32(),
    "listing_year": pa.int32(),
    "listing_month": pa.int32(),
    "listing_day": pa.int32(),
    "listing_date_precision": pa.string(),
    "legal_bases": pa.list_(pa.string()),
    "program_codes": pa.list_(pa.string()),
    "event_count": pa.int32(),
    "profile_present": pa.bool_(),
}
RELATIONSHIP_TYPES = {
    "relationship_id": pa.int64(),
    "from_profile_id": pa.int64(),
    "to_profile_id": pa.int64(),
    "relation_type": pa.string(),
    "relation_quality": pa.string(),
}


@dataclass
class AdvancedXml:
    """One parsed file: rows (with `source_file`, before provenance) and its reference sets."""

    entries: pa.Table
    relationships: pa.Table
    references: dict[str, dict[int, str]] = field(default_factory=dict)  # kind -> ID -> name
    date_of_issue: date | None = None


def empty_entries() -> pa.Table:
    return pa.schema(ENTRY_TYPES.items()).empty_table()


def empty_relationships() -> pa.Table:
    return pa.schema(RELATIONSHIP_TYPES.items()).empty_table()


class _Reader:
    def __init__(self, name: str):
        self.name = name
        self.ns = ""
        self.references: dict[str, dict[int, str]] = {}
        self.references_done = False
        self.profiles: set[int] = set()
        self.entries: dict[str, list] = {c: [] for c in ENTRY_TYPES if c != "profile_present"}
        self.relationships: dict[str, list] = {c: [] for c in RELATIONSHIP_TYPES}
        self.date_of_issue: date | None = None

    def fail(self, subject: str, cause: str) -> FormatError:
        return FormatError(SOURCE, self.name, f"{subject}: {cause}")

    def tag(self, local: str) -> str:
        return f"{{{self.ns}}}{local}"

    # -- reference sets ------------------------------------------------------------------
    def read_reference_set(self, group: etree._Element) -> None:
        for value in group:
            if not isinstance(value.tag, str):
                continue  # comments, processing instructions
            kind = etree.QName(value).localname
            raw_id = value.get("ID")
            if raw_id is None:
                raise self.fail(f"ReferenceValueSets/{etree.QName(group).localname}", f"a {kind} has no ID")
            self.references.setdefault(kind, {})[self._int(raw_id, f"{kind} ID")] = (value.text or "").strip()

    def resolve(self, kind: str, raw_id: str | None, subject: str) -> str:
        if raw_id is None:
            raise self.fail(subject, f"has no {kind}ID")
        if not self.references_done:
            raise self.fail(subject, f"uses {kind}ID {raw_id} before ReferenceValueSets (they must come first)")
        key = self._int(raw_id, f"{kind}ID of {subject}")
        try:
            return self.references[kind][key]
        except KeyError:
            raise self.fail(subject, f"{kind}ID {raw_id} is not in ReferenceValueSets/{kind}Values") from None

    def _int(self, text: str | None, what: str) -> int:
        try:
            return int(text)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise FormatError(SOURCE, self.name, f"{what} is not an integer: {text!r}") from None

    # -- parties, relationships, entries --------------------------------------------------
    def read_party(self, party: etree._Element) -> None:
        for profile in party.iter(self.tag("Profile")):
            self.profiles.add(self._int(profile.get("ID"), "Profile ID"))

    def read_relationship(self, element: etree._Element) -> None:
        rid = self._int(element.get("ID"), "ProfileRelationship ID")
        subject = f"ProfileRelationship {rid}"
        self.relationships["relationship_id"].append(rid)
        self.relationships["from_profile_id"].append(self._int(element.get("From-ProfileID"), f"From-ProfileID of {subject}"))
        self.relationships["to_profile_id"].append(self._int(element.get("To-ProfileID"), f"To-ProfileID of {subject}"))
        self.relationships["relation_type"].append(self.resolve("RelationType", element.get("RelationTypeID"), subject))
        quality = element.get("RelationQualityID")
        self.relationships["relation_quality"].append(
            None if quality is None else self.resolve("RelationQuality", quality, subject)
        )

    def read_entry(self, element: etree._Element) -> None:
        entry_id = self._int(element.get("ID"), "SanctionsEntry ID")
        subject = f"SanctionsEntry {entry_id}"
        profile_id = self._int(element.get("ProfileID"), f"ProfileID of {subject}")
        list_id = self._int(element.get("ListID"), f"ListID of {subject}")
        list_name = self.resolve("List", element.get("ListID"), subject)
        created: list[tuple[tuple[int, int, int], int, int | None, int | None]] = []
        legal_bases: list[str] = []
        events = 0
        for event in element.iterchildren(self.tag("EntryEvent")):
            events += 1
            event_subject = f"{subject} (EntryEvent {event.get('ID')})"
            kind = self.resolve("EntryEventType", event.get("EntryEventTypeID"), event_subject)
            basis = event.get("LegalBasisID")
            if basis is not None:
                name = self.resolve("LegalBasis", basis, event_subject)
                if name not in legal_bases:
                    legal_bases.append(name)
            if kind == CREATED:
                created.append(self.read_date(event.find(self.tag("Date")), event_subject))
        programs: list[str] = []
        for measure in element.iterchildren(self.tag("SanctionsMeasure")):
            measure_subject = f"{subject} (SanctionsMeasure {measure.get('ID')})"
            if self.resolve("SanctionsType", measure.get("SanctionsTypeID"), measure_subject) != PROGRAM:
                continue
            code = (measure.findtext(self.tag("Comment")) or "").strip()
            if not code:
                raise self.fail(measure_subject, "is a Program measure without a program code in its Comment")
            if code not in self.references.get("SanctionsProgram", {}).values():
                raise self.fail(measure_subject, f"program {code!r} is not in ReferenceValueSets/SanctionsProgramValues")
            if code not in programs:
                programs.append(code)
        if not created:
            raise self.fail(subject, f"has no EntryEvent of type {CREATED!r}, so no listing date")
        _, year, month, day = min(created)
        precision = "day" if day is not None else "month" if month is not None else "year"
        columns = self.entries
        columns["entry_id"].append(entry_id)
        columns["profile_id"].append(profile_id)
        columns["list_id"].append(list_id)
        columns["list_name"].append(list_name)
        columns["listing_date"].append(date(year, month or 1, day or 1))  # the period's first day; see precision
        columns["listing_year"].append(year)
        columns["listing_month"].append(month)
        columns["listing_day"].append(day)
        columns["listing_date_precision"].append(precision)
        columns["legal_bases"].append(legal_bases)
        columns["program_codes"].append(programs)
        columns["event_count"].append(events)

    def read_date(
        self, element: etree._Element | None, subject: str, check_calendar: bool = True
    ) -> tuple[tuple[int, int, int], int, int | None, int | None]:
        """(sort key, year, month or None, day or None) of a Date of Year/Month/Day elements."""
        if element is None:
            raise self.fail(subject, "has no Date")
        calendar_id = element.get("CalendarTypeID")
        if check_calendar and calendar_id is not None and self.resolve("CalendarType", calendar_id, subject) != GREGORIAN:
            raise self.fail(subject, f"date is not in the Gregorian calendar (CalendarTypeID {calendar_id})")
        parts = {}
        for part in ("Year", "Month", "Day"):
            text = element.findtext(self.tag(part))
            if text is not None:
                parts[part] = self._int(text.strip(), f"{part} of {subject}")
        year, month, day = parts.get("Year"), parts.get("Month"), parts.get("Day")
        shown = "-".join(str(parts.get(p, "?")) for p in ("Year", "Month", "Day"))
        if year is None:
            raise self.fail(subject, f"date {shown} has no Year")
        if not 1 <= year <= 9999:
            raise self.fail(subject, f"date {shown}: year {year} is out of range")
        if month is None and day is not None:
            raise self.fail(subject, f"date {shown} has a Day but no Month")
        if month is not None and not 1 <= month <= 12:
            raise self.fail(subject, f"date {shown}: month {month} does not exist")
        if day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]:  # type: ignore[arg-type]
            raise self.fail(subject, f"date {shown}: day {day} does not exist in {calendar.month_name[month]} {year}")  # type: ignore[index]
        return (year, month or 1, day or 1), year, month, day

    def read_date_of_issue(self, element: etree._Element) -> None:
        # it comes before ReferenceValueSets, so its CalendarTypeID cannot be resolved yet
        _, year, month, day = self.read_date(element, "DateOfIssue", check_calendar=False)
        self.date_of_issue = date(year, month or 1, day or 1)

    def check_root(self, element: etree._Element) -> None:
        qname = etree.QName(element)
        if qname.namespace not in NAMESPACES:
            raise self.fail(
                "root element",
                f"namespace {qname.namespace!r} is not one of OFAC's advanced XML namespaces ({', '.join(NAMESPACES)})",
            )
        if qname.localname != ROOT:
            raise self.fail("root element", f"is <{qname.localname}>, expected <{ROOT}>")
        self.ns = qname.namespace


# Handlers for the items directly below each top-level section, by section name.
_SECTION_ITEMS = {
    "ReferenceValueSets": _Reader.read_reference_set,
    "DistinctParties": _Reader.read_party,
    "ProfileRelationships": _Reader.read_relationship,
    "SanctionsEntries": _Reader.read_entry,
}


def parse_advanced_xml(path: Path, name: str) -> AdvancedXml:
    """Stream one SDN_ADVANCED.XML / CONS_ADVANCED.XML into entry and relationship rows."""
    reader = _Reader(name)
    depth = 0
    section = ""
    try:
        for event, element in etree.iterparse(
            str(path), events=("start", "end"), resolve_entities=False, no_network=True, remove_comments=True
        ):
            if event == "start":
                depth += 1
                if depth == 1:
                    reader.check_root(element)
                elif depth == 2:
                    section = etree.QName(element).localname
                continue
            level, depth = depth, depth - 1
            if level == 3 and section != "DateOfIssue":  # one item of a section: a reference set, a party...
                handler = _SECTION_ITEMS.get(section)
                if handler is not None:
                    handler(reader, element)
                _forget(element)
            elif level == 2:  # a section (or DateOfIssue) ended
                if section == "ReferenceValueSets":
                    reader.references_done = True
                elif section == "DateOfIssue":
                    reader.read_date_of_issue(element)
                _forget(element)
    except etree.XMLSyntaxError as exc:
        raise FormatError(SOURCE, name, f"is not well-formed XML (truncated?): {exc}") from None
    return reader_result(reader)


def reader_result(reader: _Reader) -> AdvancedXml:
    columns = dict(reader.entries)
    columns["profile_present"] = [p in reader.profiles for p in columns["profile_id"]]
    entries = pa.table({c: pa.array(columns[c], t) for c, t in ENTRY_TYPES.items()})
    relationships = pa.table({c: pa.array(reader.relationships[c], t) for c, t in RELATIONSHIP_TYPES.items()})
    return AdvancedXml(entries, relationships, reader.references, reader.date_of_issue)


def _forget(element: etree._Element) -> None:
    """Free an element that has been read, and the siblings read before it."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def orphan_summary(entries: pa.Table) -> dict[str, dict]:
    """Per source file: entries, orphans (profile absent) and both per list name, with a log line."""
    summary: dict[str, dict] = {}
    rows = entries.select(["source_file", "list_name", "profile_present"]).to_pylist()
    for file_name in sorted({r["source_file"] for r in rows}):
        mine = [r for r in rows if r["source_file"] == file_name]
        by_list = Counter(r["list_name"] for r in mine)
        orphans_by_list = Counter(r["list_name"] for r in mine if not r["profile_present"])
        orphans = sum(orphans_by_list.values())
        per_list = ", ".join(f"{name} {count}" for name, count in orphans_by_list.most_common())
        summary[file_name] = {
            "entries": len(mine),
            "orphans": orphans,
            "entries_by_list": dict(by_list.most_common()),
            "orphans_by_list": dict(orphans_by_list.most_common()),
            "text": f"{len(mine)} entries, {orphans} orphans (profile absent)" + (f": {per_list}" if per_list else ""),
        }
    return summary
