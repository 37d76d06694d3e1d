"""dbt models, seeds and tests as Dagster assets and checks, built into the run's build database."""


import importlib.metadata
import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from orchestration.analysis.event_study import import_arch_meanwhile
from orchestration.assets.sources import WRITER_POOL
from orchestration.loading import nothing_changed
from orchestration.progress import NodeProgress
from orchestration.reports import record_unchanged
from orchestration.resources import WarehouseResource
from orchestration.settings import DBT_PROJECT_DIR

# The manifest is built by `dbt parse` (make targets, CI and test fixtures), not at import time.
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)


class WarehouseDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two fixed costs this project never uses (measured: 3.2 s of
    every run's dbt step, benchmarks/RESULTS.md). Before each dbt command it runs `dbt --version` in a
    subprocess (1.5 s) to learn whether the executable is dbt Core or Fusion; dbt here is this
    environment's own dbt-core, whose version the installed package states. And it opens a dbt
    Core adapter in-process (1.7 s: dbt's imports, profile and project) whose only use is fetching
    row counts and column metadata, which stay off on DuckDB."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) == _DBT_BESIDE:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version  # another dbt: ask it

    def _initialize_dbt_core_adapter(self, args):
        return None  # no row-count or column-metadata fetching (dagster-dbt then skips both)

    def in_folder(self, folder: Path) -> "WarehouseDbtCliResource":
        """This dbt, started in `folder` (through a launcher script beside it, as dagster-dbt starts
        dbt in the project's folder). A run starts it in its build's folder, where the profile's
        relative database path (`warehouse.duckdb`) is the run's build: the profile and vars are
        then those of `make manifest`'s parse in every run of every home, and dbt reuses that parse
        (dagster-dbt copies its partial_parse.msgpack into a new target folder) rather than parsing
        the project again (2.4 s, measured, in each new WAREHOUSE_HOME)."""
        launcher = folder.parent / LAUNCHER
        text = f'#!/bin/sh\ncd {shlex.quote(str(folder))} && exec {shlex.quote(self.dbt_executable)} "$@"\n'
        if not launcher.exists() or launcher.read_text() != text:
            staged = launcher.with_name(f"{LAUNCHER}.{os.getpid()}")
            staged.write_text(text)
            staged.chmod(0o755)
            os.replace(staged, launcher)
        started = WarehouseDbtCliResource(project_dir=self.project_dir, profiles_dir=self.profiles_dir,
                                          dbt_executable=str(launcher))
        started.__dict__["_cli_version"] = self._cli_version  # the launcher's dbt is this one
        return started


LAUNCHER = ".dbt-in-build"


_DBT_BESIDE = Path(sys.executable).parent / "dbt"


def dbt_resource() -> DbtCliResource:
    """dbt from this interpreter's environment, so an un-activated venv still finds it."""
    executable = str(_DBT_BESIDE) if _DBT_BESIDE.exists() else (shutil.which("dbt") or "dbt")
    return WarehouseDbtCliResource(
        project_dir=dbt_project, profiles_dir=str(dbt_project.project_dir), dbt_executable=executable
    )


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Asset keys are [schema, name], so `raw.x`, `staging.y` and `marts.z` read as the SQL does."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)  # meta.dagster.asset_key -> the Python asset
        schema = dbt_resource_props["config"].get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "curated"
        return dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "dbt"


translator = WarehouseDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    dagster_dbt_translator=translator,
    pool=WRITER_POOL,
    name="dbt_warehouse",
)
def dbt_warehouse(context: dg.AssetExecutionContext, dbt: WarehouseDbtCliResource, warehouse: WarehouseResource):
    """`dbt build` (seeds, models, snapshots and their tests) into this run's build database."""
    store = warehouse.store()
    unchanged = nothing_changed(store, context.run_id, warehouse.rebuild)
    if unchanged:
        # no output: dbt, the mart gates and publish are skipped; the published file is not touched
        record_unchanged(store, context.run_id, unchanged)
        context.log.info(f"nothing changed: {unchanged}; nothing to build or publish (--rebuild forces both)")
        return
    build = store.ensure_build(context.run_id)
    # dbt starts in a link to this run's build folder (switched under the writer lock), whose
    # warehouse.duckdb is the profile's relative database path: the same profile and no vars in
    # every run, so dbt reuses the partial parse of `make manifest`, then of the home's last run
    assert build.name == "warehouse.duckdb", build
    progress = NodeProgress(len(context.selected_asset_keys) + len(context.selected_asset_check_keys), context.log.info)
    context.log.info(f"dbt build: {progress.total} models, seeds, snapshots and tests into {build.name}")
    in_build = dbt.in_folder(store.link_dbt_build(context.run_id))
    import_arch_meanwhile()  # for the event study, while this process waits on dbt
    for event in in_build.cli(["build"], context=context, target_path=store.dbt_target).stream():
        if isinstance(event, (dg.Output, dg.AssetMaterialization, dg.AssetCheckResult)):
            progress.step()
        yield event
