"""Run reports: what each run read, what every gate found, what it published.

A published run's report is stored inside the published file (`meta.published_runs.report`) and
copied beside it: `runs/<run_id>.json` for every run, `last_run.json` for the latest run whatever
its outcome, `published_run.json` for the run whose version is published now. `warehouse status`
reads the one inside the file, so it cannot disagree with the file.
"""

from __future__ import annotations

from pathlib import Path

from orchestration.settings import code_fingerprint
from orchestration.warehouse import Warehouse, table_counts, utcnow


def table_counts_of(path: Path) -> dict[str, int]:
    """Rows of every table of a warehouse file (read-only), or {} if there is none."""
    import duckdb

    if not path.exists():
        return {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        return table_counts(con)
    finally:
        con.close()


def compose_report(store: Warehouse, run_id: str, *, published: bool, error: str | None = None) -> dict:
    """The run's report from the pieces its steps recorded (loads, gates, assertions)."""
    info = store.build_info(run_id)
    return report_of(store, run_id, info.get("started_at"), info.get("base_run_id"), store.collected_reports(run_id),
                     published=published, error=error)


def report_of(store: Warehouse, run_id: str, started_at: str | None, base_run_id: str | None, pieces: list[dict], *,
              published: bool, error: str | None = None) -> dict:
    """A run's report from its recorded pieces (one per load, gate and assertion)."""
    return {
        "run_id": run_id,
        "started_at": started_at,
        "base_run_id": base_run_id,
        "finished_at": utcnow().isoformat(),
        "published": published,
        "error": error,
        "warehouse": str(store.layout.published),
        "sources": [p for p in pieces if p.get("kind") == "load"],
        "gates": [p for p in pieces if p.get("kind") == "gate"],
        "assertions": [p for p in pieces if p.get("kind") == "assertion"],
        # the reason given with --accept-change, when this run's count bounds were lifted
        "accepted_change": next((p.get("accepted_change") for p in pieces if p.get("accepted_change")), None),
        # the code that built it: a later run with unchanged inputs and this code has nothing to rebuild
        "code_fingerprint": code_fingerprint(),
    }


def record_failure(store: Warehouse, run_id: str, error: str) -> tuple[Path | None, dict]:
    """The one failure handler (the `warehouse` command and the run-failure sensor both call it):
    the run published nothing; its build is kept as builds/failed-latest and its report written."""
    report = compose_report(store, run_id, published=False, error=error)
    kept = store.discard(run_id)
    # what the failed build held, for diagnosis (never published)
    report["build_tables"] = table_counts_of(kept / "warehouse.duckdb") if kept else {}
    store.save_report(report)
    return kept, report


def record_unchanged(store: Warehouse, run_id: str, reason: str) -> dict:
    """A run in which no input changed: its build is removed unpublished (the published file is
    never opened for writing) and its report says why."""
    report = {**compose_report(store, run_id, published=False), "unchanged": reason}
    store.finish(run_id)
    store.save_report(report)
    return report
