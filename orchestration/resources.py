"""Resources declared once and injected: the warehouse (home, source mode) and dbt."""

from __future__ import annotations

import os

import dagster as dg
import requests
from pydantic import Field

from orchestration.http_client import make_session
from orchestration.landing import LandingZone
from orchestration.settings import SourceMode, layout, source_mode, warehouse_home
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

    @classmethod
    def from_env(cls) -> WarehouseResource:
        """Bound to the environment, read when a run starts (not at import): the UI shows the variables."""
        os.environ.setdefault("WAREHOUSE_HOME", str(warehouse_home()))
        os.environ.setdefault("WAREHOUSE_SOURCES", "bundled")
        return cls(home=dg.EnvVar("WAREHOUSE_HOME"), sources=dg.EnvVar("WAREHOUSE_SOURCES"))

    @staticmethod
    def run_config(accept_change: str = "") -> dict:
        """Run config for one run of the refresh job: the same environment binding, plus a reason."""
        return {"home": {"env": "WAREHOUSE_HOME"}, "sources": {"env": "WAREHOUSE_SOURCES"},
                "accept_change": accept_change}

    def store(self) -> Warehouse:
        return Warehouse(layout(self.home))

    def mode(self) -> SourceMode:
        return source_mode(self.sources)

    def landing(self) -> LandingZone:
        return LandingZone(layout(self.home).landing)

    def http(self) -> requests.Session:
        return make_session()
