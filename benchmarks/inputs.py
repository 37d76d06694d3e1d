"""Seeded benchmark inputs in each publisher's exact format, written as a WAREHOUSE_SOURCES directory.

- OFAC: the real list of 2024-01-22 (../shared/data/ofac, 13,869 entries with their addresses and
  aliases) grown to 18,000 x scale entries by copying real entries under new ent_num, add_num and
  alt_num values (OFAC's CSV layout as published: no header, CRLF, a final 0x1A line); the advanced
  XML and publication files are the bundled sample's.
- JODI: the full world history as JODI's per-year files (`2002.csv` ... `primaryyear2026.csv`,
  7-column layout): about 4.8 million rows at 1x (110 areas x 6 products x 6 flows x 4 units per
  month, 2002-01 to 2026-08), more areas at 10x; Iraq's and Iran's crude KBD rows carry values of
  their real size. Written by DuckDB's COPY (seconds, not minutes).
- Federal Register: documents.json answers of 1,000 documents each (5,000 documents at 1x), the
  API's fields, each answer one query window.
- IMF, Comtrade, EIA: the bundled sample's recordings at every scale (their queries are bounded by
  design: 20 IMF series, Comtrade preview calls of at most 500 rows; see RESULTS.md).
- A 300-version OFAC archive for the backfill, made by mutating the 1x list day by day at
  realistic rates (tests/ofac_archive.daily_change: additions, delistings, changed remarks).
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.settings import SAMPLE_DIR
from tests.ofac_archive import CRLF, EOF, daily_change, read_list, write_list

OFAC_ENTRIES_1X = 18_000
JODI_AREAS_1X = 110
FR_DOCUMENTS_1X = 5_000
FR_PER_ANSWER = 1_000
CLONE_STRIDE = 100_000  # copy k of the real list: ent_num, add_num and alt_num + k * stride


def _shift(record: bytes, offset: int, fields: int) -> bytes:
    parts = record.split(b",", fields)
    return b",".join([str(int(p) + offset).encode() for p in parts[:fields]] + parts[fields:])


def ofac_list(entries: int) -> dict[str, list[bytes]]:
    """The real 2024-01-22 list grown (or cut) to `entries` entries, each copy under new numbers."""
    real = read_list("snapshot-2024-01-22")
    out: dict[str, list[bytes]] = {name: [] for name in real}
    copy = 0
    while len(out["SDN.CSV"]) < entries:
        offset = copy * CLONE_STRIDE
        room = entries - len(out["SDN.CSV"])
        sdn = real["SDN.CSV"][:room]
        kept = {int(r.split(b",", 1)[0]) for r in sdn}
        out["SDN.CSV"] += [_shift(r, offset, 1) for r in sdn]
        for name in ("ADD.CSV", "ALT.CSV"):
            out[name] += [_shift(r, offset, 2) for r in real[name] if int(r.split(b",", 1)[0]) in kept]
        copy += 1
    return out


def write_ofac(folder: Path, entries: int) -> dict[str, int]:
    lists = ofac_list(entries)
    write_list(folder, lists)
    for name in ("SDN_COMMENTS.CSV", "SDN_ADVANCED.XML", "changes_history_2024.json"):
        (folder / name).write_bytes((SAMPLE_DIR / "ofac" / name).read_bytes())
    return {name: len(records) for name, records in lists.items()}


def write_jodi(folder: Path, areas: int, seed: int) -> int:
    """JODI's per-year world files; returns the row count."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")
        con.execute(f"select setseed({(seed % 1000) / 1000})")
        con.execute("""
            create table rows as
            with areas as (
                -- IQ and IR, then other two-letter codes (never IQ or IR again), then three-letter ones
                select case when i = 0 then 'IQ' when i = 1 then 'IR'
                            when i + 2 < 676 and i + 2 not in (224, 225)
                                then chr((65 + (i + 2) // 26)::int) || chr((65 + (i + 2) % 26)::int)
                            else chr((65 + (i // 676) % 26)::int) || chr((65 + (i // 26) % 26)::int)
                                 || chr((65 + i % 26)::int) end as area
                from range(?) t(i)
            ),
            months as (select strftime(m, '%Y-%m') as period from range(date '2002-01-01', date '2026-09-01', interval 1 month) t(m)),
            products as (select unnest(['CRUDEOIL', 'NGL', 'OTHERCRUDE', 'TOTCRUDE', 'CONDENSATE', 'HYDROGEN']) as product),
            flows as (select unnest(['INDPROD', 'TOTEXPSB', 'TOTIMPSB', 'REFINOBS', 'CLOSTLV', 'STOCKCH']) as flow),
            units as (select unnest(['KBD', 'KBBL', 'KL', 'KTONS']) as unit)
            select area, period, product, flow, unit,
                   case when area in ('IQ', 'IR') and product = 'CRUDEOIL' and flow = 'INDPROD' and unit = 'KBD'
                            then round(case when area = 'IQ' then 3800 else 3000 end + random() * 600, 4)::varchar
                        when area in ('IQ', 'IR') and product = 'CRUDEOIL' and flow = 'TOTEXPSB' and unit = 'KBD'
                            then round(case when area = 'IQ' then 3200 else 1200 end + random() * 500, 4)::varchar
                        when random() < 0.03 then 'x'
                        else round(random() * 50000, 4)::varchar end as value,
                   case when random() < 0.9 then '1' else '2' end as assessment
            from areas, months, products, flows, units
        """, [areas])
        total = con.execute("select count(*) from rows").fetchone()[0]
        for year in range(2002, 2027):
            name = f"primaryyear{year}.csv" if year == 2026 else f"{year}.csv"
            con.execute(f"""
                copy (select area as REF_AREA, period as TIME_PERIOD, product as ENERGY_PRODUCT, flow as FLOW_BREAKDOWN,
                             unit as UNIT_MEASURE, value as OBS_VALUE, assessment as ASSESSMENT_CODE
                      from rows where left(period, 4) = '{year}' order by area, period, product, flow, unit)
                to '{folder / name}' (header, delimiter ',', quote '"')
            """)
    finally:
        con.close()
    return total


