"""Resources declared once and injected: the warehouse (home, source mode), live fetching (http) and dbt."""

from __future__ import annotations

import os
from collections.abc import Callable

import dagster as dg
import requests
from pydantic import Field

from orchestration.errors import TransientFetchError
from orchestration.http_client import HttpSettings, make_session
from orchestration.landing import LandingZone
from orchestration.settings import SettingsError, SourceMode, layout, source_mode, warehouse_home
from orchestration.sources import SOURCES, comtrade, eia
from orchestration.sources.base import LiveAccess
from orchestration.warehouse import Warehouse


class WarehouseResource(dg.ConfigurableResource):
    """Where the run writes (WAREHOUSE_HOME) and where its raw inputs come from (WAREHOUSE_SOURCES)."""

    home: str = Field(description="WAREHOUSE_HOME: landing zone, builds, the published file, kept versions, run reports")
    sources: str = Field(default="bundled", description="WAREHOUSE_SOURCES: `bundled`, `live` or a directory of publishers' files")
    accept_change: str = Field(
        default="",
        description="A reason, for one run whose counts change beyond the gates' bounds (`warehouse refresh "
        "--accept-change REASON`, or the launchpad's run config): row-count floors and ceilings and the "
        "nexus-count fall are lifted, and the reason goes in the run report",
    )

    backfill: str = Field(
        default="",
        description="An archive of dated OFAC list versions (`<archive>/ofac/<YYYY-MM-DD>/SDN.CSV`...) to load in this "
        "run instead of the current list (`warehouse backfill ofac ARCHIVE`, or the launchpad's run config): every new "
        "version in publication order, the gates' row-count ceilings lifted for the run (see orchestration/backfill.py)",
    )

    rebuild: bool = Field(
        default=False,
        description="Load, build and publish even when no input changed (`warehouse refresh --rebuild`); by default a "
        "source whose files have the sha256 of its published load keeps its published rows, and a run in which "
        "nothing changed publishes nothing",
    )

    @classmethod
    def from_env(cls) -> WarehouseResource:
        """Bound to the environment, read when a run starts (not at import): the UI shows the variables."""
        os.environ.setdefault("WAREHOUSE_HOME", str(warehouse_home()))
        os.environ.setdefault("WAREHOUSE_SOURCES", "bundled")
        return cls(home=dg.EnvVar("WAREHOUSE_HOME"), sources=dg.EnvVar("WAREHOUSE_SOURCES"))

    @staticmethod
    def run_config(accept_change: str = "", backfill: str = "", rebuild: bool = False) -> dict:
        """Run config for one run of the refresh job: the same environment binding, plus a reason
        and, for a backfill, the archive."""
        return {"home": {"env": "WAREHOUSE_HOME"}, "sources": {"env": "WAREHOUSE_SOURCES"},
                "accept_change": accept_change, "backfill": backfill, "rebuild": rebuild}

    def store(self) -> Warehouse:
        return Warehouse(layout(self.home))

    def mode(self) -> SourceMode:
        return source_mode(self.sources)

    def landing(self, progress: Callable[[str], None] | None = None) -> LandingZone:
        return LandingZone(layout(self.home).landing, progress)



# (field, environment variable, default): read when a run starts; the UI's resource page shows each
HTTP_SETTINGS = {
    "connect_timeout": ("WAREHOUSE_HTTP_CONNECT_TIMEOUT", "15"),
    "read_timeout": ("WAREHOUSE_HTTP_READ_TIMEOUT", "120"),
    "retries": ("WAREHOUSE_HTTP_RETRIES", "4"),
    "backoff_factor": ("WAREHOUSE_HTTP_BACKOFF", "2"),
    "backoff_max": ("WAREHOUSE_HTTP_BACKOFF_MAX", "120"),
    "step_retries": ("WAREHOUSE_STEP_RETRIES", "2"),
    "step_retry_wait": ("WAREHOUSE_STEP_RETRY_WAIT", "300"),
}
# Where and with which key live mode asks each publisher: field -> (source, environment variable),
# default '' (the publisher's own address; no key). Read when a run starts like HTTP_SETTINGS; the
# UI's resource page shows each variable's name, never a key's value.
BASE_URL_SETTINGS = {f"{s.name}_base_url": (s.name, f"WAREHOUSE_{s.name.upper()}_BASE_URL")
                     for s in SOURCES.values() if s.base_url}
KEY_SETTINGS = {"eia_api_key": (eia.SOURCE, eia.KEY_ENV), "comtrade_api_key": (comtrade.SOURCE, comtrade.KEY_ENV)}


