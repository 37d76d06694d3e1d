"""Federal Register API v1: rules, notices and presidential documents that mention Iraq or Iran.

    GET https://www.federalregister.gov/api/v1/documents.json
        ?conditions[term]=Iraq                              (and again with Iran)
        &conditions[agencies][]=foreign-assets-control-office   (one agency per query: OFAC,
                                 financial-crimes-enforcement-network, treasury-department,
                                 state-department), or conditions[type][]=PRESDOCU (no agency)
        &conditions[publication_date][gte]=2025-01-01&conditions[publication_date][lte]=2025-06-30
        &fields[]=document_number&fields[]=citation&...&per_page=1000&order=oldest&page=1
    landed (and read in directory mode) as  <dir>/federal_register/<name>.json, live pages named
        documents_{term}_{agency | presidential-documents}_{gte}_{lte}_p{page}.json

Live mode asks every half-year window from 2018-01-01 to today for each term and scope, and pages
with `page` while page < total_pages, at most 5 requests a second. The API's `count` and paging
stop at 10,000 results without saying so: a window whose count reaches 10,000 stops the run (split
the window), and the parser refuses such a page too, so a directory replay cannot hide it.

Directory and bundled mode read every `*.json` under the source folder: each file is one
documents.json answer (`{"count", "description", "total_pages", "next_page_url", "results"}`) of
ANY query, or one single-document answer (documents/{number}.json). Nothing is filtered here: every
document of every file is one raw row (key: source_file, document_number); the agency and term
rules live in dbt (int_federal_register__documents). An empty search has no `results` key at all
(`{"count": 0, "description": ...}`): zero rows. Fields a query did not ask for are NULL.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pyarrow as pa

from orchestration.errors import FetchError, FormatError
from orchestration.landing import LandedFile, LandingZone
from orchestration.settings import LIVE, SourceMode
from orchestration.sources.base import LiveAccess, PublisherFile, RawTable, Source, with_provenance

SOURCE = "federal_register"
BASE_URL = "https://www.federalregister.gov/api/v1"
DOCUMENTS_PATH = "documents.json"
TABLE = "federal_register_documents"

AGENCIES = (
    "foreign-assets-control-office",
    "financial-crimes-enforcement-network",
    "treasury-department",
    "state-department",
)
PRESIDENTIAL = "presidential-documents"  # the scope of the PRESDOCU query (no agency condition)
TERMS = ("Iraq", "Iran")
FIELDS = (
    "document_number", "citation", "type", "subtype", "publication_date", "signing_date", "effective_on",
    "agencies", "title", "abstract", "html_url", "pdf_url", "raw_text_url", "executive_order_number",
)
FIRST_DAY = date(2018, 1, 1)
PER_PAGE = 1000
RESULT_CAP = 10_000  # count and paging silently stop here
MAX_REQUESTS_PER_SECOND = 5

# `type` as the API shows it (display names; the filter codes are RULE, PRORULE, NOTICE, PRESDOCU...).
# The list is the API's own (ENTRY_TYPES in federalregister-api-core's Entry model).
DOCUMENT_TYPES = (
    "Rule",
    "Proposed Rule",
    "Notice",
    "Presidential Document",
    "Correction",
    "Uncategorized Document",
    "Sunshine Act Document",
)
DATE_FIELDS = ("publication_date", "signing_date", "effective_on")
TEXT_FIELDS = ("citation", "subtype", "title", "abstract", "html_url", "pdf_url", "raw_text_url")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TERM_IN_DESCRIPTION = re.compile(r"^Documents matching '(?P<term>.*?)'(?=\s|$)", re.S)

COLUMNS: dict[str, pa.DataType] = {
    "document_number": pa.string(),
    "citation": pa.string(),
    "document_type": pa.string(),
    "subtype": pa.string(),
    "publication_date": pa.date32(),
    "signing_date": pa.date32(),
    "effective_on": pa.date32(),
    "agency_slugs": pa.list_(pa.string()),
    "agency_names": pa.list_(pa.string()),
    "title": pa.string(),
    "abstract": pa.string(),
    "html_url": pa.string(),
    "pdf_url": pa.string(),
    "raw_text_url": pa.string(),
    "executive_order_number": pa.string(),
    "search_term": pa.string(),
    "source_file": pa.string(),
}
KEY = ("source_file", "document_number")


@dataclass(frozen=True)
class DocumentQuery:
    """One search: one term, one agency (or presidential documents), one publication-date window."""

    term: str
    scope: str  # an agency slug, or PRESIDENTIAL
    start: date
    end: date

    def file_name(self, page: int) -> str:
        return f"documents_{slugify(self.term)}_{self.scope}_{self.start}_{self.end}_p{page}.json"

    @property
    def window(self) -> str:
        return f"{self.start}..{self.end} ({self.term!r}, {self.scope})"

    def params(self, page: int) -> dict[str, str | list[str]]:
        scope = {"conditions[type][]": "PRESDOCU"} if self.scope == PRESIDENTIAL else {"conditions[agencies][]": self.scope}
        return {
            "conditions[term]": self.term,
            **scope,
            "conditions[publication_date][gte]": self.start.isoformat(),
            "conditions[publication_date][lte]": self.end.isoformat(),
            "fields[]": list(FIELDS),
            "per_page": str(PER_PAGE),
            "order": "oldest",
            "page": str(page),
        }


def windows(today: date | None = None) -> tuple[tuple[date, date], ...]:
    """Calendar half-years from FIRST_DAY to today, the last one cut at today: no gaps, no overlaps."""
    today = today or date.today()
    spans = []
    for year in range(FIRST_DAY.year, today.year + 1):
        for start, end in ((date(year, 1, 1), date(year, 6, 30)), (date(year, 7, 1), date(year, 12, 31))):
            if start <= today:
                spans.append((max(start, FIRST_DAY), min(end, today)))
    return tuple(spans)


def query_plan(today: date | None = None) -> tuple[DocumentQuery, ...]:
    return tuple(
        DocumentQuery(term, scope, start, end)
        for start, end in windows(today)
        for term in TERMS
        for scope in (*AGENCIES, PRESIDENTIAL)
    )


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class Throttle:
    """At most `per_second` calls of `wait()` per second (the Federal Register asks for restraint)."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / per_second
        self.clock, self.sleep = clock, sleep
        self.last: float | None = None

    def wait(self) -> None:
        if self.last is not None:
            pause = self.last + self.interval - self.clock()
            if pause > 0:
                self.sleep(pause)
        self.last = self.clock()