def write_federal_register(folder: Path, documents: int, seed: int) -> int:
    """documents.json answers of FR_PER_ANSWER documents each, as the API pages them."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    template = json.loads(next(p for p in sorted((SAMPLE_DIR / "federal_register").glob("*.json"))
                               if "foreign-assets-control-office" in p.name).read_text())["results"][0]
    types = ["Notice", "Rule", "Proposed Rule", "Presidential Document"]
    written = 0
    answer = 0
    while written < documents:
        size = min(FR_PER_ANSWER, documents - written)
        start = date(2018, 1, 1) + timedelta(days=answer)
        term = "Iraq" if answer % 2 == 0 else "Iran"
        results = []
        for i in range(size):
            day = start + timedelta(days=rng.randrange(180))
            number = f"{day.year}-{answer:04d}{i:04d}"
            results.append({**template, "document_number": number, "type": rng.choice(types),
                            "publication_date": day.isoformat(),
                            "title": f"{rng.choice(['Notice of', 'Continuation of', 'Amendment to'])} {term} sanctions action {number}",
                            "abstract": f"{template['abstract']} ({term}, {number})",
                            "html_url": f"https://www.federalregister.gov/documents/{number}"})
        name = (f"documents_{term.lower()}_foreign-assets-control-office_{start.isoformat()}_"
                f"{(start + timedelta(days=180)).isoformat()}_p1.json")
        (folder / name).write_text(json.dumps({
            "count": size, "description": f"Documents matching '{term}' (benchmark answer {answer})",
            "total_pages": 1, "results": results}))
        written += size
        answer += 1
    return written


def write_sources(root: Path, scale: int, seed: int) -> dict:
    """A WAREHOUSE_SOURCES directory at `scale`; returns what it holds."""
    about = {
        "ofac": write_ofac(root / "ofac", OFAC_ENTRIES_1X * scale),
        "jodi_rows": write_jodi(root / "jodi", JODI_AREAS_1X * scale, seed),
        "federal_register_documents": write_federal_register(root / "federal_register", FR_DOCUMENTS_1X * scale, seed),
    }
    for name in ("imf", "comtrade", "eia"):
        if not (root / name).exists():
            (root / name).symlink_to(SAMPLE_DIR / name)
    about["bytes"] = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    return about


def write_archive(root: Path, versions: int, seed: int) -> dict:
    """`versions` daily OFAC list versions of real size under root/ofac/<YYYY-MM-DD>/."""
    rng = random.Random(seed)
    current = ofac_list(OFAC_ENTRIES_1X)
    pool = {name: [_shift(r, 9 * CLONE_STRIDE, 1 if name == "SDN.CSV" else 2) for r in records]
            for name, records in ofac_list(2_000).items()}
    day = date(2024, 1, 2)
    adds = removes = edits = 0
    for _ in range(versions):
        a, r, e = rng.choice([0, 0, 1, 2, 3, 5, 9]), rng.choice([0, 0, 0, 1, 2]), rng.choice([0, 1, 1, 2, 4])
        current = daily_change(current, rng, pool, a, r, e)
        adds, removes, edits = adds + a, removes + r, edits + e
        write_list(root / "ofac" / day.isoformat(), current)
        day += timedelta(days=1)
    size = sum(p.stat().st_size for p in (root / "ofac").rglob("*") if p.is_file())
    return {"versions": versions, "additions": adds, "delistings": removes, "edited": edits, "bytes": size,
            "entries_last": len(current["SDN.CSV"]), "format": f"CRLF records, final {EOF!r} line (OFAC's)",
            "line_end": CRLF.decode("unicode_escape")}
