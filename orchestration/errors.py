"""Errors that name the source and the cause, so a failed run says what to fix."""

from __future__ import annotations


class SourceError(RuntimeError):
    """A source could not be fetched or its bytes are not what the publisher publishes."""

    def __init__(self, source: str, subject: str, cause: str):
        self.source = source
        self.subject = subject
        self.cause = cause
        super().__init__(f"[{source}] {subject}: {cause}")


class FetchError(SourceError):
    """The publisher (or the local directory) did not deliver the file."""


class TransientFetchError(FetchError):
    """A fault that may pass: HTTP 429 or 5xx after the session's own retries, a time-out, a refused
    or dropped connection, a truncated body. The only faults a source step is retried for; an access
    refusal (401/403), a 404, another 4xx or a format error is never retried."""


class AccessDenied(FetchError):
    """The publisher refused access (HTTP 401/403, e.g. a bot challenge): never worked around."""


class NotFound(FetchError):
    """The publisher answered 404: for an optional file, it is simply not published."""


class FormatError(SourceError):
    """The bytes arrived but are not in the publisher's format (HTML page, empty, truncated...)."""


class SourceSkipped(SourceError):
    """A source cannot run in this configuration by design (e.g. no API key): a notice, not an error.

    Its raw tables keep their last published rows (or are created empty on a first run) and the
    run report says why.
    """


class NothingNew(SourceSkipped):
    """Every input is already in the published warehouse (a backfill whose versions are all recorded):
    the source keeps its published rows, and the run has nothing of its own to publish."""


class GateFailed(RuntimeError):
    """A blocking quality gate failed or errored: the run must not publish."""


class PublishError(RuntimeError):
    """The build could not be published."""
