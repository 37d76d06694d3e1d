"""How stale each source may become, checked in the UI and from the command line.

Each source declares `max_age` (OFAC and the Federal Register: 5 days, as they refresh on business
days; IMF, Comtrade, JODI and EIA: 35 days, as they refresh monthly). Two views of the same rule:

- in Dagster, every raw asset carries a `freshness_check` (severity ERROR) that fails once its last
  materialization is older than its source's `max_age`; the `freshness_checks_sensor` evaluates them
  where a daemon runs (`make dev`), so a source whose schedule stopped or keeps failing shows red on
  its asset and in the asset-check history;
- `warehouse freshness` reads when each source was last loaded into the published file
  (`meta.source_loads`) and exits 1, naming each stale source, its age and its limit, so a cron job
  or a monitoring probe fails loudly without a Dagster daemon.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta

import dagster as dg

from orchestration.sources import SOURCES
from orchestration.warehouse import Warehouse


def _raw_keys(source) -> list[dg.AssetKey]:
    return [dg.AssetKey(["raw", table.name]) for table in source.tables]


# Dagster 1.12 calls these "superseded" by FreshnessPolicy, which is still a preview that must be
# switched on in dagster.yaml and has no check result to test or to block on; the checks are kept.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=dg.SupersessionWarning)
    FRESHNESS_CHECKS = [
        check
        for source in SOURCES.values()
        for check in dg.build_last_update_freshness_checks(
            assets=_raw_keys(source), lower_bound_delta=source.max_age, severity=dg.AssetCheckSeverity.ERROR
        )
    ]
    freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=FRESHNESS_CHECKS,
        name="freshness_checks_sensor",
        minimum_interval_seconds=15 * 60,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
# a refresh materializes the raw assets it would otherwise be judged against: it never runs these
NOT_IN_REFRESH = dg.AssetSelection.checks(*FRESHNESS_CHECKS)


def _age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def source_freshness(store: Warehouse, now: datetime | None = None) -> list[dict]:
    """Per source: when the published file last loaded it (a skipped load does not count), when a
    later run last found its files unchanged, its age (from the later of the two), its limit and
    whether it is stale. Empty when nothing is published."""
    now = now or datetime.now(UTC)
    with store.read_published() as con:
        if con is None:
            return []
        rows = con.execute(
            "select source, max(loaded_at) filter (where source_mode <> 'skipped'), bool_or(is_sample) "
            "from meta.source_loads group by source"
        ).fetchall()
    loaded = {source: (at, sample) for source, at, sample in rows}
    checked = unchanged_checks(store)
    found = []
    for name, source in SOURCES.items():
        at, sample = loaded.get(name, (None, False))
        seen = checked.get(name) if at is not None else None
        latest = max(at, seen) if seen else at
        age = now - latest if latest is not None else None
        found.append({
            "source": name,
            "loaded_at": at,
            "checked_at": seen,  # found unchanged since (the same files) by a later run that published nothing
            "age": _age(age) if age is not None else "never loaded",
            "max_age": _age(source.max_age),
            "is_sample": bool(sample),
            "stale": age is None or age > source.max_age,
        })
    return found


def unchanged_checks(store: Warehouse) -> dict[str, datetime]:
    """When a run since the current version was published last found each source's files unchanged
    (its report says `unchanged`; such runs publish nothing, so only their reports record the check)."""
    published = store.layout.published
    if not published.exists() or not store.layout.run_reports.exists():
        return {}
    current = store.published_run_id()
    since = published.stat().st_mtime
    checked: dict[str, datetime] = {}
    for path in store.layout.run_reports.glob("*.json"):
        if path.stat().st_mtime < since:
            continue
        report = json.loads(path.read_text())
        if not report.get("unchanged") or report.get("base_run_id") != current:
            continue
        at = datetime.fromisoformat(report["finished_at"])
        for load in report.get("sources", []):
            if load.get("unchanged") and (load["source"] not in checked or checked[load["source"]] < at):
                checked[load["source"]] = at
    return checked
