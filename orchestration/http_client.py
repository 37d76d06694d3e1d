"""The one HTTP session every live source uses: timeouts, retries with backoff, honest errors.

Retries come from urllib3's `Retry` (429, 5xx and connection errors, honouring Retry-After).
A 401/403 is never retried or worked around: it is reported as the publisher's access control.
Bodies are streamed to disk and hashed on the way, so a 125 MB XML or a 283 MB CSV never sits
in Python memory.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util.retry import Retry

from orchestration.errors import AccessDenied, FetchError, NotFound, TransientFetchError

USER_AGENT = (
    "iraq-iran-sanctions-warehouse/0.1 (open-source research warehouse; "
    "python-requests; contact via the project's issue tracker)"
)
RETRY_STATUSES = (429, 500, 502, 503, 504)
# Query parameters and headers that carry credentials: never logged, never stored.
SECRET_PARAMS = {"api_key", "apikey", "key", "token", "subscription-key", "access_token"}
SECRET_HEADERS = {"ocp-apim-subscription-key", "authorization", "x-api-key"}
CHUNK = 1 << 20


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 15.0
    read_timeout: float = 120.0
    retries: int = 4
    backoff_factor: float = 2.0
    backoff_max: float = 120.0


class KeySafeSession(requests.Session):
    """A session that drops every credential header (SECRET_HEADERS) when a redirect leaves the
    host, port or scheme the request was sent to. requests itself strips only `Authorization`, so
    a custom key header (Comtrade's Ocp-Apim-Subscription-Key) would otherwise go along."""

    def rebuild_auth(self, prepared_request, response):
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in [h for h in prepared_request.headers if h.lower() in SECRET_HEADERS]:
                del prepared_request.headers[name]


def make_session(settings: HttpSettings | None = None) -> requests.Session:
    """A session with time-outs and retries; `settings` come from the `http` resource in a run
    (its fields are bound to WAREHOUSE_HTTP_*), the defaults otherwise."""
    settings = settings or HttpSettings()
    retry = Retry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        backoff_factor=settings.backoff_factor,
        backoff_max=settings.backoff_max,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        retry_after_max=int(settings.backoff_max),  # a huge Retry-After must not stall a refresh for hours
        raise_on_status=True,
    )
    session = KeySafeSession()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.request_timeout = (settings.connect_timeout, settings.read_timeout)  # type: ignore[attr-defined]
    return session


def redact_url(url: str) -> str:
    """The URL with every credential-bearing query value replaced by `REDACTED`."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, "REDACTED" if k.lower() in SECRET_PARAMS else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="[]:,")))


def redact_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "REDACTED")
    return re.sub(r"(?i)(api_key=)[^&\s\"']+", r"\1REDACTED", text)


@dataclass(frozen=True)
class Download:
    url: str  # as requested, redacted: the provenance (never the presigned redirect target)
    final_host: str  # host that served the bytes after redirects (presigned URLs are not kept)
    status: int
    content_type: str
    size: int
    sha256: str


def download(
    session: requests.Session,
    source: str,
    url: str,
    dest: Path,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    on_chunk: Callable[[bytes], None] | None = None,
) -> Download:
    """Stream `url` into `dest`, hashing as it goes (and handing each chunk to `on_chunk`, e.g. the
    landing zone's format checks, so the bytes are read once). Raises FetchError naming source and cause."""
    prepared_url = requests.Request("GET", url, params=params).prepare().url or url
    shown = redact_url(prepared_url)
    secrets = [v for k, v in (headers or {}).items() if k.lower() in SECRET_HEADERS]
    secrets += [v for k, v in (params or {}).items() if k.lower() in SECRET_PARAMS]
    timeout = getattr(session, "request_timeout", (15.0, 120.0))
    try:
        response = session.get(
            url, params=params, headers=headers, timeout=timeout, stream=True, allow_redirects=True
        )
    except requests.exceptions.RetryError as exc:
        raise TransientFetchError(
            source, shown, f"gave up after retries: {redact_text(_reason(exc), secrets)}"
        ) from None
    except requests.exceptions.Timeout as exc:
        raise TransientFetchError(
            source, shown, f"timed out (connect/read timeout {timeout}s): {redact_text(_reason(exc), secrets)}"
        ) from None
    except requests.exceptions.ConnectionError as exc:
        # with retries on, a read or connect timeout arrives wrapped as a ConnectionError
        what = "timed out" if _is_timeout(exc) else "connection failed"
        raise TransientFetchError(source, shown, f"{what}: {redact_text(_reason(exc), secrets)}") from None

    with response:
        if response.status_code in (401, 403):
            raise AccessDenied(
                source,
                shown,
                f"HTTP {response.status_code} {response.reason}: the publisher refused access "
                "(access control or bot challenge). Not retried and not worked around; "
                "try again later or use a directory of files (WAREHOUSE_SOURCES=<dir>).",
            )
        if response.status_code == 404:
            raise NotFound(source, shown, "HTTP 404 Not Found")
        if response.status_code in RETRY_STATUSES:  # reached only with the session's retries off
            raise TransientFetchError(source, shown, f"HTTP {response.status_code} {response.reason}")
        if response.status_code >= 400:
            raise FetchError(source, shown, f"HTTP {response.status_code} {response.reason}")
        digest = hashlib.sha256()
        size = 0
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(dest, "wb") as out:
                for chunk in response.iter_content(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if on_chunk is not None:
                        on_chunk(chunk)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
            arrived = response.raw.tell() if hasattr(response.raw, "tell") else size
            what = "timed out while reading the body" if _is_timeout(exc) else "body truncated"
            raise TransientFetchError(
                source, shown, f"{what} after {arrived} bytes: {redact_text(_reason(exc), secrets)}"
            ) from None
        except requests.exceptions.Timeout as exc:
            raise TransientFetchError(source, shown, f"timed out while reading the body after {size} bytes") from exc
        expected = response.headers.get("Content-Length")
        if expected is not None and expected.isdigit() and int(expected) != size and not response.headers.get("Content-Encoding"):
            raise TransientFetchError(source, shown, f"body truncated: {size} of {expected} bytes arrived")
        return Download(
            url=shown,
            final_host=urlsplit(response.url).netloc,
            status=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            size=size,
            sha256=digest.hexdigest(),
        )


def _is_timeout(exc: BaseException) -> bool:
    """Whether a (possibly wrapped) requests/urllib3 error is a connect or read timeout."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, urllib3_exceptions.NewConnectionError):
            return False  # a subclass of ConnectTimeoutError in urllib3, but a refusal, not a timeout
        if isinstance(exc, (TimeoutError, requests.exceptions.Timeout, urllib3_exceptions.TimeoutError)):
            return True
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        exc = getattr(exc, "reason", None) or inner or exc.__cause__ or exc.__context__
    return False


def _reason(exc: Exception) -> str:
    inner = exc.args[0] if exc.args else exc
    reason = getattr(inner, "reason", None)
    return str(reason or inner)
