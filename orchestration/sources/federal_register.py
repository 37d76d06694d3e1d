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

Parsing: from FAST_PATH_MIN_BYTES of answers on, DuckDB reads them all in one statement (each
document field as raw JSON, so its JSON type is checked as document_row checks it; the answers
without `results`, small, in Python). Whatever it cannot read or flags (its checks are stricter
than Python's) goes to the document-by-document Python reading, which names the file and the
cause, or gives the table when it finds nothing wrong. The two give the same table.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

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
    """Every document of every landed answer as one raw row, provenance per row.

    From FAST_PATH_MIN_BYTES of answers on, DuckDB reads and checks them all in one statement
    (`_parse_fast`). When it cannot, or when any of its checks flags an answer or a document, the
    Python reading (`parse_in_python`) decides: it raises the FormatError naming the file and the
    cause or, finding nothing wrong, its table is the answer (the fast checks are stricter than
    Python's, which only costs time). Smaller landings are read in Python straight away: below that
    size, Python is done before DuckDB has started.
    """
    if not landed:
        raise FormatError(SOURCE, "answers", "no Federal Register answers were landed")
    if sum(f.size for f in landed.values()) < FAST_PATH_MIN_BYTES:
        PARSE_PATHS["small"] += 1
        return parse_in_python(landed)
    try:
        fast = _parse_fast(landed)
    except Exception as exc:  # DuckDB could not read an answer, or a Python check of one refused it: the
        # fast path only ever saves time, so whatever stops it, the Python reading decides
        fast = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    if isinstance(fast, pa.Table):
        PARSE_PATHS["fast"] += 1
        return {TABLE: fast}
    PARSE_PATHS["fallback"] += 1
    PARSE_PATHS[f"fallback: {fast}"] += 1
    return parse_in_python(landed)


def parse_in_python(landed: Mapping[str, LandedFile]) -> dict[str, pa.Table]:
    """`parse` document by document in Python: the reference the fast path must equal, and the
    reading that names the file and the cause of any problem."""
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


# -- the fast path: every answer read and checked by DuckDB in one statement ------------------------
# Below this many bytes of answers, parse() reads them in Python: DuckDB takes some 40 ms to start
# and check, then about 6 ms a megabyte, where Python takes 8 to 12 ms a megabyte (more as its heap
# grows), so below some 8 MB Python is done first.
FAST_PATH_MIN_BYTES = 8_000_000
# How parse() went, for tests and benchmarks: "small" (read in Python by size), "fast", or
# "fallback" plus "fallback: <why>" (the fast path handed the answers to the Python reading).
PARSE_PATHS: Counter[str] = Counter()

# What DuckDB's JSON reader (yyjson) accepts and Python's json.loads refuses: trailing commas, and
# inf / nan in any case (Python knows only NaN, Infinity, -Infinity). A byte-order mark, zero or
# several top-level values are caught below. Outside strings, these are a comma before `]` or `}`,
# or such a word as a value: first three cheap scans that start with a literal byte (a string in
# the answer may match them: "..., inf]"), then, only for a file they match, one that skips strings.
_WS = "[ \\t\\r\\n]*"
_ODD_NUMBER = f"[-+]?(?i:infinity|inf|nan){_WS}[,}}\\]]"
_MAYBE_LENIENT = (f",{_WS}(?:[\\]}}]|{_ODD_NUMBER})", f":{_WS}{_ODD_NUMBER}", f"\\[{_WS}{_ODD_NUMBER}")
_LENIENT = f'^(?s:"(?:[^"\\\\]|\\\\.)*"|[^"])*?(?:,{_WS}[\\]}}]|[-+]?(?i:inf|nan))'
_GLOB = re.compile(r"[*?\[\]{}]")

# Each document field as raw JSON, so its JSON type can be checked as document_row checks it.
_DOC_FIELDS = ("document_number", "type", *TEXT_FIELDS, *DATE_FIELDS, "executive_order_number")
_DOC_STRUCT = (
    "STRUCT(" + ", ".join(f'"{f}" JSON' for f in _DOC_FIELDS)
    + ', "agencies" STRUCT("raw_name" JSON, "name" JSON, "slug" JSON)[])'
)
_ANSWER_COLUMNS = {
    "count": "JSON", "description": "JSON", "next_page_url": "JSON", "results": f"{_DOC_STRUCT}[]",
    # a single-document answer (documents/{number}.json) is the document itself
    **{f: "JSON" for f in _DOC_FIELDS}, "agencies": 'STRUCT("raw_name" JSON, "name" JSON, "slug" JSON)[]',
}


def _first_last_printable(s: str) -> str:
    """SQL: `s` starts and ends with printable ASCII other than a space (so str.strip() keeps it whole)."""
    return f"(ascii(left({s}, 1)) between 33 and 126 and ascii(right({s}, 1)) between 33 and 126)"


def _agency_sql() -> tuple[str, str, str, str]:
    """SQL over one agency `a`: whether it is plain (slug and raw_name non-empty text: _agencies
    takes both as they are), then its slug, its name, and whether _agencies could refuse it or read
    it otherwise than this SQL does (parts not text, no slug nor name, a non-ASCII name to slugify)."""
    raw, name, slug = (f"(a.{k}->>'$')" for k in ("raw_name", "name", "slug"))
    plain = f"coalesce(json_type(a.slug) = 'VARCHAR' and json_type(a.raw_name) = 'VARCHAR' and {slug} <> '' and {raw} <> '', false)"
    source = f"coalesce(nullif({name}, ''), nullif({raw}, ''), '')"
    made = f"trim(regexp_replace(lower({source}), '[^a-z0-9]+', '-', 'g'), '-')"
    slug_of = f"coalesce(nullif({slug}, ''), {made})"
    label = f"coalesce(nullif({raw}, ''), nullif({name}, ''), {slug_of})"
    not_text = " or ".join(f"coalesce(json_type(a.{k}), 'VARCHAR') <> 'VARCHAR'" for k in ("raw_name", "name", "slug"))
    odd = (f"a is null or {not_text} or {slug_of} = '' "
           f"or (coalesce({slug}, '') = '' and regexp_matches({source}, '[^\\x00-\\x7f]'))")
    return plain, slug_of, label, odd


def _fast_sql() -> str:
    top = ", ".join(f'"{f}" := "{f}"' for f in (*_DOC_FIELDS, "agencies"))
    extracted = ", ".join(f"json_type(r.\"{f}\") as \"{f}_t\", r.\"{f}\"->>'$' as \"{f}_s\"" for f in _DOC_FIELDS)
    plain, slug_of, label, odd_agency = _agency_sql()
    types = ", ".join(f"'{t}'" for t in DOCUMENT_TYPES)
    eo_t, eo_s = '"executive_order_number_t"', '"executive_order_number_s"'
    checks = [
        f"""document_number_t is distinct from 'VARCHAR' or not {_first_last_printable('document_number_s')}""",
        f"type_t is not null and (type_t <> 'VARCHAR' or type_s not in ({types}))",
        *(f"{f}_t is not null and {f}_t <> 'VARCHAR'" for f in TEXT_FIELDS),
        *(f"{f}_t is not null and ({f}_t <> 'VARCHAR' or not regexp_full_match({f}_s, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
          f"or left({f}_s, 4) = '0000' or try_cast({f}_s as date) is null)" for f in DATE_FIELDS),
        f"{eo_t} is not null and {eo_t} not in ('UBIGINT', 'BIGINT') and ({eo_t} <> 'VARCHAR' "
        f"or ({eo_s} <> '' and not {_first_last_printable(eo_s)}))",
        # (a CASE: only the rows it selects evaluate the lambda, where AND would evaluate it for all)
        f"case when plain_agencies then false else list_bool_or(list_transform(agencies, lambda a: {odd_agency})) end",
    ]
    return f"""
    with answers as (
        select list_position($paths, filename) - 1 as file_idx,
               results is null as no_results,
               count::varchar as count_json, description::varchar as description_json,
               next_page_url::varchar as next_url_json,
               case when results is null and document_number is not null then [struct_pack({top})] else results end as docs
        from read_json($paths, format = 'unstructured', records = true, columns = $columns, filename = true,
                       maximum_object_size = 1000000000)
    ), unnested as (
        select file_idx, no_results, count_json, description_json, next_url_json, coalesce(len(docs), 0) as n,
               unnest(docs) as r, unnest(range(coalesce(len(docs), 0) + 1)) as ord
        from answers
    ), fields as (
        select file_idx, ord, ord = n as is_envelope, {extracted}, r.agencies as agencies,
               coalesce(list_bool_and(list_transform(r.agencies, lambda a: {plain})), true) as plain_agencies,
               no_results, count_json, description_json, next_url_json
        from unnested
    )
    select file_idx, is_envelope,
           document_number_s as document_number, citation_s as citation, type_s as document_type, subtype_s as subtype,
           {", ".join(f"try_cast({f}_s as date) as {f}" for f in DATE_FIELDS)},
           case when plain_agencies then list_transform(agencies, lambda a: a.slug->>'$')
                else list_transform(agencies, lambda a: {slug_of}) end as agency_slugs,
           case when plain_agencies then list_transform(agencies, lambda a: a.raw_name->>'$')
                else list_transform(agencies, lambda a: {label}) end as agency_names,
           title_s as title, abstract_s as abstract, html_url_s as html_url, pdf_url_s as pdf_url,
           raw_text_url_s as raw_text_url,
           case when {eo_t} = 'VARCHAR' then nullif({eo_s}, '')
                when {eo_t} in ('UBIGINT', 'BIGINT') then cast(cast({eo_s} as hugeint) as varchar) end
               as executive_order_number,
           not is_envelope and ({" or ".join(f"coalesce({c}, true)" for c in checks)}) as flagged,
           case when is_envelope then no_results end as no_results,
           case when is_envelope then count_json end as count_json,
           case when is_envelope then description_json end as description_json,
           case when is_envelope then next_url_json end as next_url_json
    from fields
    order by is_envelope, file_idx, ord
    """


_FAST_SQL = _fast_sql()
_LENIENT_SQL = f"""
    select filename from read_text($paths)
    where starts_with(content, chr(65279))
       or case when {" or ".join(f"regexp_matches(content, '{p}')" for p in _MAYBE_LENIENT)}
               then regexp_matches(content, '{_LENIENT}') else false end
    limit 1
"""


def _loads(text: str | None):
    return None if text is None else json.loads(text)


def _parse_fast(landed: Mapping[str, LandedFile]) -> pa.Table | str:
    """`parse`'s table read by DuckDB, or why the Python reading has to decide (a reason, for PARSE_PATHS).

    Raises duckdb.Error when DuckDB cannot read an answer (invalid JSON, a field of the wrong shape),
    FormatError from the Python checks of answers without `results` (empty searches, single
    documents: small files, read whole in Python)."""
    names = sorted(landed)
    paths = [str(landed[name].path) for name in names]
    if any(_GLOB.search(path) for path in paths) or len(set(paths)) != len(paths):
        return "a landed path DuckDB would read as a pattern"
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")
        lenient = con.execute(_LENIENT_SQL, {"paths": paths}).fetchall()
        if lenient:
            return f"{names[paths.index(lenient[0][0])]}: JSON that only a lenient reader accepts (BOM, trailing comma, inf or nan)"
        table = con.sql(_FAST_SQL, params={"paths": paths, "columns": _ANSWER_COLUMNS}).to_arrow_table()
    finally:
        con.close()

    envelope_at = table.num_rows - (pc.sum(table["is_envelope"]).as_py() or 0)
    envelopes = table.slice(envelope_at).select(
        ["file_idx", "no_results", "count_json", "description_json", "next_url_json"]).to_pylist()
    if Counter(e["file_idx"] for e in envelopes) != Counter(range(len(names))):
        return "an answer file is not exactly one JSON value"
    terms: list[str | None] = [None] * len(names)
    for envelope in envelopes:
        index = envelope["file_idx"]
        if envelope["no_results"]:  # an empty search, a single document, or a refusal: small, read in Python
            results, terms[index] = read_results(landed[names[index]])
            for position, result in enumerate(results):
                document_row(result, names[index], position)
            continue
        count = _loads(envelope["count_json"])
        if type(count) is not int or not 0 <= count < RESULT_CAP:
            return f"{names[index]}: count {count!r} needs the Python checks"
        terms[index] = search_term({"next_page_url": _loads(envelope["next_url_json"]),
                                    "description": _loads(envelope["description_json"])})
    documents = table.slice(0, envelope_at)
    if documents.num_rows == 0:
        return "no documents at all"
    if pc.any(documents["flagged"]).as_py():
        first = pc.index(documents["flagged"], True).as_py()
        return f"{names[documents['file_idx'][first].as_py()]}: document {documents['document_number'][first]} flagged"
    if documents.select(["file_idx", "document_number"]).group_by(["file_idx", "document_number"]).aggregate([]).num_rows \
            != documents.num_rows:
        return "a document twice in one answer"
    file_index = documents["file_idx"]
    columns = {
        **{c: documents[c] for c in COLUMNS if c not in ("search_term", "source_file")},
        "search_term": pc.take(pa.array(terms, pa.string()), file_index),
        "source_file": pc.take(pa.array(names, pa.string()), file_index),
    }
    rows = pa.table({c: columns[c].cast(kind) for c, kind in COLUMNS.items()})
    return with_provenance(rows, landed)


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
