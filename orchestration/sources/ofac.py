"""OFAC Sanctions List Service CSV exports: SDN.CSV, ADD.CSV, ALT.CSV, SDN_COMMENTS.CSV.

The publisher's format (checked on real files): no header row, CRLF line ends, every file ends
with a DOS end-of-file byte 0x1A on a line of its own, the null marker is `-0- ` (with the
trailing space), and several programs are packed in one field as `IRAN] [SDGT] [IRGC`.
Parsing is done in bulk by DuckDB's strict CSV reader; the one quirk it cannot take, the final
0x1A, is checked and cut explicitly (never by switching reader errors off).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Mapping

import duckdb
import pyarrow as pa

from orchestration.errors import FormatError
from orchestration.landing import LandedFile
from orchestration.sources.base import PublisherFile, RawTable, Source

SOURCE = "ofac"
EXPORTS = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports"
NULL_MARKER = "-0- "
EOF_BYTE = b"\x1a"

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
)

TABLES = (
    RawTable("ofac_sdn", "OFAC SDN list entries (SDN.CSV), one row per listed entity", ("ent_num",), ("SDN.CSV",)),
    RawTable("ofac_addresses", "Addresses of SDN entries (ADD.CSV)", ("ent_num", "add_num"), ("ADD.CSV",)),
    RawTable("ofac_aliases", "Aliases of SDN entries (ALT.CSV): aka, fka, nka", ("ent_num", "alt_num"), ("ALT.CSV",)),
    RawTable(
        "ofac_comments",
        "Remarks beyond the 1,000-character cut of SDN.CSV (SDN_COMMENTS.CSV, optional)",
        ("ent_num",),
        ("SDN_COMMENTS.CSV",),
    ),
)

_LAYOUTS = {
    "SDN.CSV": ("ofac_sdn", SDN_COLUMNS),
    "ADD.CSV": ("ofac_addresses", ADD_COLUMNS),
    "ALT.CSV": ("ofac_aliases", ALT_COLUMNS),
    "SDN_COMMENTS.CSV": ("ofac_comments", COMMENTS_COLUMNS),
}


def read_ofac_csv(path: Path, name: str, columns: Mapping[str, str]) -> pa.Table:
    """Parse one OFAC CSV export into an Arrow table, or raise FormatError naming file and cause."""
    with tempfile.TemporaryDirectory(prefix="ofac-") as tmp:
        body = _without_eof_marker(path, name, Path(tmp) / name)
        con = duckdb.connect()
        try:
            # Read every field as text and turn the null marker into NULL afterwards: given
            # `nullstr`, DuckDB's strict reader silently drops an extra trailing field that holds
            # the null marker, so a new all-null column would pass unnoticed.
            typed = ", ".join(
                f"cast(nullif({column}, $null) as {kind}) as {column}" for column, kind in columns.items()
            )
            return con.sql(
                f"select {typed} from read_csv($path, header = false, columns = $columns, delim = ',', "
                "quote = '\"', escape = '\"', auto_detect = false, strict_mode = true)",
                params={"path": str(body), "columns": {c: "VARCHAR" for c in columns}, "null": NULL_MARKER},
            ).fetch_arrow_table()
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()
            detail = " ".join(line.strip() for line in first[:3])
            raise FormatError(
                SOURCE, name, f"does not match OFAC's {len(columns)}-column layout ({', '.join(columns)}): {detail}"
            ) from None
        finally:
            con.close()


def _without_eof_marker(path: Path, name: str, scratch: Path) -> Path:
    """OFAC ends each file with CRLF then 0x1A; cut that byte, refuse a file that lacks it."""
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
    shutil.copyfile(path, scratch)
    os.truncate(scratch, size - 1)
    return scratch


def parse(landed: Mapping[str, LandedFile]) -> dict[str, pa.Table]:
    """Every landed OFAC file as its raw table; an absent optional file gives an empty table."""
    tables: dict[str, pa.Table] = {}
    for file_name, (table, columns) in _LAYOUTS.items():
        if file_name in landed:
            tables[table] = read_ofac_csv(landed[file_name].path, file_name, columns)
        else:
            tables[table] = _empty(columns)
    if tables["ofac_sdn"].num_rows == 0:
        raise FormatError(SOURCE, "SDN.CSV", "has no entries")
    return tables


def _empty(columns: Mapping[str, str]) -> pa.Table:
    types = {"INTEGER": pa.int32(), "VARCHAR": pa.string()}
    return pa.table({name: pa.array([], type=types[kind]) for name, kind in columns.items()})


OFAC = Source(
    name=SOURCE,
    title="OFAC Sanctions List Service: SDN list CSV exports",
    licence="US government work, public domain",
    files=FILES,
    tables=TABLES,
    parse=parse,
    base_url=EXPORTS,
    docs_url="https://ofac.treasury.gov/sanctions-list-service",
)