def _base_url(name: str):
    """A source's base-URL override field, described with its variable and the publisher's address."""
    return Field(default="", description=f"where live mode fetches {name} from, e.g. a mirror or a local test "
                 f"server (WAREHOUSE_{name.upper()}_BASE_URL; empty: the publisher's {SOURCES[name].base_url})")


def _api_key(name: str, variable: str, without: str):
    """An API key field: its value never shows in a repr; the UI shows the variable's name only."""
    return Field(default="", repr=False, description=f"{name} API key ({variable}; empty: {without}); the UI "
                 "shows the variable's name, never the key")


class HttpResource(dg.ConfigurableResource):
    """How live sources fetch: from where (base-URL overrides), with which API keys, and with
    time-outs and two layers of retries, for transient faults only.

    The session retries a request (urllib3 `Retry`: 429 and 5xx, honouring Retry-After, connection
    errors) with exponential backoff. If that still fails with a transient fault (TransientFetchError:
    a 429 or 5xx, a time-out, a refused or dropped connection, a truncated body), the source step is
    run again after `step_retry_wait` seconds, at most `step_retries` times. A 401/403, a 404, another
    4xx or a format error is never retried. Each field is bound to its environment variable; the
    sources get the overrides and keys from `live_access()`, never from the environment.
    """

    connect_timeout: str = Field(description="seconds to connect (WAREHOUSE_HTTP_CONNECT_TIMEOUT, default 15)")
    read_timeout: str = Field(description="seconds between bytes read (WAREHOUSE_HTTP_READ_TIMEOUT, default 120)")
    retries: str = Field(description="retries of one request (WAREHOUSE_HTTP_RETRIES, default 4)")
    backoff_factor: str = Field(description="exponential backoff factor, seconds (WAREHOUSE_HTTP_BACKOFF, default 2)")
    backoff_max: str = Field(description="longest wait between retries and longest Retry-After honoured, seconds "
                             "(WAREHOUSE_HTTP_BACKOFF_MAX, default 120)")
    step_retries: str = Field(description="times a source step is run again after a transient fault "
                              "(WAREHOUSE_STEP_RETRIES, default 2)")
    step_retry_wait: str = Field(description="seconds before a source step is run again (WAREHOUSE_STEP_RETRY_WAIT, "
                                 "default 300)")
    ofac_base_url: str = _base_url("ofac")
    federal_register_base_url: str = _base_url("federal_register")
    imf_base_url: str = _base_url("imf")
    comtrade_base_url: str = _base_url("comtrade")
    jodi_base_url: str = _base_url("jodi")
    eia_base_url: str = _base_url("eia")
    eia_api_key: str = _api_key("EIA API v2", eia.KEY_ENV, "live mode skips EIA")
    comtrade_api_key: str = _api_key("UN Comtrade data API", comtrade.KEY_ENV, "the keyless preview")

    @classmethod
    def from_env(cls) -> HttpResource:
        bound = HTTP_SETTINGS | {field: (variable, "") for field, (_, variable) in (BASE_URL_SETTINGS | KEY_SETTINGS).items()}
        for variable, default in bound.values():
            os.environ.setdefault(variable, default)  # an unset variable fails the run; an empty one is ''
        return cls(**{field: dg.EnvVar(variable) for field, (variable, _) in bound.items()})

    def _number(self, field: str, kind: type) -> float:
        value = getattr(self, field)
        try:
            number = kind(value)
        except ValueError:
            raise SettingsError(f"{HTTP_SETTINGS[field][0]}={value!r} is not a number") from None
        if number < 0:
            raise SettingsError(f"{HTTP_SETTINGS[field][0]}={value!r} is negative")
        return number

    def settings(self) -> HttpSettings:
        return HttpSettings(
            connect_timeout=self._number("connect_timeout", float),
            read_timeout=self._number("read_timeout", float),
            retries=int(self._number("retries", int)),
            backoff_factor=self._number("backoff_factor", float),
            backoff_max=self._number("backoff_max", float),
        )

    def session(self) -> requests.Session:
        return make_session(self.settings())

    def live_access(self) -> LiveAccess:
        """What the sources need in live mode: a session with these settings, the base-URL overrides
        and the API keys, by source name."""
        return LiveAccess(
            session=self.session(),
            base_urls={name: getattr(self, field) for field, (name, _) in BASE_URL_SETTINGS.items()},
            keys={name: getattr(self, field) for field, (name, _) in KEY_SETTINGS.items()},
        )

    def retry_step(self, fault: TransientFetchError) -> dg.RetryRequested:
        """The retry a source step asks for after a transient fault (Dagster counts the attempts)."""
        return dg.RetryRequested(max_retries=int(self._number("step_retries", int)),
                                 seconds_to_wait=self._number("step_retry_wait", float))
