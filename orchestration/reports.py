"""Run reports: what each run read, what every gate found, what it published.

Written next to the published file: `runs/<run_id>.json` for every run, `last_run.json` for the
latest run whatever its outcome, `published_run.json` for the run whose build is published now.
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestration.warehouse import Warehouse, utcnow

REPORTED_SCHEMAS = ("raw", "history", "marts")


def table_counts(path: Path) -> dict[str, int]:
    """Rows of every table (not view) in the raw, history and marts schemas of a warehouse file."""
    import duckdb

    if not path.exists():
        return {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            f"where table_schema in {REPORTED_SCHEMAS} and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
        return {name: con.execute(f"select count(*) from {name}").fetchall()[0][0] for (name,) in names}
    finally:
        con.close()


def write_run_report(store: Warehouse, run_id: str, *, published: bool, error: str | None = None) -> dict:
    pieces = store.collected_reports(run_id)
    layout = store.layout
    report = {
        "run_id": run_id,
        "finished_at": utcnow().isoformat(),
        "published": published,
        "error": error,
        "warehouse": str(layout.published),
        "sources": [p for p in pieces if p.get("kind") == "load"],
        "gates": [p for p in pieces if p.get("kind") == "gate"],
        "assertions": [p for p in pieces if p.get("kind") == "assertion"],
        # the reason given with --accept-change, when this run's count bounds were lifted
        "accepted_change": next((p.get("accepted_change") for p in pieces if p.get("accepted_change")), None),
        "tables": table_counts(layout.published) if published else {},
    }
    if not published:
        # what the failed build held, for diagnosis (never published)
        failed = layout.builds / "failed-latest" / "warehouse.duckdb"
        report["build_tables"] = table_counts(failed) if failed.exists() else {}
    layout.run_reports.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, default=str)
    (layout.run_reports / f"{run_id}.json").write_text(text)
    (layout.home / "last_run.json").write_text(text)
    if published:
        (layout.home / "published_run.json").write_text(text)
    return report
