"""`warehouse`: the shell interface. `refresh` runs the Dagster assets in-process; `status` reports.

    warehouse refresh                  every source, dbt, gates, publish
    warehouse refresh --only ofac      the named sources and everything downstream of them;
                                       every other table keeps its last published data
    warehouse status                   what is published, when, and from which inputs
    warehouse sources                  the sources and the files each reads
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import sys
import tempfile
from pathlib import Path

from orchestration.errors import SourceError
from orchestration.settings import SettingsError, layout, source_mode

CURATED_GROUP = "curated"


def run() -> None:
    """The `warehouse` console script."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `warehouse status | head` ends quietly
    sys.exit(main())


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    parser = argparse.ArgumentParser(prog="warehouse", description="Iraq-Iran sanctions warehouse")
    commands = parser.add_subparsers(dest="command", required=True)
    refresh = commands.add_parser("refresh", help="fetch, build, gate and publish")
    refresh.add_argument(
        "--only",
        action="append",
        metavar="SOURCE",
        help="refresh only these sources (repeat or comma-separate) and what depends on them",
    )
    refresh.add_argument(
        "--accept-change",
        metavar="REASON",
        help="for this run only, accept counts beyond the gates' bounds (a genuine collapse or growth): "
        "row-count floors and ceilings and the nexus-count fall are lifted; REASON goes in the run report",
    )
    commands.add_parser("status", help="what is published, when, and from which inputs")
    commands.add_parser("sources", help="list the sources and their files")
    args = parser.parse_args(argv)
    try:
        if args.command == "refresh":
            if args.accept_change is not None:
                if not args.accept_change.strip():
                    raise SettingsError("--accept-change needs a reason, e.g. --accept-change 'OFAC delisted 40 Iraqi entries on 2026-03-02'")
                os.environ["WAREHOUSE_ACCEPT_CHANGE"] = args.accept_change.strip()
            else:
                os.environ.pop("WAREHOUSE_ACCEPT_CHANGE", None)  # one run only: never inherited by the next
            return refresh_command(args.only)
        if args.command == "status":
            return status_command()
        return sources_command()
    except (SettingsError, SourceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _requested_sources(only: list[str] | None) -> list[str] | None:
    from orchestration.sources import SOURCES

    if not only:
        return None
    names = [n.strip() for item in only for n in item.split(",") if n.strip()]
    known = set(SOURCES) | {CURATED_GROUP}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SettingsError(f"unknown source(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return names


def refresh_command(only: list[str] | None) -> int:
    mode = source_mode()  # a bad WAREHOUSE_SOURCES fails before anything starts
    names = _requested_sources(only)
    paths = layout()
    _check_writable(paths.home)
    with open(paths.lock, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"error: another refresh holds {paths.lock}; wait for it to finish", file=sys.stderr)
            return 3
        scope = "all sources" if names is None else ", ".join(names) + " and downstream"
        print(f"warehouse refresh: {scope}, inputs from {mode.describe()}, home {paths.home}", flush=True)
        if os.environ.get("WAREHOUSE_ACCEPT_CHANGE"):
            print(f"  accepting counts beyond the gates' bounds for this run: {os.environ['WAREHOUSE_ACCEPT_CHANGE']}", flush=True)
        return _run_refresh(names)


def _run_refresh(names: list[str] | None) -> int:
    import dagster as dg

    from orchestration import definitions
    from orchestration.progress import DbtNoiseFilter, concise_console
    from orchestration.reports import write_run_report

    resources = definitions.resources()  # read from the environment now, not at import
    warehouse = resources["warehouse"]
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    run_defs = dg.Definitions(
        assets=definitions.all_assets,
        asset_checks=definitions.gates,
        resources=resources,
        loggers={"console": concise_console},
    )
    graph = run_defs.resolve_asset_graph()
    if names is None:
        selected = dg.AssetSelection.all().resolve(graph)
    else:
        selected = _only_selection(graph, names, warehouse.store().published_tables())
    job = run_defs.resolve_implicit_global_asset_job_def()
    with contextlib.redirect_stdout(DbtNoiseFilter(sys.stdout)):
        result = job.execute_in_process(
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            asset_selection=sorted(selected, key=lambda k: k.to_user_string()),
            raise_on_error=False,
            tags={"trigger": "warehouse-cli"},
        )
    store = warehouse.store()
    run_id = result.run_id
    if result.success and not store.build_dir(run_id).exists():
        print(_published_summary(store.layout))
        return 0
    problems = _failures(result)
    error = "\n".join(problems) or "the run did not publish"
    kept = store.discard(run_id)
    write_run_report(store, run_id, published=False, error=error)
    print("\nREFRESH FAILED: nothing was published; the published warehouse is unchanged.", file=sys.stderr)
    for line in problems:
        print(f"  - {line}", file=sys.stderr)
    if kept:
        print(f"  failed build kept for inspection: {kept}", file=sys.stderr)
    print(f"  run report: {store.layout.run_reports / (run_id + '.json')}", file=sys.stderr)
    return 1


def _check_writable(home: Path) -> None:
    """An unwritable WAREHOUSE_HOME is one clear line before anything runs, not a traceback mid-run."""
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=home, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise SettingsError(
            f"WAREHOUSE_HOME {home} is not writable ({exc.strerror or exc}); set WAREHOUSE_HOME to a folder you can write"
        ) from None


def _only_selection(graph, names: list[str], published: set[str]) -> set:
    """`--only`: the named sources, everything downstream of them, and what those need that no source
    loads (seeds, calendars), so a mart that joins several sources is rebuilt whole from the
    published tables of the others. What needs a source that was never published (a first run
    with --only) is left out, and said so."""
    import dagster as dg

    from orchestration import definitions

    source_raw = {key for assets in definitions.raw_assets for key in assets.keys}
    downstream = dg.AssetSelection.groups(*names).downstream().resolve(graph)
    refreshed = {key for key in source_raw if key in downstream}
    never_loaded = {key for key in source_raw - refreshed if ".".join(key.path) not in published}
    needed = dg.AssetSelection.assets(*downstream).upstream().resolve(graph) - source_raw
    blocked = dg.AssetSelection.assets(*never_loaded).downstream().resolve(graph) if never_loaded else set()
    left_out = sorted(k.to_user_string() for k in (downstream | needed) & blocked if k.path[0] == "marts")
    if left_out:
        missing = sorted({graph.get(k).group_name for k in never_loaded})
        print(f"  left out (they need {', '.join(missing)}, never published here): {', '.join(left_out)}", flush=True)
    return ((downstream | needed) - blocked) | {definitions.PUBLISHED_KEY}


def _failures(result) -> list[str]:
    """One line per cause: failed steps, and failed gates with the expectations that failed."""
    from orchestration.sources import SOURCES

    owner = {f"raw.{t.name}": name for name, source in SOURCES.items() for t in source.tables}
    problems = []
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        cause = event.event_specific_data.error
        if "DagsterAssetCheckFailedError" in (cause.cls_name or ""):
            continue  # reported below, with what the gate found
        while cause.cause is not None and "DagsterExecutionStepExecutionError" in (cause.cls_name or ""):
            cause = cause.cause
        message = [line for line in (cause.message or "").strip().splitlines() if line.strip()]
        shown = "\n    ".join(message[:15]) if message else cause.cls_name
        problems.append(f"{event.step_key}: {shown}")
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            continue
        table = ".".join(evaluation.asset_key.path)
        source = f"[{owner[table]}] " if table in owner else ""
        details = evaluation.metadata.get("problems")
        bad = [
            f"{p['status']} {p['expectation']}({p['column'] or ''}): {p['detail']}"
            for p in (details.value if details is not None else [])
        ]
        problems.append(
            f"{source}{table}: quality gate {evaluation.check_name} failed ({evaluation.description}):\n      "
            + "\n      ".join(bad[:10])
        )
    return problems


def _published_summary(paths) -> str:
    import duckdb

    from orchestration.reports import table_counts

    lines = [f"\nPublished {paths.published}"]
    for name, count in table_counts(paths.published).items():
        lines.append(f"  {name:<45} {count:>9,} rows")
    con = duckdb.connect(str(paths.published), read_only=True)
    try:
        loads = con.execute(
            "select source, table_name, source_mode, is_sample, files from meta.source_loads order by table_name"
        ).fetchall()
    finally:
        con.close()
    lines.append("Inputs:")
    for source, table, mode, is_sample, files in loads:
        files = json.loads(files)
        label = " (SAMPLE, not a publisher's file)" if is_sample else ""
        if not files:
            lines.append(f"  {table:<28} {'(none)':<18} {mode}: not loaded this run (optional file or skipped source)")
        elif len(files) > 3:
            lines.append(f"  {table:<28} {len(files)} files, e.g. {files[0]['file']} ({mode}{label}); every sha256 in meta.source_loads")
        for f in files if len(files) <= 3 else ():
            lines.append(f"  {table:<28} {f['file']:<18} {mode}{label} sha256 {f['sha256'][:16]}…")
    lines.append(
        "Query it (read-only, never blocked by a refresh):\n"
        f"  python -c \"import duckdb; print(duckdb.connect('{paths.published}', read_only=True)"
        ".sql('select * from marts.dim_sanctioned_entity where iraq_nexus limit 10'))\""
    )
    lines.append(f"Run report: {paths.home / 'published_run.json'}")
    return "\n".join(lines)


def status_command() -> int:
    paths = layout()
    if not paths.published.exists():
        print(f"Nothing published yet under {paths.home}. Run `make run` or `warehouse refresh`.")
        _print_last_run(paths)
        return 1
    report_path = paths.home / "published_run.json"
    if report_path.exists():
        report = json.loads(report_path.read_text())
        print(f"Published by run {report['run_id']} at {report['finished_at']}")
    print(_published_summary(paths))
    _print_last_run(paths)
    return 0


def _print_last_run(paths) -> None:
    last = paths.home / "last_run.json"
    if last.exists():
        report = json.loads(last.read_text())
        state = "published" if report["published"] else "FAILED, nothing published"
        print(f"Last run {report['run_id']} at {report['finished_at']}: {state}")
        if report.get("error"):
            print("  " + report["error"].replace("\n", "\n  "))


def sources_command() -> int:
    from orchestration.sources import SOURCES

    for source in SOURCES.values():
        print(f"{source.name}: {source.title} ({source.licence})")
        for spec in source.files:
            flag = "" if spec.required else " (optional)"
            print(f"  {spec.name:<20} {source.url_of(spec)}{flag}")
    print(f"{CURATED_GROUP}: curated registers (dbt seeds in dbt_project/seeds/curated, one source URL per row)")
    return 0


if __name__ == "__main__":
    run()
