"""OFAC CSV parsing on real-format files: the bundled sample and the real lists in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.errors import FormatError
from orchestration.landing import check_payload
from orchestration.sources.ofac import ADD_COLUMNS, ALT_COLUMNS, COMMENTS_COLUMNS, SDN_COLUMNS, read_ofac_csv
from tests.conftest import SAMPLE_OFAC, shared_path


def write(tmp_path: Path, data: bytes, name: str = "SDN.CSV") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def sample_bytes(name: str = "SDN.CSV") -> bytes:
    return (SAMPLE_OFAC / name).read_bytes()


def test_sample_is_in_ofac_byte_format():
    for name in ("SDN.CSV", "ADD.CSV", "ALT.CSV", "SDN_COMMENTS.CSV"):
        data = sample_bytes(name)
        assert data.endswith(b"\r\n\x1a"), name
        assert data.count(b"\n") == data.count(b"\r\n"), name


def test_sdn_sample_parses_with_quirks():
    table = read_ofac_csv(SAMPLE_OFAC / "SDN.CSV", "SDN.CSV", SDN_COLUMNS).to_pylist()
    assert len(table) == 51
    rows = {r["ent_num"]: r for r in table}
    fly = rows[39236]
    assert fly["sdn_name"] == "FLY BAGHDAD AIRLINES COMPANY"
    assert fly["sdn_type"] is None  # `-0- ` null marker: an entity
    assert fly["title"] is None and fly["vess_flag"] is None
    assert rows[47169]["sdn_type"] == "aircraft"
    assert rows[11177]["program"] == "SDGT] [IRAQ3] [IRGC] [IFSR"  # packed programs kept as published
    assert "Linked To: FLY BAGHDAD AIRLINES COMPANY" in rows[47169]["remarks"]
    assert all(r["remarks"] is None or not r["remarks"].startswith("-0-") for r in table)


def test_add_alt_and_comments_sample():
    addresses = read_ofac_csv(SAMPLE_OFAC / "ADD.CSV", "ADD.CSV", ADD_COLUMNS).to_pylist()
    fly = [a for a in addresses if a["ent_num"] == 39236]
    assert {(a["city_state_province_postal_code"], a["country"]) for a in fly} == {("Baghdad", "Iraq")}
    aliases = read_ofac_csv(SAMPLE_OFAC / "ALT.CSV", "ALT.CSV", ALT_COLUMNS).to_pylist()
    assert {a["alt_type"] for a in aliases} == {"aka", "fka", "nka"}
    comments = read_ofac_csv(SAMPLE_OFAC / "SDN_COMMENTS.CSV", "SDN_COMMENTS.CSV", COMMENTS_COLUMNS).to_pylist()
    assert [c["ent_num"] for c in comments] == [27307, 44718]


@pytest.mark.parametrize("snapshot, rows", [("snapshot-2024-01-18", 13848), ("snapshot-2024-01-22", 13869)])
def test_real_sdn_lists_parse(snapshot, rows):
    path = shared_path("ofac", snapshot, "SDN.CSV")
    table = read_ofac_csv(path, "SDN.CSV", SDN_COLUMNS)
    assert table.num_rows == rows
    ent_nums = table.column("ent_num").to_pylist()
    assert len(set(ent_nums)) == rows
    types = set(table.column("sdn_type").to_pylist())
    assert types == {None, "individual", "vessel", "aircraft"}
    assert (39236 in ent_nums) is (snapshot == "snapshot-2024-01-22")


def test_real_add_and_alt_parse():
    addresses = read_ofac_csv(shared_path("ofac", "snapshot-2024-01-22", "ADD.CSV"), "ADD.CSV", ADD_COLUMNS)
    aliases = read_ofac_csv(shared_path("ofac", "snapshot-2024-01-22", "ALT.CSV"), "ALT.CSV", ALT_COLUMNS)
    assert addresses.num_rows == 24776 and aliases.num_rows == 20260
    fly = [r for r in addresses.to_pylist() if r["ent_num"] == 39236]
    assert {r["country"] for r in fly} == {"Iraq"}


def test_missing_eof_byte_is_reported_as_truncation(tmp_path):
    data = sample_bytes()[:-1]  # ends with CRLF but without OFAC's 0x1A
    with pytest.raises(FormatError, match=r"\[ofac\] SDN.CSV: truncated.*0x1A"):
        read_ofac_csv(write(tmp_path, data), "SDN.CSV", SDN_COLUMNS)


def test_cut_mid_row_is_reported_as_truncation(tmp_path):
    data = sample_bytes()
    with pytest.raises(FormatError, match="truncated: the file ends mid-line"):
        read_ofac_csv(write(tmp_path, data[: len(data) // 2]), "SDN.CSV", SDN_COLUMNS)


def test_header_row_is_rejected(tmp_path):
    header = b"ent_num,SDN_Name,SDN_Type,Program,Title,Call_Sign,Vess_type,Tonnage,GRT,Vess_flag,Vess_owner,Remarks\r\n"
    with pytest.raises(FormatError, match=r"\[ofac\] SDN.CSV: does not match OFAC's 12-column layout"):
        read_ofac_csv(write(tmp_path, header + sample_bytes()), "SDN.CSV", SDN_COLUMNS)


@pytest.mark.parametrize("change", ["extra", "missing"])
def test_column_count_change_is_rejected(tmp_path, change):
    lines = sample_bytes()[:-1].split(b"\r\n")[:-1]
    lines = [line + b',"NEW"' for line in lines] if change == "extra" else [line.rsplit(b",", 1)[0] for line in lines]
    data = b"\r\n".join(lines) + b"\r\n\x1a"
    with pytest.raises(FormatError, match="12-column layout"):
        read_ofac_csv(write(tmp_path, data), "SDN.CSV", SDN_COLUMNS)


def test_lf_only_file_is_rejected(tmp_path):
    data = sample_bytes().replace(b"\r\n", b"\n")
    with pytest.raises(FormatError, match="CRLF"):
        read_ofac_csv(write(tmp_path, data), "SDN.CSV", SDN_COLUMNS)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"<!DOCTYPE html><html><head><title>Request Rejected</title></head><body>x</body></html>", "HTML page"),
        (b'{"error": "throttled"}', "expected CSV, got JSON"),
        (b'36,"AEROCARIBBEAN AIRLINES \xe9",-0- \r\n\x1a', "not valid utf-8"),
    ],
)
def test_payload_checks(tmp_path, data, message):
    with pytest.raises(FormatError, match=message) as error:
        check_payload("ofac", "SDN.CSV", write(tmp_path, data), "csv")
    assert str(error.value).startswith("[ofac] SDN.CSV:")


def test_new_all_null_trailing_column_is_rejected(tmp_path):
    # DuckDB's strict reader drops an extra trailing field equal to its `nullstr`; ours must not
    lines = sample_bytes()[:-1].split(b"\r\n")[:-1]
    data = b"\r\n".join(line + b",-0- " for line in lines) + b"\r\n\x1a"
    with pytest.raises(FormatError, match="12-column layout"):
        read_ofac_csv(write(tmp_path, data), "SDN.CSV", SDN_COLUMNS)


@pytest.mark.parametrize("chunk", [1, 2, 7, 1 << 20])
def test_payload_checks_while_landing_do_not_depend_on_chunking(chunk):
    """The checks run on the stream as it is landed (one read): the same verdict, the same offset,
    whatever the chunk size, and a multi-byte character split across chunks is not an error."""
    from orchestration.landing import PayloadCheck

    def verdict(data: bytes) -> str:
        check = PayloadCheck("ofac", "SDN.CSV", "csv")
        for start in range(0, len(data), chunk):
            check.feed(data[start:start + chunk])
        try:
            check.finish()
        except FormatError as error:
            return str(error)
        return "ok"

    good = '36,"BANCO NACIONAL DE CUBA — ÉLITE",-0- \r\n\x1a'.encode()
    assert verdict(good) == "ok"
    bad = good.replace("É".encode(), b"\xc9")
    assert verdict(bad) == f"[ofac] SDN.CSV: byte 0xc9 at offset {good.index('É'.encode())} is not valid utf-8"
    assert verdict(good[:-4] + "É".encode()[:1]).endswith("file ends inside a multi-byte utf-8 character (truncated?)")


def test_the_final_eof_line_is_skipped_not_cut(tmp_path):
    """The landed file is parsed as it is (no scratch copy without the 0x1A byte)."""
    path = write(tmp_path, sample_bytes())
    before = path.read_bytes()
    table = read_ofac_csv(path, "SDN.CSV", SDN_COLUMNS)
    assert table.num_rows == len(before.split(b"\r\n")) - 1 == 51
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [path.name]
