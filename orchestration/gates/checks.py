"""Blocking Dagster asset checks that run each table's Great Expectations suite.

One check per gated asset, named `gx_suite`, run in a few steps (the raw tables the sources load,
the tables dbt builds, the event study); a failed or errored suite blocks everything downstream,
including the publish step, so the published warehouse stays as it was.
"""


from collections.abc import Iterator, Sequence

import dagster as dg

from orchestration.gates import worker
from orchestration.gates.gx_gate import GateResult, Outcome, load_suite, suite_path
from orchestration.gates.worker import GateJob
from orchestration.loading import base_row_count, unchanged_tables
from orchestration.resources import WarehouseResource

CHECK_NAME = "gx_suite"


def table_name(key: dg.AssetKey) -> str:
    return ".".join(key.path)


def gx_gates(name: str, keys: Sequence[dg.AssetKey], description: str) -> dg.AssetChecksDefinition:
    """One step that runs the suite of each of `keys` (a check `gx_suite` on each asset) over one
    connection. Every selected table is validated and reported even when an earlier one fails; the
    step then fails, blocking everything downstream. Grouping saves a Dagster step and a DuckDB
    connection per table: the 34 one-table steps took 7.9 s of a sample refresh (GX's import included),
    the three group steps 4.9 s."""
    suites = {key: load_suite(table_name(key)) for key in keys}  # fail at load time if a gated asset has no suite
    specs = [
        dg.AssetCheckSpec(
            CHECK_NAME, asset=key, blocking=True,
            description=f"Great Expectations suite {suite['name']} ({suite_path(table_name(key)).name}) over every row "
                        f"of {table_name(key)}",
        )
        for key, suite in suites.items()
    ]

    @dg.multi_asset_check(specs=specs, name=name, description=description, can_subset=True, pool="duckdb_writer")
    def _gates(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.AssetCheckResult]:
        store = warehouse.store()
        run_id = context.op_execution_context.run_id
        selected = context.selected_asset_check_keys
        chosen = [key for key in keys if dg.AssetCheckKey(key, CHECK_NAME) in selected]
        kept = unchanged_tables(store, run_id)
        todo = [key for key in chosen if not kept.get(table_name(key))]
        with store.connect(run_id) as con:  # what the bounds start from; closed before the tables are read
            jobs = [GateJob(table, base_row_count(con, table), _not_loaded(con, table),
                            warehouse.accept_change or None, warehouse.backfill or None)
                    for table in map(table_name, todo)]
        for job in jobs:
            if job.not_loaded:
                context.log.warning(f"{job.table}: not loaded this run (optional file absent or source skipped)")
        if jobs:
            where = "in the gate process started before the run" if worker.separate() else "in this step's process"
            context.log.debug(f"validating {len(jobs)} table(s) {where}")
        results = dict(zip(todo, worker.run_gates(store.build_path(run_id), jobs), strict=True))
        for key in chosen:
            table = table_name(key)
            if key not in results:
                yield _unchanged(context, store, run_id, key, suites[key], *kept[table])
            elif isinstance(results[key], str):  # the suite raised: this table's gate errored
                yield _raised(context, store, run_id, key, suites[key], results[key])
            else:
                yield _validated(context, store, run_id, key, suites[key], results[key])

    return _gates


def _validated(context, store, run_id: str, key: dg.AssetKey, suite: dict, result: GateResult) -> dg.AssetCheckResult:
    table = table_name(key)
    store.record_report(run_id, f"gate-{table}", {"kind": "gate", **result.as_dict()})
    log = context.log.info if result.passed else context.log.error
    log(result.summary())
    return _check_result(
        key, result.passed, result.summary().splitlines()[0],
        {
            "suite": suite["name"],
            "rows_validated": result.row_count,
            "row_count_floor": result.row_count_floor,
            "row_count_ceiling": result.row_count_ceiling if result.row_count_ceiling is not None else -1,
            "accepted_change": result.accepted_change or "",
            # the table's rows in the version this run's build started from (recorded in the build)
            "base_version_rows": result.previous_row_count if result.previous_row_count is not None else -1,
            "passed": result.count("passed"),
            "failed": result.count("failed"),
            "errored": result.count("errored"),
            "problems": dg.MetadataValue.json(
                [o.__dict__ for o in result.outcomes if o.status != "passed"]
            ),
        },
    )


def _check_result(key: dg.AssetKey, passed: bool, description: str, metadata: dict) -> dg.AssetCheckResult:
    """The `gx_suite` check's result on `key` (ERROR severity: a failure blocks the run)."""
    return dg.AssetCheckResult(asset_key=key, check_name=CHECK_NAME, passed=passed, severity=dg.AssetCheckSeverity.ERROR,
                               description=description, metadata=metadata)


