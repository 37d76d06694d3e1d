"""EIA API v2 international data: Iraq's and Iran's monthly crude oil production (kb/d).

    GET https://api.eia.gov/v2/international/data/?api_key=...&frequency=monthly&data[0]=value
        &facets[productId][]=57&facets[activityId][]=1&facets[countryRegionId][]=IRQ
        &facets[countryRegionId][]=IRN&facets[unit][]=TBPD&offset=0&length=5000

Answer: {"response": {"total": "<n as a string>", "dateFormat": "YYYY-MM", "frequency": "monthly",
"data": [{"period", "productId", "activityId", "countryRegionId", "unit": "TBPD", "value": "<string>",
...}]}, "request": {"params": {"api_key": <the caller's key>, ...}}, "apiVersion": ...}.

The API needs a key (the http resource's `eia_api_key`, bound to EIA_API_KEY). Without one, live
mode skips the source with a notice and the raw table keeps its last published rows. The key goes
as the `api_key` query parameter, which the HTTP client redacts in URLs and errors; the API echoes
it in `request.params`, so every page is stored with `"api_key": "REDACTED"` (and any other
occurrence of the key replaced) before it reaches the landing zone. Pages are landed as
`international_crude_production_page<NNN>.json`, the names directory mode replays.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pyarrow as pa

from orchestration import http_client
from orchestration.errors import FetchError, FormatError, SourceSkipped
from orchestration.landing import LandedFile, LandingZone
from orchestration.settings import BUNDLED, LIVE, SourceMode
from orchestration.sources.base import LiveAccess, PublisherFile, RawTable, Source, with_provenance

SOURCE = "eia"
BASE_URL = "https://api.eia.gov/v2"
ROUTE = "international/data/"
KEY_ENV = "EIA_API_KEY"  # the environment variable the http resource's eia_api_key is bound to
PAGE_ROWS = 5000  # the API's maximum rows per request
MAX_PAGES = 50
TABLE = "eia_crude_production"
PAGE_NAME = "international_crude_production_page{:03d}.json"
PAGE_FILE = re.compile(r"^international_crude_production_page\d{3}\.json$")

PRODUCT_ID = "57"  # crude oil including lease condensate
ACTIVITY_ID = "1"  # production
UNIT = "TBPD"  # thousand barrels per day
COUNTRIES = ("IRQ", "IRN")
QUERY = {
    "frequency": "monthly",
    "data[0]": "value",
    "facets[productId][]": PRODUCT_ID,
    "facets[activityId][]": ACTIVITY_ID,
    "facets[countryRegionId][]": list(COUNTRIES),
    "facets[unit][]": UNIT,
    "sort[0][column]": "period",
    "sort[0][direction]": "asc",
    "sort[1][column]": "countryRegionId",
    "sort[1][direction]": "asc",
}
# EIA writes these instead of a number: NULL plus the marker, never zero.
MARKERS = ("--", "-", "NA", "(s)", "W", "*")
REDACTED = "REDACTED"
_ECHOED_KEY = re.compile(rb'("api_key"\s*:\s*")((?:[^"\\]|\\.)*)(")')

FILES = (PublisherFile(PAGE_NAME.format(1), ROUTE, "json"),)
TABLES = (
    RawTable(
        TABLE,
        "EIA international data: Iraq (IRQ) and Iran (IRN) monthly crude oil production including lease "
        "condensate, thousand barrels per day, one row per country and month",
        ("country_region_id", "period"),
        ("international_crude_production_page*.json",),
    ),
)

SCHEMA = pa.schema(
    [
        ("country_region_id", pa.string()),
        ("country_region_name", pa.string()),
        ("period_text", pa.string()),
        ("period", pa.date32()),
        ("product_id", pa.string()),
        ("product_name", pa.string()),
        ("activity_id", pa.string()),
        ("activity_name", pa.string()),
        ("unit", pa.string()),
        ("unit_name", pa.string()),
        ("value_kbd", pa.float64()),
        ("value_text", pa.string()),
        ("value_marker", pa.string()),
        ("data_flag_id", pa.string()),
        ("data_flag_description", pa.string()),
    ]
)
ROW_FIELDS = {
    "period": "period_text",
    "productId": "product_id",
    "productName": "product_name",
    "activityId": "activity_id",
    "activityName": "activity_name",
    "countryRegionId": "country_region_id",
    "countryRegionName": "country_region_name",
    "unit": "unit",
    "unitName": "unit_name",
    "value": "value_text",
    "dataFlagId": "data_flag_id",
    "dataFlagDescription": "data_flag_description",
}
KNOWN_ROW_FIELDS = set(ROW_FIELDS) | {"countryRegionTypeId", "countryRegionTypeName"}


def redact(body: bytes, key: str | None = None) -> bytes:
    """The answer with the echoed `api_key` (and any other occurrence of `key`) replaced."""
    body = _ECHOED_KEY.sub(rb"\g<1>" + REDACTED.encode() + rb"\g<3>", body)
    if key:
        body = body.replace(key.encode(), REDACTED.encode())
    return body


class EiaSource(Source):
    """Paged in live mode (needs EIA_API_KEY, else skipped); bundled / directory replay the pages."""

    def land(self, zone: LandingZone, mode: SourceMode, live: LiveAccess | None) -> dict[str, LandedFile]:
        if mode.kind == LIVE:
            return self._land_live(zone, live)
        folder = self.local_folder(mode)
        pages = sorted(p for p in folder.glob("*.json") if PAGE_FILE.match(p.name)) if folder.is_dir() else []
        if not pages:
            if mode.kind == BUNDLED:
                raise FetchError(self.name, str(folder), "the bundled sample has no EIA pages")
            raise SourceSkipped(
                self.name, str(folder),
                "no EIA pages (international_crude_production_page<NNN>.json) in this directory; "
                "EIA is optional, raw.eia_crude_production keeps its last published rows",
            )
        landed = {}
        for path in pages:
            with tempfile.TemporaryDirectory(prefix="eia-") as tmp:
                clean = Path(tmp) / path.name
                clean.write_bytes(redact(path.read_bytes(), live.key(self.name) if live else None))
                landed[path.name] = _commit(zone, path.name, clean, str(path), mode.kind)
        return landed

    def _land_live(self, zone: LandingZone, live: LiveAccess | None) -> dict[str, LandedFile]:
        if live is None:
            raise FetchError(self.name, ROUTE, "live mode needs an HTTP session")
        key = live.key(self.name)
        if not key:
            raise SourceSkipped(
                self.name, KEY_ENV,
                f"not set: EIA's API needs a key (free at https://www.eia.gov/opendata/register.php); "
                f"skipped, raw.{TABLE} keeps its last published rows",
            )
        url = f"{live.base_url(self)}/{ROUTE}"
        landed: dict[str, LandedFile] = {}
        offset, total = 0, None
        for page in range(1, MAX_PAGES + 1):
            name = PAGE_NAME.format(page)
            params = {**QUERY, "offset": str(offset), "length": str(PAGE_ROWS), "api_key": key}
            with tempfile.TemporaryDirectory(prefix="eia-") as tmp:
                raw = Path(tmp) / "answer.json"
                got = http_client.download(live.session, self.name, url, raw, params=params)
                clean = Path(tmp) / name
                clean.write_bytes(redact(raw.read_bytes(), key))
                raw.unlink()
                landed[name] = _commit(zone, name, clean, got.url, LIVE)
            rows, total = _page_counts(landed[name], total)
            offset += rows
            if offset >= total:
                return landed
            if rows == 0:
                raise FormatError(self.name, name, f"page is empty at offset {offset} of {total} rows")
        raise FormatError(self.name, url, f"more than {MAX_PAGES} pages of {PAGE_ROWS} rows: the query is not the one intended")


def _commit(zone: LandingZone, name: str, path: Path, origin: str, mode: str) -> LandedFile:
    """Archive already-redacted bytes with their true origin (URL or path) as provenance."""
    return zone.land_bytes(SOURCE, name, path.read_bytes(), origin, mode, "json")


def _page_counts(file: LandedFile, total: int | None) -> tuple[int, int]:
    response = _response(_load(file.path, file.name), file.name)
    page_total = _total(response, file.name)
    if total is not None and page_total != total:
        raise FormatError(SOURCE, file.name, f"total changed between pages ({total} then {page_total})")
    return len(response["data"]), page_total


def _load(path: Path, name: str) -> dict:
    try:
        body = json.loads(path.read_bytes())
    except ValueError as exc:
        raise FormatError(SOURCE, name, f"is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise FormatError(SOURCE, name, "is not an EIA API v2 answer (top level is not an object)")
    if "error" in body:
        # landed bytes are already redacted (the key replaced wherever it was): `api_key=` is the rest
        message = http_client.redact_text(json.dumps(body["error"])[:300], [])
        raise FormatError(SOURCE, name, f"EIA answered an error: {message}")
    return body


def _response(body: dict, name: str) -> dict:
    response = body.get("response")
    if not isinstance(response, dict) or not isinstance(response.get("data"), list) or "total" not in response:
        raise FormatError(SOURCE, name, "is not an EIA API v2 answer (no response.data list and response.total)")
    if response.get("frequency") != "monthly" or response.get("dateFormat") != "YYYY-MM":
        raise FormatError(
            SOURCE, name,
            f"expected monthly data dated YYYY-MM, got frequency {response.get('frequency')!r}, "
            f"dateFormat {response.get('dateFormat')!r}",
        )
    return response


def _total(response: dict, name: str) -> int:
    try:
        return int(str(response["total"]))
    except ValueError:
        raise FormatError(SOURCE, name, f"response.total is not a count: {response['total']!r}") from None


def parse(landed: Mapping[str, LandedFile], today: date | None = None) -> dict[str, pa.Table]:
    """Every landed page's rows, checked, with per-row provenance; parse({}) is the empty table."""
    if not landed:
        return {TABLE: SCHEMA.empty_table()}
    today = today or date.today()
    columns: dict[str, list] = {f.name: [] for f in SCHEMA}
    columns["source_file"] = []
    seen: dict[tuple[str, str], str] = {}
    total, rows_seen = None, 0
    for name, file in sorted(landed.items()):
        body = _load(file.path, name)
        response = _response(body, name)
        page_total = _total(response, name)
        if total is not None and page_total != total:
            raise FormatError(SOURCE, name, f"total changed between pages ({total} then {page_total})")
        total = page_total
        echoed = (body.get("request") or {}).get("params") or {}
        if "offset" in echoed and str(echoed["offset"]) != str(rows_seen):
            raise FormatError(SOURCE, name, f"page starts at offset {echoed['offset']}, expected {rows_seen}: a page is missing")
        for index, row in enumerate(response["data"]):
            record = _row(row, name, index, today)
            key = (record["country_region_id"], record["period_text"])
            if key in seen:
                raise FormatError(SOURCE, name, f"duplicate key (countryRegionId, period) {key[0]} {key[1]} (also in {seen[key]})")
            seen[key] = name
            for column, value in record.items():
                columns[column].append(value)
            columns["source_file"].append(name)
        rows_seen += len(response["data"])
    if rows_seen != total:
        raise FormatError(SOURCE, ", ".join(sorted(landed)), f"pages hold {rows_seen} rows but the answer's total is {total}: a page is missing")
    if rows_seen == 0:
        raise FormatError(SOURCE, ", ".join(sorted(landed)), "no rows: EIA returned no crude production for IRQ or IRN")
    rows = pa.table(columns, schema=pa.schema([*SCHEMA, pa.field("source_file", pa.string())]))
    return {TABLE: with_provenance(rows, landed)}


