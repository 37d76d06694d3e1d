"""Which assets a refresh of some sources runs: the one rule shared by `warehouse refresh --only`,
the OFAC publication sensor and the per-source schedules."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg


@dataclass(frozen=True)
class SourceSelection:
    keys: list[dg.AssetKey]  # what the run materializes (always ending in the publish step)
    checks: list[dg.AssetCheckKey]  # the refresh job's checks of those assets (gates, dbt tests; never freshness)
    left_out: list[str]  # marts left out because they need a source never published in this home
    missing_sources: list[str]  # those never-published sources


def refresh_selection(names: list[str], published: set[str]) -> SourceSelection:
    """The named sources, everything downstream of them, and what those need that no source loads
    (seeds, calendars), so a mart that joins several sources is rebuilt whole from the published
    tables of the others. What needs a source never published here (a first run of one source) is
    left out, and named."""
    from orchestration import definitions

    graph = definitions.defs.resolve_asset_graph()
    source_raw = {key for assets in definitions.raw_assets for key in assets.keys}
    downstream = dg.AssetSelection.groups(*names).downstream().resolve(graph)
    refreshed = {key for key in source_raw if key in downstream}
    never_loaded = {key for key in source_raw - refreshed if ".".join(key.path) not in published}
    needed = dg.AssetSelection.assets(*downstream).upstream().resolve(graph) - source_raw
    blocked = dg.AssetSelection.assets(*never_loaded).downstream().resolve(graph) if never_loaded else set()
    left_out = sorted(k.to_user_string() for k in (downstream | needed) & blocked if k.path[0] == "marts")
    missing = sorted({graph.get(k).group_name for k in never_loaded}) if left_out else []
    keys = ((downstream | needed) - blocked) | {definitions.PUBLISHED_KEY}
    # named, not left to Dagster: a run given assets alone also runs every other check of them, the
    # freshness checks the refresh job leaves to their sensor included
    in_job = definitions.defs.resolve_job_def(definitions.refresh_job.name).asset_layer.asset_graph.asset_check_keys
    checks = sorted((c for c in in_job if c.asset_key in keys), key=lambda c: c.to_user_string())
    return SourceSelection(sorted(keys, key=lambda k: k.to_user_string()), checks, left_out, missing)
