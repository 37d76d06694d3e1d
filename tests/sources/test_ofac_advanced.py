"""OFAC's advanced XML (SDN_ADVANCED.XML, CONS_ADVANCED.XML): the real 2024-02-23 excerpt in
../shared/data and the bundled sample, which joins an entry to every SDN.CSV ent_num."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from orchestration.errors import FormatError
from orchestration.sources.ofac import SDN_COLUMNS, read_ofac_csv
from orchestration.sources.ofac_advanced import NAMESPACES, orphan_summary, parse_advanced_xml
from tests.conftest import SAMPLE_OFAC, shared_path

EXCERPT = ("formats", "ofac_sdn_advanced_excerpt_2024-02-23.xml")
SAMPLE_XML = SAMPLE_OFAC / "SDN_ADVANCED.XML"
OLD_NS, NEW_NS = NAMESPACES
ADDED_2024_01_22 = {39236, 47168, 47169, 47170, 47177, 47178, 47179, 47180}


def sample_text() -> str:
    return SAMPLE_XML.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, name: str = "SDN_ADVANCED.XML") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def by_entry(parsed) -> dict[int, dict]:
    return {row["entry_id"]: row for row in parsed.entries.to_pylist()}


def test_real_excerpt_resolves_lists_and_reports_every_entry_as_orphan():
    parsed = parse_advanced_xml(shared_path(*EXCERPT), "SDN_ADVANCED.XML")
    entries = parsed.entries.to_pylist()
    assert len(entries) == 147
    assert Counter(e["list_name"] for e in entries) == {
        "SDN List": 67, "Sectoral Sanctions Identifications List": 40, "Consolidated List": 40,
    }
    assert not any(e["profile_present"] for e in entries)  # DOMAIN.md: the 37 parties are not theirs
    assert parsed.date_of_issue == date(2024, 2, 23)
    programs = parsed.references["SanctionsProgram"]
    assert programs[1001] == "IRAQ2" and programs[91103] == "IRAQ3"
    assert parsed.references["List"][1550] == "SDN List"

    first = by_entry(parsed)[18642]
    assert first["profile_id"] == 18642 and first["list_id"] == 1550
    assert first["listing_date"] == date(2015, 9, 29) and first["listing_date_precision"] == "day"
    assert (first["listing_year"], first["listing_month"], first["listing_day"]) == (2015, 9, 29)
    assert first["legal_bases"] == ["Executive Order 13224 (Terrorism)"]
    assert first["program_codes"] == ["SDGT"]
    ssi = by_entry(parsed)[50018669]  # one event per legal basis, both "Created"
    assert ssi["list_name"] == "Sectoral Sanctions Identifications List" and ssi["event_count"] == 2
    assert ssi["legal_bases"] == ["Executive Order 13662 (Ukraine)", "Executive Order 14024 (Russia)"]
    assert ssi["program_codes"] == ["UKRAINE-EO13662", "RUSSIA-EO14024"]
    dates = [e["listing_date"] for e in entries]
    assert min(dates) == date(2015, 9, 29) and max(dates) == date(2023, 12, 12)

    relations = {r["relationship_id"]: r for r in parsed.relationships.to_pylist()}
    assert relations[18480] == {
        "relationship_id": 18480, "from_profile_id": 47001, "to_profile_id": 47000,
        "relation_type": "Owned or Controlled By", "relation_quality": "Unknown",
    }

    summary = orphan_summary(parsed.entries.append_column("source_file", [["SDN_ADVANCED.XML"] * 147]))
    assert summary["SDN_ADVANCED.XML"]["orphans"] == 147
    assert summary["SDN_ADVANCED.XML"]["text"] == (
        "147 entries, 147 orphans (profile absent): SDN List 67, "
        "Sectoral Sanctions Identifications List 40, Consolidated List 40"
    )


def test_sample_joins_an_entry_to_every_sdn_ent_num():
    parsed = parse_advanced_xml(SAMPLE_XML, "SDN_ADVANCED.XML")
    entries = by_entry(parsed)
    ent_nums = set(read_ofac_csv(SAMPLE_OFAC / "SDN.CSV", "SDN.CSV", SDN_COLUMNS).column("ent_num").to_pylist())
    joined = {e["profile_id"] for e in entries.values() if e["profile_present"]}
    assert len(ent_nums) == 51 and joined == ent_nums
    orphans = [e for e in entries.values() if not e["profile_present"]]
    assert sorted(e["entry_id"] for e in orphans) == [18642, 18643]  # copied from the real excerpt
    assert {e["list_name"] for e in entries.values()} == {"SDN List"}

    fly = entries[39236]
    assert fly["list_name"] == "SDN List" and fly["listing_date"] == date(2024, 1, 22)
    assert fly["program_codes"] == ["SDGT"] and fly["legal_bases"] == ["Executive Order 13224 (Terrorism)"]
    assert {e for e, row in entries.items() if row["listing_date"] == date(2024, 1, 22)} == ADDED_2024_01_22
    assert entries[11177]["program_codes"] == ["SDGT", "IRAQ3", "IRGC", "IFSR"]  # SDN.CSV's packed programs
    assert (entries[28283]["listing_date_precision"], entries[28283]["listing_date"]) == ("month", date(2020, 1, 1))
    assert entries[28283]["listing_day"] is None
    assert (entries[306]["listing_date_precision"], entries[306]["listing_month"]) == ("year", None)

    aircraft = {r["from_profile_id"]: r["relation_type"] for r in parsed.relationships.to_pylist() if r["to_profile_id"] == 39236}
    assert aircraft == {47168: "Acting for or on behalf of", 47169: "Owned or Controlled By", 47170: "Owned or Controlled By"}


def test_newer_namespace_parses_identically(tmp_path):
    text = sample_text()
    assert text.count(OLD_NS) == 2  # xmlns and xsi:schemaLocation
    newer = parse_advanced_xml(write(tmp_path, text.replace(OLD_NS, NEW_NS)), "SDN_ADVANCED.XML")
    older = parse_advanced_xml(SAMPLE_XML, "SDN_ADVANCED.XML")
    assert newer.entries.equals(older.entries) and newer.relationships.equals(older.relationships)
    assert newer.entries.num_rows == 53


def test_cons_advanced_parses_with_its_list_names(tmp_path):
    # CONS_ADVANCED.XML has the same schema; rebuild the sample's entries onto the non-SDN lists
    text = sample_text().replace('ListID="1550">', 'ListID="91507">', 30).replace('ListID="1550">', 'ListID="91512">')
    parsed = parse_advanced_xml(write(tmp_path, text, "CONS_ADVANCED.XML"), "CONS_ADVANCED.XML")
    names = Counter(e["list_name"] for e in parsed.entries.to_pylist())
    assert names == {"Sectoral Sanctions Identifications List": 30, "Consolidated List": 23}


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace(OLD_NS, "http://example.org/sanctions/2.0"), "namespace 'http://example.org/sanctions/2.0' is not one of"),
        (lambda t: t.replace("<Month>1</Month>\n          <Day>22</Day>", "<Month>13</Month>\n          <Day>22</Day>", 1),
         "SanctionsEntry 39236 (EntryEvent 39236): date 2024-13-22: month 13 does not exist"),
        (lambda t: t.replace("<Year>2024</Year>\n          <Month>1</Month>\n          <Day>22</Day>",
                             "<Year>2024</Year>\n          <Month>2</Month>\n          <Day>31</Day>", 1),
         "SanctionsEntry 39236 (EntryEvent 39236): date 2024-2-31: day 31 does not exist in February 2024"),
        (lambda t: t.replace("<Year>2024</Year>\n          <Month>1</Month>", "<Month>1</Month>", 1),
         "SanctionsEntry 39236 (EntryEvent 39236): date ?-1-22 has no Year"),
        (lambda t: t.replace('<SanctionsEntry ID="39236" ProfileID="39236" ListID="1550">',
                             '<SanctionsEntry ID="39236" ProfileID="39236" ListID="1551">'),
         "SanctionsEntry 39236: ListID 1551 is not in ReferenceValueSets/ListValues"),
        (lambda t: t.replace('<EntryEvent ID="39236" EntryEventTypeID="1" LegalBasisID="1828">',
                             '<EntryEvent ID="39236" EntryEventTypeID="1" LegalBasisID="4242">'),
         "SanctionsEntry 39236 (EntryEvent 39236): LegalBasisID 4242 is not in ReferenceValueSets/LegalBasisValues"),
        (lambda t: t[: t.index("  <DistinctParties>")] + t[t.index("  <SanctionsEntries>"):].replace(
            "  <SanctionsEntryLinks />\n", "") .replace("</Sanctions>", "") + "  <DistinctParties>\n",
         "not well-formed XML"),
    ],
    ids=["unknown namespace", "month 13", "31 February", "no Year", "unresolvable ListID", "unresolvable LegalBasisID", "truncated"],
)
def test_bad_files_fail_naming_ofac_and_the_file(tmp_path, edit, message):
    text = sample_text()
    edited = edit(text)
    assert edited != text
    with pytest.raises(FormatError, match="^" + r"\[ofac\] SDN_ADVANCED\.XML: ") as error:
        parse_advanced_xml(write(tmp_path, edited), "SDN_ADVANCED.XML")
    assert message in str(error.value)


def test_an_entry_before_the_reference_sets_is_an_error(tmp_path):
    text = sample_text()
    start, end = text.index("  <ReferenceValueSets>"), text.index("  </ReferenceValueSets>\n") + len("  </ReferenceValueSets>\n")
    references = text[start:end]
    moved = text[:start] + text[end:].replace("  <SanctionsEntryLinks />\n", "  <SanctionsEntryLinks />\n" + references)
    with pytest.raises(FormatError, match=r"\[ofac\] SDN_ADVANCED\.XML: .*before ReferenceValueSets"):
        parse_advanced_xml(write(tmp_path, moved), "SDN_ADVANCED.XML")
