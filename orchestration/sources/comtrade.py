"""UN Comtrade: what the partners report about their trade with Iraq (368) and Iran (364).

Iraq and Iran rarely report their own trade, so their trade is seen through the partners'
reports (mirror statistics). Each query asks, for one partner (Iraq or Iran), the main partners
(Turkiye 792, China 156, India 699, UAE 784, Korea 410, USA 842) plus the other country of the
pair, HS 2709, 2710, 2711, 271121, 2716 and TOTAL, imports and exports, for a few periods:

    keyless  GET https://comtradeapi.un.org/public/v1/preview/C/{M|A}/HS?reporterCode=..&partnerCode=..&period=..
    keyed    GET https://comtradeapi.un.org/data/v1/get/C/{M|A}/HS?...   header Ocp-Apim-Subscription-Key
    landed (and read in directory mode) as  <dir>/comtrade/C_{M|A}_HS_p{partner}_{first period}-{last period}.json

e.g. `C_M_HS_p368_202401-202405.json`. The preview answers at most 500 rows and has no paging,
so queries are split until at most reporters x commodities x flows x periods rows can come back
(420 < 500, checked when the plan is built), and an answer with 500 rows or more stops the run:
it was cut. With a key (the http resource's `comtrade_api_key`, bound to COMTRADE_API_KEY), the
same plan goes to the keyed data API; the key is sent as a header only, so it never reaches a URL,
the landing zone, a log or an error text.

The answer is `{"elapsedTime", "count", "data": [...], "error"}`; a non-empty `error` stops the
run. Rows have 47 fields whose order varies: they are read by name, and a missing or unknown field
is an error. Reporter and partner codes are Comtrade's (USA 842, India 699, World 0), mapped to ISO3
with `pycountry` plus the explicit exceptions below; an unknown code is an error. `qty`, `altQty`,
`netWgt` and `grossWgt` of 0 with unit -1 mean "unknown" and are read as NULL, never as zero.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pycountry

from orchestration.errors import FetchError, FormatError
from orchestration.landing import LandedFile, LandingZone
from orchestration.settings import LIVE, SourceMode
from orchestration.sources.base import LiveAccess, PublisherFile, RawTable, Source, with_provenance

SOURCE = "comtrade"
BASE_URL = "https://comtradeapi.un.org"
PREVIEW_PATH = "public/v1/preview/C/{freq}/HS"
DATA_PATH = "data/v1/get/C/{freq}/HS"
KEY_ENV = "COMTRADE_API_KEY"  # the environment variable the http resource's comtrade_api_key is bound to
KEY_HEADER = "Ocp-Apim-Subscription-Key"
ROW_CAP = 500  # the preview's hard cap per call (no paging): an answer this long was cut

IRAQ, IRAN = 368, 364
MAIN_PARTNERS = (792, 156, 699, 784, 410, 842)  # Turkiye, China, India, UAE, Korea, USA
COMMODITIES = ("2709", "2710", "2711", "271121", "2716", "TOTAL")
FLOWS = ("M", "X")
FIRST_YEAR = 2015
PERIODS_PER_CALL = 5

# Comtrade codes that are not ISO 3166 numeric (or not countries): mapped explicitly.
CODE_EXCEPTIONS = {
    0: "WLD",  # World (Comtrade's partnerISO is W00)
    842: "USA",  # ISO 840
    699: "IND",  # ISO 356
    251: "FRA",  # ISO 250
    579: "NOR",  # ISO 578
    757: "CHE",  # ISO 756
    381: "ITA",  # ISO 380
    490: "S19",  # "Other Asia, nes" (Taiwan in Comtrade's tables), Comtrade's own ISO-like code
}

# Every field of a row, by the publisher's name -> (raw column, Arrow type). 47 fields.
FIELDS: dict[str, tuple[str, pa.DataType]] = {
    "typeCode": ("type_code", pa.string()),
    "freqCode": ("freq_code", pa.string()),
    "refPeriodId": ("ref_period_id", pa.int64()),
    "refYear": ("ref_year", pa.int32()),
    "refMonth": ("ref_month", pa.int32()),
    "period": ("period", pa.string()),
    "reporterCode": ("reporter_code", pa.int32()),
    "reporterISO": ("reporter_iso", pa.string()),
    "reporterDesc": ("reporter_desc", pa.string()),
    "flowCode": ("flow_code", pa.string()),
    "flowDesc": ("flow_desc", pa.string()),
    "partnerCode": ("partner_code", pa.int32()),
    "partnerISO": ("partner_iso", pa.string()),
    "partnerDesc": ("partner_desc", pa.string()),
    "partner2Code": ("partner2_code", pa.int32()),
    "partner2ISO": ("partner2_iso", pa.string()),
    "partner2Desc": ("partner2_desc", pa.string()),
    "classificationCode": ("classification_code", pa.string()),
    "classificationSearchCode": ("classification_search_code", pa.string()),
    "isOriginalClassification": ("is_original_classification", pa.bool_()),
    "cmdCode": ("cmd_code", pa.string()),
    "cmdDesc": ("cmd_desc", pa.string()),
    "aggrLevel": ("aggr_level", pa.int32()),
    "isLeaf": ("is_leaf", pa.bool_()),
    "customsCode": ("customs_code", pa.string()),
    "customsDesc": ("customs_desc", pa.string()),
    "mosCode": ("mos_code", pa.string()),
    "motCode": ("mot_code", pa.int32()),
    "motDesc": ("mot_desc", pa.string()),
    "qtyUnitCode": ("qty_unit_code", pa.int32()),
    "qtyUnitAbbr": ("qty_unit_abbr", pa.string()),
    "qty": ("qty", pa.float64()),
    "isQtyEstimated": ("is_qty_estimated", pa.bool_()),
    "altQtyUnitCode": ("alt_qty_unit_code", pa.int32()),
    "altQtyUnitAbbr": ("alt_qty_unit_abbr", pa.string()),
    "altQty": ("alt_qty", pa.float64()),
    "isAltQtyEstimated": ("is_alt_qty_estimated", pa.bool_()),
    "netWgt": ("net_wgt", pa.float64()),
    "isNetWgtEstimated": ("is_net_wgt_estimated", pa.bool_()),
    "grossWgt": ("gross_wgt", pa.float64()),
    "isGrossWgtEstimated": ("is_gross_wgt_estimated", pa.bool_()),
    "cifvalue": ("cif_value", pa.float64()),
    "fobvalue": ("fob_value", pa.float64()),
    "primaryValue": ("primary_value", pa.float64()),
    "legacyEstimationFlag": ("legacy_estimation_flag", pa.int32()),
    "isReported": ("is_reported", pa.bool_()),
    "isAggregate": ("is_aggregate", pa.bool_()),
}
# A measure of 0 whose unit code is -1 is "not known", not zero.
UNKNOWN_WHEN_NO_UNIT = {"qty": "qtyUnitCode", "netWgt": "qtyUnitCode", "grossWgt": "qtyUnitCode", "altQty": "altQtyUnitCode"}
KEY = ("freq_code", "period", "reporter_code", "partner_code", "partner2_code", "flow_code", "cmd_code",
       "customs_code", "mot_code")
TABLE = "comtrade_mirror_trade"
FILE_NAME = re.compile(r"^C_(M|A)_HS_p(\d+)_(\d{4,6})-(\d{4,6})\.json$")


@dataclass(frozen=True)
class TradeQuery:
    """One call: one partner, several reporters, commodities and flows, a few periods."""

    freq: str  # M | A
    partner: int
    reporters: tuple[int, ...]
    periods: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"C_{self.freq}_HS_p{self.partner}_{self.periods[0]}-{self.periods[-1]}.json"

    @property
    def max_rows(self) -> int:
        return len(self.reporters) * len(COMMODITIES) * len(FLOWS) * len(self.periods)

    def params(self) -> dict[str, str]:
        return {
            "reporterCode": ",".join(str(r) for r in self.reporters),
            "partnerCode": str(self.partner),
            "period": ",".join(self.periods),
            "cmdCode": ",".join(COMMODITIES),
            "flowCode": ",".join(FLOWS),
            "partner2Code": "0",
            "customsCode": "C00",
            "motCode": "0",
            "includeDesc": "true",
        }

    def path(self, keyed: bool) -> str:
        return (DATA_PATH if keyed else PREVIEW_PATH).format(freq=self.freq)


def query_plan(today: date | None = None) -> tuple[TradeQuery, ...]:
    """Monthly since 2015 up to last month, annual for every complete year, split under the cap."""
    today = today or date.today()
    months = [f"{y}{m:02d}" for y in range(FIRST_YEAR, today.year + 1) for m in range(1, 13)
              if (y, m) < (today.year, today.month)]
    years = [str(y) for y in range(FIRST_YEAR, today.year)]
    plan: list[TradeQuery] = []
    for partner, other in ((IRAQ, IRAN), (IRAN, IRAQ)):
        reporters = (*MAIN_PARTNERS, other)
        for freq, periods in (("M", months), ("A", years)):
            for start in range(0, len(periods), PERIODS_PER_CALL):
                query = TradeQuery(freq, partner, reporters, tuple(periods[start:start + PERIODS_PER_CALL]))
                if query.max_rows >= ROW_CAP:
                    raise ValueError(f"{query.file_name} could return {query.max_rows} rows: split it further")
                plan.append(query)
    return tuple(plan)


class ComtradeSource(Source):
    """A planned set of queries in live mode; every `C_*_HS_*.json` file in bundled/directory mode."""

    def land(self, zone: LandingZone, mode: SourceMode, live: LiveAccess | None) -> dict[str, LandedFile]:
        if mode.kind == LIVE:
            if live is None:
                raise FetchError(self.name, "queries", "live mode needs an HTTP session")
            key = live.key(self.name)
            headers = {KEY_HEADER: key} if key else None
            landed: dict[str, LandedFile] = {}
            for query in query_plan():
                url = f"{live.base_url(self)}/{query.path(keyed=key is not None)}"
                landed[query.file_name] = zone.land_url(
                    live.session, self.name, query.file_name, url, "json", params=query.params(), headers=headers
                )
            return landed
        folder = self.local_folder(mode)
        names = sorted(p.name for p in folder.glob("*.json") if FILE_NAME.match(p.name)) if folder.is_dir() else []
        if not names:
            raise FetchError(
                self.name, str(folder), "no Comtrade answers found (expected files named like C_M_HS_p368_202401-202405.json)"
            )
        return {name: zone.land_local(self.name, name, folder / name, mode.kind, "json") for name in names}


def iso3(code: int, published_iso: str | None, file_name: str, role: str) -> str:
    """ISO3 of a Comtrade reporter/partner code; an unknown or contradicted code is an error."""
    mapped = CODE_EXCEPTIONS.get(code)
    if mapped is None:
        country = pycountry.countries.get(numeric=f"{code:03d}")
        if country is None:
            raise FormatError(
                SOURCE, file_name, f"{role} code {code} ({published_iso!r}) is neither ISO 3166 numeric nor in the exceptions table"
            )
        mapped = country.alpha_3
    if code != 0 and published_iso and re.fullmatch(r"[A-Z]{3}", published_iso) and published_iso != mapped:
        raise FormatError(SOURCE, file_name, f"{role} code {code} maps to {mapped}, but the answer says {published_iso}")
    return mapped


def read_answer(landed: LandedFile) -> list[dict]:
    """The rows of one Comtrade answer, after checking the envelope."""
    name = landed.name
    try:
        answer = json.loads(landed.path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FormatError(SOURCE, name, f"is not valid JSON ({exc.msg} at line {exc.lineno}); truncated?") from None
    if not isinstance(answer, dict):
        raise FormatError(SOURCE, name, "is not a Comtrade answer object {elapsedTime, count, data, error}")
    error = answer.get("error")
    if error:
        raise FetchError(SOURCE, name, f"the Comtrade API answered with an error: {str(error)[:300]!r}")
    data = answer.get("data")
    if not isinstance(data, list):
        raise FormatError(SOURCE, name, f"has no `data` list (keys: {', '.join(sorted(answer))})")
    if len(data) >= ROW_CAP:
        raise FormatError(
            SOURCE,
            name,
            f"returned {len(data)} rows, the preview's page cap of {ROW_CAP}: the answer is cut; split the query further",
        )
    if answer.get("count") is not None and answer["count"] != len(data):
        raise FormatError(SOURCE, name, f"says count {answer['count']} but holds {len(data)} rows")
    return data


def _row_values(row: dict, name: str, index: int) -> dict:
    if not isinstance(row, dict):
        raise FormatError(SOURCE, name, f"row {index} is not an object")
    missing = [f for f in FIELDS if f not in row]
    unknown = [f for f in row if f not in FIELDS]
    if missing or unknown:
        raise FormatError(
            SOURCE, name, f"row {index} does not have Comtrade's 47 fields: missing {missing or 'none'}, unknown {unknown or 'none'}"
        )
    values = dict(row)
    for measure, unit in UNKNOWN_WHEN_NO_UNIT.items():
        if values[measure] == 0 and values[unit] == -1:
            values[measure] = None
    return values


def _check_period(row: dict, name: str, this_month: date) -> None:
    period, freq = str(row["period"]), row["freqCode"]
    if freq == "M" and re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", period):
        start = date(int(period[:4]), int(period[4:]), 1)
    elif freq == "A" and re.fullmatch(r"\d{4}", period):
        start = date(int(period), 1, 1)
    else:
        raise FormatError(SOURCE, name, f"period {period!r} does not fit frequency {freq!r}")
    if start > this_month:
        raise FormatError(SOURCE, name, f"period {period} is in the future (today is {date.today()})")


def parse(landed: Mapping[str, LandedFile]) -> dict[str, pa.Table]:
    """Every landed answer as rows of one raw table, provenance per row; a key seen twice is an error."""
    if not landed:
        raise FormatError(SOURCE, "queries", "no Comtrade answers were landed")
    columns: dict[str, list] = {raw: [] for raw, _ in FIELDS.values()}
    extra: dict[str, list] = {c: [] for c in ("reporter_iso3", "partner_iso3", "source_file")}
    seen: dict[tuple, str] = {}
    this_month = date.today().replace(day=1)
    for file_name in sorted(landed):
        file = landed[file_name]
        if not FILE_NAME.match(file_name):
            raise FormatError(SOURCE, file_name, "is not named like a Comtrade query file (C_M_HS_p368_202401-202405.json)")
        for index, row in enumerate(read_answer(file)):
            values = _row_values(row, file_name, index)
            _check_period(values, file_name, this_month)
            for field, (raw, _) in FIELDS.items():
                columns[raw].append(values[field])
            key = tuple(values[f] for f in ("freqCode", "period", "reporterCode", "partnerCode", "partner2Code",
                                             "flowCode", "cmdCode", "customsCode", "motCode"))
            if key in seen:
                raise FormatError(
                    SOURCE,
                    file_name,
                    f"duplicate key: {values['freqCode']} {values['period']} reporter {values['reporterCode']} "
                    f"partner {values['partnerCode']} flow {values['flowCode']} cmd {values['cmdCode']} "
                    f"also in {seen[key]}",
                )
            seen[key] = file_name
            extra["reporter_iso3"].append(iso3(values["reporterCode"], values["reporterISO"], file_name, "reporter"))
            extra["partner_iso3"].append(iso3(values["partnerCode"], values["partnerISO"], file_name, "partner"))
            extra["source_file"].append(file_name)
    if not seen:
        raise FormatError(SOURCE, "queries", "every Comtrade answer is empty (no rows at all)")
    arrays = {}
    for field, (raw, kind) in FIELDS.items():
        try:
            arrays[raw] = pa.array(columns[raw], type=kind)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise FormatError(SOURCE, "data", f"field {field} has a value that is not {kind}: {exc}") from None
    arrays["reporter_iso3"] = pa.array(extra["reporter_iso3"], pa.string())
    arrays["partner_iso3"] = pa.array(extra["partner_iso3"], pa.string())
    arrays["source_file"] = pa.array(extra["source_file"], pa.string())
    return {TABLE: with_provenance(pa.table(arrays), landed)}


def _plan_files() -> tuple[PublisherFile, ...]:
    """The live plan as publisher files, so `warehouse sources` and the asset metadata list every call."""
    return tuple(
        PublisherFile(q.file_name, f"{q.path(keyed=False)}?" + "&".join(f"{k}={v}" for k, v in q.params().items()), "json")
        for q in query_plan()
    )


COMTRADE = ComtradeSource(
    name=SOURCE,
    title="UN Comtrade: partner-reported (mirror) trade with Iraq and Iran, HS 27 energy codes and totals",
    licence="UN Comtrade data: free reuse with attribution (UN Comtrade terms of use)",
    files=_plan_files(),
    tables=(
        RawTable(
            TABLE,
            "UN Comtrade monthly and annual trade of the main partners (and Iraq/Iran with each other) with "
            "Iraq and Iran, HS 2709/2710/2711/271121/2716/TOTAL, one row per reporter, partner, flow, "
            "commodity and period, with ISO3 codes mapped",
            KEY,
            ("C_*_HS_p*.json",),
        ),
    ),
    parse=parse,
    base_url=BASE_URL,
    docs_url="https://comtradedeveloper.un.org/",
)