class FederalRegisterSource(Source):
    """The planned searches, page by page, in live mode; every `*.json` in bundled/directory mode."""

    def land(self, zone: LandingZone, mode: SourceMode, live: LiveAccess | None) -> dict[str, LandedFile]:
        if mode.kind == LIVE:
            if live is None:
                raise FetchError(self.name, "queries", "live mode needs an HTTP session")
            return self._land_live(zone, live)
        folder = self.local_folder(mode)
        names = sorted(p.name for p in folder.glob("*.json") if p.is_file()) if folder.is_dir() else []
        if not names:
            raise FetchError(self.name, str(folder), "no Federal Register answers found (expected documents.json answers saved as *.json)")
        return {name: zone.land_local(self.name, name, folder / name, mode.kind, "json") for name in names}

    def _land_live(self, zone: LandingZone, live: LiveAccess) -> dict[str, LandedFile]:
        url = f"{live.base_url(self)}/{DOCUMENTS_PATH}"
        throttle = Throttle(MAX_REQUESTS_PER_SECOND)
        landed: dict[str, LandedFile] = {}
        for query in query_plan():
            page, total_pages = 1, 1
            while True:
                name = query.file_name(page)
                throttle.wait()
                landed[name] = zone.land_url(live.session, self.name, name, url, "json", params=query.params(page))
                answer = load_answer(landed[name])
                count = answer.get("count")
                if isinstance(count, int) and count >= RESULT_CAP:
                    raise FormatError(
                        self.name, name,
                        f"the window {query.window} matched {count:,} documents, the API's silent cap of "
                        f"{RESULT_CAP:,} (count and paging stop there): split the window into smaller date ranges",
                    )
                if page == 1:
                    total_pages = _total_pages(answer, name)
                if page >= total_pages:
                    break
                page += 1
        return landed