def _row(row: dict, name: str, index: int, today: date) -> dict:
    where = f"data[{index}]"
    if not isinstance(row, dict):
        raise FormatError(SOURCE, name, f"{where} is not an object")
    missing = [f for f in ("period", "countryRegionId", "productId", "activityId", "unit", "value") if f not in row]
    if missing:
        raise FormatError(SOURCE, name, f"{where} lacks {', '.join(missing)}")
    unknown = sorted(set(row) - KNOWN_ROW_FIELDS)
    if unknown:
        raise FormatError(SOURCE, name, f"{where} has fields this parser does not know: {', '.join(unknown)}")
    record = {column: (None if row.get(field) is None else str(row[field])) for field, column in ROW_FIELDS.items()}
    shown = f"{record['country_region_id']} {record['period_text']}"
    if record["unit"] != UNIT:
        raise FormatError(SOURCE, name, f"unit other than {UNIT} (thousand barrels per day): {shown} is in {record['unit']!r}")
    if record["product_id"] != PRODUCT_ID or record["activity_id"] != ACTIVITY_ID:
        raise FormatError(
            SOURCE, name,
            f"{shown} is productId {record['product_id']} / activityId {record['activity_id']}, "
            f"not crude production ({PRODUCT_ID} / {ACTIVITY_ID})",
        )
    if record["country_region_id"] not in COUNTRIES:
        raise FormatError(SOURCE, name, f"{where} is for {record['country_region_id']!r}, not one of {', '.join(COUNTRIES)}")
    period = record["period_text"] or ""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise FormatError(SOURCE, name, f"{where} period {period!r} is not a month as YYYY-MM")
    if period > f"{today:%Y-%m}":
        raise FormatError(SOURCE, name, f"period in the future: {shown} (today is {today.isoformat()})")
    record["period"] = date(int(period[:4]), int(period[5:7]), 1)
    text = record["value_text"]
    record["value_marker"] = None
    record["value_kbd"] = None
    if text is None or text.strip() in MARKERS:
        record["value_marker"] = "null" if text is None else text.strip()
    else:
        try:
            value = float(text)
        except ValueError:
            raise FormatError(SOURCE, name, f"value {text!r} for {shown} is neither a number nor an EIA marker") from None
        if value < 0:
            raise FormatError(SOURCE, name, f"negative kb/d: {shown} = {text}")
        record["value_kbd"] = value
    return record


EIA = EiaSource(
    name=SOURCE,
    title="EIA API v2 international data: crude oil production of Iraq and Iran",
    licence="US government work (EIA), public domain; EIA asks to be cited as the source",
    files=FILES,
    tables=TABLES,
    parse=parse,
    base_url=BASE_URL,
    docs_url="https://www.eia.gov/opendata/documentation.php",
    parse_empty_ok=True,
)
