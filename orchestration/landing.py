"""The landing zone: every input's raw bytes, archived immutably by source and sha256.

    <home>/landing/<source>/<sha256[:2]>/<sha256>/<file name>     the bytes (read-only)
    <home>/landing/<source>/<sha256[:2]>/<sha256>/fetches.jsonl   one line per time they arrived
    <home>/landing/_rejected/<source>/...                          bytes that failed the checks

Whatever the source mode (bundled sample, live, directory), a file is checked here before any
parser sees it: empty, HTML instead of data, the wrong kind of document, or bytes that are not
in the declared encoding each stop the run with an error that names the source and the file.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

from orchestration import http_client
from orchestration.errors import FetchError, FormatError
from orchestration.progress import DownloadProgress

SNIFF_BYTES = 4096


@dataclass(frozen=True)
class LandedFile:
    source: str
    name: str  # the publisher's file name
    path: Path  # the archived, read-only copy parsers read
    sha256: str
    size: int
    origin: str  # URL (credentials redacted) or local path
    fetched_at: datetime
    mode: str  # bundled | live | directory

    @property
    def is_sample(self) -> bool:
        return self.mode == "bundled"

    def provenance(self) -> dict:
        return {
            "source": self.source,
            "file": self.name,
            "origin": self.origin,
            "fetched_at": self.fetched_at.isoformat(),
            "sha256": self.sha256,
            "size": self.size,
            "mode": self.mode,
            "is_sample": self.is_sample,
        }


class PayloadCheck:
    """The checks that refuse bytes that cannot be the publisher's file, fed chunk by chunk while
    the bytes are landed, so a file is read once to land and check it. `expect`: csv | json | xml | zip.

    Findings are raised by `finish()`, in a fixed order whatever the chunking: empty, an HTML page,
    the wrong kind of file, then the first byte that is not valid in `encoding`.
    """

    def __init__(self, source: str, name: str, expect: str, encoding: str = "utf-8"):
        self.source, self.name, self.expect, self.encoding = source, name, expect, encoding
        self.head = bytearray()
        self.size = 0
        self._decoder = codecs.getincrementaldecoder(encoding)() if expect != "zip" else None
        self._bad_byte: str | None = None

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
        if self._decoder is not None and self._bad_byte is None:
            pending = self._decoder.getstate()[0]  # the start of a character the last chunk cut in two
            try:
                self._decoder.decode(chunk)
            except UnicodeDecodeError as exc:  # exc.start counts from the pending bytes, not the chunk
                data = pending + chunk
                offset = self.size - len(pending) + exc.start
                self._bad_byte = f"byte {data[exc.start]:#04x} at offset {offset} is not valid {self.encoding}"
        self.size += len(chunk)

    def finish(self) -> None:
        source, name, expect, head = self.source, self.name, self.expect, bytes(self.head)
        if self.size == 0:
            raise FormatError(source, name, "file is empty (0 bytes); a publisher's file never is")
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text[:512] or b"<body" in text[:1024]:
            title = re.search(rb"<title>(.*?)</title>", head, re.I | re.S)
            shown = f" (title: {title.group(1).decode('utf-8', 'replace').strip()[:120]!r})" if title else ""
            raise FormatError(source, name, f"got an HTML page instead of {expect.upper()}{shown}")
        if expect == "zip":
            if not head.startswith(b"PK\x03\x04"):
                raise FormatError(source, name, "expected a ZIP archive, the bytes are not one")
            return
        if expect == "json" and not text.startswith((b"{", b"[")):
            raise FormatError(source, name, f"expected JSON, got bytes starting {head[:40]!r}")
        if expect == "xml" and not text.startswith(b"<"):
            raise FormatError(source, name, f"expected XML, got bytes starting {head[:40]!r}")
        if expect == "csv" and text.startswith((b"{", b"[", b"<")):
            kind = "JSON" if text.startswith((b"{", b"[")) else "XML/markup"
            raise FormatError(source, name, f"expected CSV, got {kind} starting {head[:40]!r}")
        if self._bad_byte is not None:
            raise FormatError(source, name, self._bad_byte)
        try:
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FormatError(source, name, f"file ends inside a multi-byte {self.encoding} character (truncated?)") from None


def check_payload(source: str, name: str, path: Path, expect: str, encoding: str = "utf-8") -> None:
    """The landing checks on a file already on disk (one read)."""
    check = PayloadCheck(source, name, expect, encoding)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            check.feed(chunk)
    check.finish()


class LandingZone:
    def __init__(self, root: Path, progress: Callable[[str], None] | None = None):
        self.root = root
        self.progress = progress  # where a download reports how far it got (the run log)

    def _incoming(self) -> Path:
        path = self.root / ".incoming" / uuid.uuid4().hex
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def land_local(self, source: str, name: str, src: Path, mode: str, expect: str, encoding: str = "utf-8") -> LandedFile:
        """Archive a file from the bundled sample or a directory of publisher files."""
        if not src.is_file():
            raise FetchError(source, str(src), "file not found (the publisher's file name is expected)")
        tmp = self._incoming()
        digest = hashlib.sha256()
        check = PayloadCheck(source, name, expect, encoding)
        with open(src, "rb") as inp, open(tmp, "wb") as out:
            while chunk := inp.read(1 << 20):  # one pass: copy, hash and check
                out.write(chunk)
                digest.update(chunk)
                check.feed(chunk)
        return self._commit(source, name, tmp, digest.hexdigest(), check.size, str(src), mode, check)

    def land_bytes(
        self, source: str, name: str, data: bytes, origin: str, mode: str, expect: str, encoding: str = "utf-8"
    ) -> LandedFile:
        """Archive bytes a source had to rewrite first (e.g. an API answer with its key redacted)."""
        tmp = self._incoming()
        tmp.write_bytes(data)
        check = PayloadCheck(source, name, expect, encoding)
        check.feed(data)
        return self._commit(source, name, tmp, hashlib.sha256(data).hexdigest(), len(data), origin, mode, check)

    def land_url(
        self,
        session: requests.Session,
        source: str,
        name: str,
        url: str,
        expect: str,
        *,
        params: dict | None = None,
        headers: dict | None = None,
        encoding: str = "utf-8",
    ) -> LandedFile:
        """Fetch a publisher's URL and archive the bytes; the URL (redacted) is the provenance."""
        tmp = self._incoming()
        check = PayloadCheck(source, name, expect, encoding)
        feed = check.feed
        if self.progress is not None:
            meter = DownloadProgress(f"[{source}] {name}", self.progress)
            feed = meter.wrap(check.feed)
        try:
            got = http_client.download(session, source, url, tmp, params=params, headers=headers, on_chunk=feed)
        except Exception:
            tmp.unlink(missing_ok=True)
            raise
        return self._commit(source, name, tmp, got.sha256, got.size, got.url, "live", check)

    def _commit(
        self, source: str, name: str, tmp: Path, sha256: str, size: int, origin: str, mode: str, check: PayloadCheck
    ) -> LandedFile:
        fetched_at = datetime.now(UTC)
        try:
            check.finish()
        except FormatError:
            rejected = self.root / "_rejected" / source / f"{fetched_at:%Y%m%dT%H%M%S%f}-{name}"
            rejected.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(tmp, rejected)
            raise
        folder = self.root / source / sha256[:2] / sha256
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        if target.exists():
            tmp.unlink()
        else:
            os.replace(tmp, target)
            target.chmod(0o444)
        landed = LandedFile(source, name, target, sha256, size, origin, fetched_at, mode)
        log_arrival(landed)
        return landed