def _total_pages(answer: dict, name: str) -> int:
    pages = answer.get("total_pages", 0 if "results" not in answer else 1)
    if not isinstance(pages, int) or isinstance(pages, bool) or pages < 0:
        raise FormatError(SOURCE, name, f"total_pages is {pages!r}, not a page count")
    if pages * PER_PAGE > RESULT_CAP:
        raise FormatError(SOURCE, name, f"total_pages {pages} goes past the API's cap of {RESULT_CAP:,} results")
    return pages


def load_answer(landed: LandedFile) -> dict:
    """One landed answer as a JSON object (search answer or single document)."""
    try:
        answer = json.loads(landed.path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FormatError(SOURCE, landed.name, f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); truncated?") from None
    if not isinstance(answer, dict):
        raise FormatError(SOURCE, landed.name, f"is a JSON {type(answer).__name__}, not a Federal Register answer object")
    return answer


def search_term(answer: dict) -> str | None:
    """The `conditions[term]` the page answered: from next_page_url, else from the description."""
    next_url = answer.get("next_page_url")
    if isinstance(next_url, str) and next_url:
        terms = parse_qs(urlsplit(next_url).query).get("conditions[term]")
        if terms:
            return terms[0]
    description = answer.get("description")
    if isinstance(description, str):
        match = TERM_IN_DESCRIPTION.match(description)
        if match:
            return match.group("term")
    return None


def read_results(landed: LandedFile) -> tuple[list, str | None]:
    """The documents of one answer and the term it searched for, after checking the envelope."""
    name = landed.name
    answer = load_answer(landed)
    count = answer.get("count")
    if "count" in answer and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        raise FormatError(SOURCE, name, f"count is {count!r}, not a number of documents")
    if isinstance(count, int) and count >= RESULT_CAP:
        shown = answer.get("description")
        raise FormatError(
            SOURCE, name,
            f"the query matched {count:,} documents, the API's silent cap of {RESULT_CAP:,} (count and paging stop "
            f"there, so documents are missing){f' [{shown}]' if shown else ''}: split its date window into smaller ones",
        )
    if "results" in answer:
        results = answer["results"]
        if not isinstance(results, list):
            raise FormatError(SOURCE, name, f"`results` is a JSON {type(results).__name__}, not a list of documents")
        return results, search_term(answer)
    if "document_number" in answer:  # a single-document answer: documents/{number}.json
        return [answer], None
    if "count" in answer:
        if count == 0:
            return [], search_term(answer)  # the API's empty search: no `results` key at all
        raise FormatError(SOURCE, name, f"says count {count} but has no `results`")
    errors = answer.get("errors")
    shown = f" (errors: {json.dumps(errors)[:300]})" if errors else ""
    raise FormatError(
        SOURCE, name,
        f"is neither a documents search answer (count, results) nor a single document (document_number); "
        f"keys: {', '.join(sorted(answer)) or 'none'}{shown}",
    )


def _text(result: dict, field: str, name: str, number: str) -> str | None:
    value = result.get(field)
    if value is None or isinstance(value, str):
        return value
    raise FormatError(SOURCE, name, f"document {number}: {field} is a JSON {type(value).__name__}, not text")


def _date(result: dict, field: str, name: str, number: str) -> date | None:
    value = result.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not ISO_DATE.match(value):
        raise FormatError(SOURCE, name, f"document {number}: {field} {value!r} is not a YYYY-MM-DD date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FormatError(SOURCE, name, f"document {number}: {field} {value!r} is not a calendar date") from None


def _executive_order_number(result: dict, name: str, number: str) -> str | None:
    value = result.get("executive_order_number")
    if isinstance(value, bool):
        raise FormatError(SOURCE, name, f"document {number}: executive_order_number is {value!r}")
    if isinstance(value, int):
        return str(value)  # older answers give a JSON number; the API's current form is a string
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    raise FormatError(SOURCE, name, f"document {number}: executive_order_number {value!r} is neither text nor a whole number")


def _agencies(result: dict, name: str, number: str) -> tuple[list[str] | None, list[str] | None]:
    agencies = result.get("agencies")
    if agencies is None:
        return None, None
    if not isinstance(agencies, list):
        raise FormatError(SOURCE, name, f"document {number}: agencies is a JSON {type(agencies).__name__}, not a list")
    slugs, names = [], []
    for agency in agencies:
        if not isinstance(agency, dict):
            raise FormatError(SOURCE, name, f"document {number}: an agency is {agency!r}, not an object")
        label = agency.get("raw_name") or agency.get("name")
        slug = agency.get("slug") or slugify(str(agency.get("name") or label or ""))
        if not slug:
            raise FormatError(SOURCE, name, f"document {number}: an agency has neither slug nor name ({agency!r})")
        slugs.append(slug)
        names.append(label or slug)
    return slugs, names


def document_row(result, name: str, index: int) -> dict:
    """One result as a raw row (without provenance); every field read explicitly."""
    if not isinstance(result, dict):
        raise FormatError(SOURCE, name, f"result {index} is a JSON {type(result).__name__}, not a document object")
    number = result.get("document_number")
    if not isinstance(number, str) or not number.strip():
        raise FormatError(SOURCE, name, f"result {index} has no document_number")
    document_type = result.get("type")
    if document_type is not None and document_type not in DOCUMENT_TYPES:
        raise FormatError(
            SOURCE, name,
            f"document {number}: type {document_type!r} is not one of the API's types ({', '.join(DOCUMENT_TYPES)})",
        )
    slugs, names = _agencies(result, name, number)
    row = {"document_number": number, "document_type": document_type, "agency_slugs": slugs, "agency_names": names,
           "executive_order_number": _executive_order_number(result, name, number)}
    row.update({field: _text(result, field, name, number) for field in TEXT_FIELDS})
    row.update({field: _date(result, field, name, number) for field in DATE_FIELDS})
    return row


def parse(landed: Mapping[str, LandedFile]) -> dict[str, pa.Table]:
    """Every document of every landed answer as one raw row, provenance per row."""
    if not landed:
        raise FormatError(SOURCE, "answers", "no Federal Register answers were landed")
    rows: list[dict] = []
    for file_name in sorted(landed):
        results, term = read_results(landed[file_name])
        seen: set[str] = set()
        for index, result in enumerate(results):
            row = document_row(result, file_name, index)
            if row["document_number"] in seen:
                raise FormatError(SOURCE, file_name, f"document {row['document_number']} appears twice in this answer")
            seen.add(row["document_number"])
            rows.append({**row, "search_term": term, "source_file": file_name})
    if not rows:
        raise FormatError(SOURCE, "answers", "every Federal Register answer is empty (no documents at all)")
    table = pa.table({column: pa.array([r[column] for r in rows], kind) for column, kind in COLUMNS.items()})
    return {TABLE: with_provenance(table, landed)}


def _plan_files() -> tuple[PublisherFile, ...]:
    """The first page of every planned search, so `warehouse sources` and the asset metadata list them."""
    return tuple(
        PublisherFile(q.file_name(1), f"{DOCUMENTS_PATH}?{urlencode(q.params(1), doseq=True, safe='[]')}", "json")
        for q in query_plan()
    )


FEDERAL_REGISTER = FederalRegisterSource(
    name=SOURCE,
    title="Federal Register: OFAC, FinCEN, Treasury and State documents and presidential documents on Iraq or Iran",
    licence="US government work, public domain",
    files=_plan_files(),
    tables=(
        RawTable(
            TABLE,
            "Federal Register documents as the API answered them, one row per document per landed answer "
            "(the same document in two pages is two rows), with the search term of its page; not filtered",
            KEY,
            ("*.json",),
        ),
    ),
    parse=parse,
    base_url=BASE_URL,
    docs_url="https://www.federalregister.gov/developers/documentation/api/v1",
    max_age=timedelta(days=5),  # business days: Friday to Tuesday over a Monday holiday, plus a day
)
