"""What a publish changes, for the people who act on it: Iraq-nexus designations added or removed
and bank bans added, since the version the run built on; POSTed as JSON to ALERT_WEBHOOK_URL.

The changes are computed in the build just before it is published (the previous version is the
published file, attached read-only: the compare-and-swap publish guarantees it is the version the
run started from), stored in the run report inside the published file, and shown by `warehouse
status`. The POST happens only after the publish succeeded; a failed POST is reported (run report,
Dagster metadata, the log) and never blocks or undoes a publish. The webhook URL is a secret (chat
webhooks carry their token in it): only its host is ever shown.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

import duckdb
import requests

from orchestration.warehouse import Warehouse, tables_in

WEBHOOK_ENV = "ALERT_WEBHOOK_URL"
TIMEOUT_SECONDS = 10

DESIGNATIONS_SQL = """
select
    changes.change_type as change,
    changes.ent_num,
    changes.name,
    changes.entity_type,
    changes.programs,
    coalesce(entity.nexus_reasons, []) as rules,
    cast(changes.listing_date as varchar) as listing_date,
    changes.list_version,
    cast(changes.list_published_at as varchar) as list_published_at,
    (select any_value(source_url) from raw.ofac_sdn) as source_url
from marts.fct_designation_changes as changes
left join marts.dim_sanctioned_entity as entity on entity.ent_num = changes.ent_num
where changes.iraq_nexus
    and changes.change_type in ('added', 'removed')
    and changes.list_version not in (select list_version from base.history.ofac_list_observations)
order by changes.change_type, changes.ent_num
"""

BANK_BANS_SQL = """
select
    bans.bank_name,
    bans.institution_type,
    cast(bans.action_date as varchar) as action_date,
    bans.action_type,
    bans.authority,
    bans.source_urls
from marts.fct_iraqi_bank_restrictions as bans
where not exists (
    select 1 from base.marts.fct_iraqi_bank_restrictions as before
    where before.bank_name = bans.bank_name
        and before.action_type = bans.action_type
        and before.action_date is not distinct from bans.action_date
)
order by bans.action_date, bans.bank_name
"""


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    relation = con.sql(sql)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def detect_changes(store: Warehouse, run_id: str) -> dict:
    """The Iraq-nexus designations added or removed and the bank bans added by this run's build,
    against the published version (none on a first publish: a first load is a baseline)."""
    changes: dict = {"designations": [], "bank_bans": []}
    if not store.layout.published.exists():
        return changes
    with store.connect(run_id) as con:
        con.execute(f"attach '{store.layout.published}' as base (read_only)")
        try:
            mine = tables_in(con)
            base = {name for (name,) in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables where table_catalog = 'base'"
            ).fetchall()}
            if {"marts.fct_designation_changes", "marts.dim_sanctioned_entity", "raw.ofac_sdn"} <= mine \
                    and "history.ofac_list_observations" in base:
                changes["designations"] = _rows(con, DESIGNATIONS_SQL)
            if "marts.fct_iraqi_bank_restrictions" in mine and "marts.fct_iraqi_bank_restrictions" in base:
                changes["bank_bans"] = _rows(con, BANK_BANS_SQL)
        finally:
            con.execute("detach base")
    return changes


def summary_lines(changes: dict | None) -> list[str]:
    """A few readable lines for the terminal: what changed, by name."""
    if not changes:
        return []
    lines = []
    for kind in ("added", "removed"):
        rows = [d for d in changes.get("designations", []) if d["change"] == kind]
        if rows:
            names = ", ".join(f"{d['name']} ({d['ent_num']})" for d in rows[:5]) + (", ..." if len(rows) > 5 else "")
            lines.append(f"  {len(rows)} Iraq-nexus designation(s) {kind}: {names}")
    bans = changes.get("bank_bans", [])
    if bans:
        names = ", ".join(f"{b['bank_name']} ({b['action_date']})" for b in bans[:5]) + (", ..." if len(bans) > 5 else "")
        lines.append(f"  {len(bans)} bank ban(s) added: {names}")
    return lines


def notify(changes: dict, report: dict, url: str | None = None) -> dict:
    """POST the changes to the webhook, if one is set and there is anything to say. Never raises:
    returns what happened, for the run report."""
    url = url if url is not None else os.environ.get(WEBHOOK_ENV, "").strip()
    if not changes.get("designations") and not changes.get("bank_bans"):
        return {"sent": False, "reason": "nothing to alert on"}
    if not url:
        return {"sent": False, "reason": f"{WEBHOOK_ENV} is not set"}
    host = urlsplit(url).netloc or "(no host)"
    payload = {
        "event": "iraq_iran_warehouse.published_changes",
        "run_id": report.get("run_id"),
        "published_at": report.get("published_at"),
        "warehouse": report.get("warehouse"),
        **changes,
    }
    try:
        response = requests.post(url, data=json.dumps(payload, default=str), timeout=TIMEOUT_SECONDS,
                                 headers={"Content-Type": "application/json"}, allow_redirects=False)
    except requests.RequestException as exc:
        return {"sent": False, "host": host, "error": f"{type(exc).__name__}: the POST to {host} failed"}
    if response.status_code >= 300:
        return {"sent": False, "host": host, "error": f"HTTP {response.status_code} from {host}"}
    return {"sent": True, "host": host, "status": response.status_code,
            "designations": len(changes["designations"]), "bank_bans": len(changes["bank_bans"])}