def log_arrival(landed: LandedFile) -> None:
    """One line in the archived file's fetches.jsonl: when these bytes arrived, from where."""
    record = {k: (str(v) if isinstance(v, (Path, datetime)) else v) for k, v in asdict(landed).items()}
    record["fetched_at"] = landed.fetched_at.isoformat()
    with open(landed.path.parent / "fetches.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")


class Changed(Exception):
    """A file is not byte-identical to the one a published load read (RecognisingZone)."""


class RecognisingZone(LandingZone):
    """A landing zone that lands nothing: it recognises local files that are already archived with
    the name, size and sha256 of a published load (`known`: (source, name) -> (sha256, size)),
    reading them in place, and raises Changed at the first that is not (a different size is
    decided without reading the file). A source's own `land` runs against it, so the files it
    picks, and its checks on their names, are a run's. Their bytes passed the landing checks when
    they were archived. `log_arrivals()` then records the arrivals, as landing them would have."""

    def __init__(self, root: Path, known: dict[tuple[str, str], tuple[str, int]]):
        super().__init__(root)
        self.known = known
        self.recognised: list[LandedFile] = []

    def land_local(self, source: str, name: str, src: Path, mode: str, expect: str, encoding: str = "utf-8") -> LandedFile:
        size = src.stat().st_size if src.is_file() else -1
        if self.known.get((source, name), ("", -2))[1] != size:
            raise Changed(f"[{source}] {name}")
        with open(src, "rb") as inp:
            digest = hashlib.file_digest(inp, "sha256").hexdigest()
        return self._recognise(source, name, digest, size, str(src), mode)

    def land_bytes(self, source: str, name: str, data: bytes, origin: str, mode: str, expect: str,
                   encoding: str = "utf-8") -> LandedFile:
        return self._recognise(source, name, hashlib.sha256(data).hexdigest(), len(data), origin, mode)

    def land_url(self, session, source: str, name: str, url: str, expect: str, **_) -> LandedFile:
        raise Changed(f"[{source}] {name}: fetched live, not recognisable in place")

    def _recognise(self, source: str, name: str, sha256: str, size: int, origin: str, mode: str) -> LandedFile:
        target = self.root / source / sha256[:2] / sha256 / name
        if self.known.get((source, name)) != (sha256, size) or not target.is_file():
            raise Changed(f"[{source}] {name}")
        landed = LandedFile(source, name, target, sha256, size, origin, datetime.now(UTC), mode)
        self.recognised.append(landed)
        return landed

    def log_arrivals(self) -> None:
        for landed in self.recognised:
            log_arrival(landed)
