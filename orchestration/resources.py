"""Resources declared once and injected: the warehouse (home, source mode) and dbt."""

from __future__ import annotations

import os

import dagster as dg
import requests

from orchestration.http_client import make_session
from orchestration.landing import LandingZone
from orchestration.settings import SourceMode, layout, source_mode, warehouse_home
from orchestration.warehouse import Warehouse


class WarehouseResource(dg.ConfigurableResource):
    """Where the run writes (WAREHOUSE_HOME) and where its raw inputs come from (WAREHOUSE_SOURCES)."""

    home: str
    sources: str = "bundled"
    # a reason given for one run whose counts change beyond the gates' bounds (`--accept-change`):
    # row-count floors and ceilings and the nexus-count fall are lifted, the reason goes in the report
    accept_change: str = ""

    @classmethod
    def from_env(cls) -> "WarehouseResource":
        return cls(
            home=str(warehouse_home()),
            sources=os.environ.get("WAREHOUSE_SOURCES", "bundled"),
            accept_change=os.environ.get("WAREHOUSE_ACCEPT_CHANGE", "").strip(),
        )

    def store(self) -> Warehouse:
        return Warehouse(layout(self.home))

    def mode(self) -> SourceMode:
        return source_mode(self.sources)

    def landing(self) -> LandingZone:
        return LandingZone(layout(self.home).landing)

    def http(self) -> requests.Session:
        return make_session()