def _raised(context, store, run_id: str, key: dg.AssetKey, suite: dict, error: str) -> dg.AssetCheckResult:
    """A gate that could not run (the table unreadable, say) errored: it fails, naming the table and the cause."""
    table = table_name(key)
    detail = f"the suite could not run: {error}"
    store.record_report(run_id, f"gate-{table}", {"kind": "gate", "suite": suite["name"], "table": table, "passed": False,
                                                  "error": detail, "counts": {"passed": 0, "failed": 0, "errored": 1}})
    context.log.error(f"suite {suite['name']}: ERRORED: {detail}")
    problem = Outcome("the whole suite", None, "errored", detail)
    return _check_result(key, False, f"suite {suite['name']}: errored: {detail}",
                         {"suite": suite["name"], "errored": 1, "problems": dg.MetadataValue.json([problem.__dict__])})


def _unchanged(context, store, run_id: str, key: dg.AssetKey, suite: dict, since: str, rows: int) -> dg.AssetCheckResult:
    """A raw table kept as published (its source's files unchanged): the same rows, built by the same
    code, passed this same suite when run `since` published them (settings.code_fingerprint)."""
    table = table_name(key)
    note = f"unchanged: the {rows:,} rows published by run {since}, which passed this suite; not validated again"
    store.record_report(run_id, f"gate-{table}", {"kind": "gate", "suite": suite["name"], "table": table,
                                                  "row_count": rows, "passed": True, "unchanged": since,
                                                  "counts": {"passed": 0, "failed": 0, "errored": 0}})
    context.log.info(f"{table}: {note}")
    return _check_result(key, True, note, {"suite": suite["name"], "rows_validated": 0, "unchanged": since,
                                           "base_version_rows": rows})


def _not_loaded(con, table: str) -> bool:
    rows = con.execute("select source_mode from meta.source_loads where table_name = ?", [table]).fetchall()
    return bool(rows and rows[0][0] in ("absent", "skipped"))


LIST_VERSIONS = dg.AssetKey(["marts", "fct_ofac_list_versions"])
MAX_NEXUS_FALL = 0.10  # the listed Iraq- or Iran-nexus count may fall by at most 10% from one list version to the next


@dg.asset_check(
    asset=LIST_VERSIONS,
    name="nexus_counts",
    blocking=True,
    description=(
        f"The listed Iraq-nexus and Iran-nexus entries may fall by at most {MAX_NEXUS_FALL:.0%} from one list version "
        "to the next (a broken ADD.CSV or ALT.CSV silently drops nexus links); --accept-change lifts it for one run"
    ),
    pool="duckdb_writer",
)
def nexus_counts(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    store = warehouse.store()
    run_id = context.op_execution_context.run_id
    with store.connect(run_id) as con:
        # every pair of successive versions whose later one was loaded by this run (a backfill loads many)
        pairs = con.execute("""
            select version_seq, list_version, iraq_now, iran_now, iraq_before, iran_before
            from (
                select version_seq, list_version, observed_at,
                       iraq_nexus_entities as iraq_now, iran_nexus_entities as iran_now,
                       lag(iraq_nexus_entities) over (order by version_seq) as iraq_before,
                       lag(iran_nexus_entities) over (order by version_seq) as iran_before
                from marts.fct_ofac_list_versions
            )
            where version_seq > 1 and observed_at >= (select min(fetched_at) from raw.ofac_sdn)
            order by version_seq
        """).fetchall()
    falls = []
    for seq, version, iraq_now, iran_now, iraq_before, iran_before in pairs:
        for country, before, now in (("Iraq", iraq_before, iraq_now), ("Iran", iran_before, iran_now)):
            if before and (before - now) / before > MAX_NEXUS_FALL:
                at = f" at list version {seq} ({version[:12]}…)" if len(pairs) > 1 else ""
                falls.append(f"listed {country}-nexus entries fell from {before:,} to {now:,} ({(now - before) / before:+.1%}){at}")
    accepted = warehouse.accept_change or ""
    passed = not falls or bool(accepted)
    summary = (
        "; ".join(falls) + f", more than the {MAX_NEXUS_FALL:.0%} allowed between two list versions"
        + (f"; accepted for this run: {accepted}" if accepted else
           "; if the delistings are genuine, rerun with --accept-change REASON")
    ) if falls else "listed nexus counts within bounds"
    store.record_report(run_id, "assertion-nexus_counts", {"kind": "assertion", "name": "nexus_counts",
                                                            "table": "marts.fct_ofac_list_versions", "passed": passed,
                                                            "detail": summary, "accepted_change": accepted or None})
    (context.log.info if passed else context.log.error)(f"[ofac] {summary}")
    return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.ERROR, description=f"[ofac] {summary}",
                               metadata={"version_pairs_compared": len(pairs), "accepted_change": accepted})
