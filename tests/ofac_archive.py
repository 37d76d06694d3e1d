"""Versions of the OFAC SDN list derived from the real published files in ../shared/data/ofac, in
OFAC's exact format (no header, CRLF, a final 0x1A line), for backfill tests and the benchmark.

A list is held as {file name: [record lines]}; each record's first field is its ent_num. Edits
are the changes OFAC makes day to day: additions, delistings, changed fields, moved addresses.
"""

from __future__ import annotations

import random
from pathlib import Path

from tests.conftest import shared_path

CRLF, EOF = b"\r\n", b"\x1a"
FILES = ("SDN.CSV", "ADD.CSV", "ALT.CSV")

List = dict[str, list[bytes]]


def read_list(snapshot: str) -> List:
    return {name: _records(shared_path("ofac", snapshot, name).read_bytes()) for name in FILES}


def _records(data: bytes) -> list[bytes]:
    lines = data.split(CRLF)
    assert lines[-1] == EOF, "an OFAC export ends with CRLF then 0x1A"
    return lines[:-1]


def ent_num(record: bytes) -> int:
    return int(record.split(b",", 1)[0])


def write_list(folder: Path, lists: List, names: dict[str, str] | None = None) -> Path:
    """Write the files in OFAC's format; `names` renames some (e.g. {"ADD.CSV": "add.csv"})."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, records in lists.items():
        (folder / (names or {}).get(name, name)).write_bytes(CRLF.join(records) + CRLF + EOF)
    return folder


def subset(lists: List, keep: set[int]) -> List:
    return {name: [r for r in records if ent_num(r) in keep] for name, records in lists.items()}


def entries(lists: List) -> list[int]:
    return [ent_num(r) for r in lists["SDN.CSV"]]


def delist(lists: List, gone: set[int]) -> List:
    return subset(lists, set(entries(lists)) - gone)


def replace_in(lists: List, name: str, target: int, old: bytes, new: bytes) -> List:
    """`old` replaced by `new` in the first record of entry `target` in file `name` that holds it."""
    out = {n: list(records) for n, records in lists.items()}
    for index, record in enumerate(out[name]):
        if ent_num(record) == target and old in record:
            out[name][index] = record.replace(old, new, 1)
            return out
    raise ValueError(f"no record of {target} in {name} holds {old!r}")


def relist(lists: List, source: List, back: set[int]) -> List:
    """Entries of `source` listed again (with their addresses and aliases)."""
    return {name: records + [r for r in source[name] if ent_num(r) in back] for name, records in lists.items()}


def daily_change(lists: List, rng: random.Random, added_pool: List, adds: int, removals: int, edits: int) -> List:
    """One day of changes at realistic rates: `adds` entries from `added_pool`, `removals`
    delistings, `edits` entries whose remarks change."""
    current = entries(lists)
    listed = set(current)
    pool = [e for e in entries(added_pool) if e not in listed]
    new = set(rng.sample(pool, min(adds, len(pool))))
    changed = relist(lists, added_pool, new) if new else lists
    gone = set(rng.sample(current, min(removals, len(current))))
    changed = delist(changed, gone)
    out = {n: list(r) for n, r in changed.items()}
    for index in rng.sample(range(len(out["SDN.CSV"])), min(edits, len(out["SDN.CSV"]))):
        out["SDN.CSV"][index] = _remark_updated(out["SDN.CSV"][index])
    return out


REMARKS_MAX = 1000  # OFAC cuts remarks at 1,000 characters


def _remark_updated(record: bytes) -> bytes:
    """The entry's remarks (its last field) with " (updated)" at the end, within OFAC's 1,000
    characters (the end of a long remark gives way), or without it if an earlier day added it; the
    record as it was if it has no remarks."""
    if not record.endswith(b'"') or b',"' not in record:
        return record
    head, remark = record[:-1].rsplit(b',"', 1)
    suffix = b" (updated)"
    if remark.endswith(suffix):
        return head + b',"' + remark[: -len(suffix)] + b'"'  # edited on an earlier day: edited back
    return head + b',"' + remark[: REMARKS_MAX - len(suffix)] + suffix + b'"'

