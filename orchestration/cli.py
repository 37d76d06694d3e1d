"""`warehouse`: the shell interface. `refresh` runs the Dagster assets in-process; `status` reports.

    warehouse refresh                  every source, dbt, gates, publish
    warehouse refresh --only ofac      the named sources and everything downstream of them;
                                       every other table keeps its last published data
    warehouse status                   what is published (read from the published file itself),
                                       the kept versions, and the last run
    warehouse rollback [RUN_ID]        make a kept version current again (default: the one before)
    warehouse backfill ofac ARCHIVE    load an archive's dated OFAC list versions in one run
    warehouse sources                  the sources and the files each reads

`refresh` runs the one `refresh_warehouse` job of `orchestration.definitions`, the same job the UI,
the schedule and `dagster job execute` run: one writer at a time per home, whoever launched it.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import json
import os
import signal
import sys
import tempfile
import threading
from datetime import UTC
from pathlib import Path

from orchestration.errors import PublishError, SourceError
from orchestration.settings import SettingsError, duckdb_memory_limit, layout, source_mode

CURATED_GROUP = "curated"


def run() -> None:
    """The `warehouse` console script."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `warehouse status | head` ends quietly
    leave(main())


def leave(code: int) -> None:
    """Exit with `code` after the exit handlers, without Python's teardown of every module a refresh
    imported (Dagster, dbt, GX, pandas): that teardown took 1.1 s after a sample refresh had finished
    (measured), and by now every file, connection and Dagster instance is closed. While another
    thread still runs, exit the ordinary way, which waits for it."""
    if any(t is not threading.main_thread() and t.is_alive() and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()  # logging's shutdown, temporary directories' finalizers, multiprocessing's
    os._exit(code)


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
    refresh.add_argument(
        "--rebuild", action="store_true",
        help="load, build and publish even if no input changed (by default a source whose files have the sha256 of "
        "its published load keeps its published rows, and a run where nothing changed publishes nothing)",
    )
    backfill = commands.add_parser(
        "backfill", help="load many dated versions of a source's list in one run (ARCHIVE/ofac/YYYY-MM-DD/SDN.CSV ...)")
    backfill.add_argument("source", choices=["ofac"], help="the source whose versions the archive holds")
    backfill.add_argument("archive", type=Path, help="a folder holding <source>/<version>/ with the publisher's files")
    backfill.add_argument("--accept-change", metavar="REASON",
                          help="as for refresh: lift the row-count floors and the nexus-count fall for this run")
    commands.add_parser("status", help="what is published, when, and from which inputs")
    rollback = commands.add_parser("rollback", help="make a kept published version current again, atomically")
    rollback.add_argument("run_id", nargs="?", metavar="RUN_ID",
                          help="the run whose version to restore (a unique prefix will do); default: the version "
                          "published before the current one")
    commands.add_parser("sources", help="list the sources and their files")
    commands.add_parser("freshness", help="how long ago each source was last loaded, against its limit; "
                        "exits 1 when one is stale")
    docs = commands.add_parser("docs", help="dbt docs (lineage, column descriptions, catalog) of the published version")
    docs.add_argument("--serve", action="store_true", help="then serve them on http://127.0.0.1:PORT")
    docs.add_argument("--port", type=int, default=8580)
    sql = commands.add_parser("sql", help="SQL on the published warehouse, read-only (a prompt, or one query)")
    sql.add_argument("query", nargs="?", help="run this one statement and exit; without it, an interactive prompt")
    args = parser.parse_args(argv)
    try:
        if args.command in ("refresh", "backfill"):
            reason = ""
            if args.accept_change is not None:
                reason = args.accept_change.strip()
                if not reason:
                    raise SettingsError("--accept-change needs a reason, e.g. --accept-change 'OFAC delisted 40 Iraqi entries on 2026-03-02'")
            if args.command == "backfill":
                return backfill_command(args.source, args.archive, reason)
            return refresh_command(args.only, reason, args.rebuild)
        if args.command == "status":
            return status_command()
        if args.command == "rollback":
            return rollback_command(args.run_id)
        if args.command == "sql":
            return sql_command(args.query)
        if args.command == "docs":
            return docs_command(args.serve, args.port)
        if args.command == "freshness":
            return freshness_command()
        return sources_command()
    except (SettingsError, SourceError, PublishError) as exc:
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


def refresh_command(only: list[str] | None, accept_change: str = "", rebuild: bool = False) -> int:
    mode = source_mode()  # a bad WAREHOUSE_SOURCES fails before anything starts
    duckdb_memory_limit()  # ... and so does a bad WAREHOUSE_DUCKDB_MEMORY
    names = _requested_sources(only)
    paths = layout()
    _check_writable(paths.home)
    scope = "all sources" if names is None else ", ".join(names) + " and downstream"
    print(f"warehouse refresh: {scope}, inputs from {mode.describe()}, home {paths.home}", flush=True)
    if accept_change:
        print(f"  accepting counts beyond the gates' bounds for this run: {accept_change}", flush=True)
    if rebuild:
        print("  rebuilding: every source is loaded again and the result published, changed or not", flush=True)
    elif _unchanged_before_run(names):
        return 0
    return _run_refresh(names, accept_change, rebuild=rebuild)


def _unchanged_before_run(names: list[str] | None) -> bool:
    """Bundled and directory modes: when every file to load is byte-identical to the published
    load's and the code is the same, say so and stop before a Dagster run starts, with the report
    and the freshness record such a run leaves (loading.unchanged_before_run)."""
    from orchestration.loading import unchanged_before_run

    store = layout_store()
    report = unchanged_before_run(store, names)
    if report is None:
        return False
    store.save_report(report)
    _record_unchanged_in_dagster(report)
    print(f"\nNothing changed, nothing published: {report['unchanged']}.\n  {store.layout.published} is untouched; "
          f"checked before starting a run (--rebuild forces one); run report: "
          f"{store.layout.run_reports / (report['run_id'] + '.json')}")
    return True


def _record_unchanged_in_dagster(report: dict) -> None:
    """With a Dagster instance (DAGSTER_HOME), each raw table found unchanged gets a materialization
    saying so, as a run that kept it would record: its freshness check and asset history see the
    check. Without one (an ephemeral instance) there is no history to record it in."""
    if not os.environ.get("DAGSTER_HOME"):
        return
    import dagster as dg

    from orchestration.assets.sources import unchanged_metadata

    with dg.DagsterInstance.get() as instance:
        for load in report["sources"]:
            for table, rows in load["tables"].items():
                instance.report_runless_asset_event(dg.AssetMaterialization(
                    asset_key=dg.AssetKey(table.split(".")),
                    description=f"unchanged: checked by `warehouse refresh` before starting a run (run report {report['run_id']})",
                    metadata=unchanged_metadata(table, rows, load["unchanged"]),
                ))


def backfill_command(source: str, archive: Path, accept_change: str = "") -> int:
    """`warehouse refresh --only ofac` whose OFAC step loads every new version of the archive."""
    from orchestration.backfill import scan_archive

    archive = archive.resolve()
    versions = scan_archive(archive)  # a bad archive fails before anything starts
    duckdb_memory_limit()  # ... and so does a bad WAREHOUSE_DUCKDB_MEMORY
    paths = layout()
    _check_writable(paths.home)
    print(f"warehouse backfill {source}: {len(versions)} list version(s) in {archive / source}, "
          f"{versions[0].label} to {versions[-1].label}; home {paths.home}", flush=True)
    if accept_change:
        print(f"  accepting counts beyond the gates' bounds for this run: {accept_change}", flush=True)
    return _run_refresh([source], accept_change, backfill=str(archive))


def _run_refresh(names: list[str] | None, accept_change: str, backfill: str = "", rebuild: bool = False) -> int:
    """The `refresh_warehouse` job of the one Definitions, in this process; --only is an asset selection."""
    from orchestration.gates import worker

    worker.start()  # the gates' process imports Great Expectations while this one starts Dagster
    from orchestration import definitions  # noqa: F401  (Dagster, dagster-dbt, the definitions)

    os.environ.setdefault("WAREHOUSE_SOURCES", "bundled")
    # Dagster, dbt's adapter and the definitions are imported: hundreds of thousands of objects
    # that outlive the run. Out of the garbage collector's sight while it runs, its collections
    # (some 1,300 in a sample refresh) no longer walk them: 1.08 s of collecting became 0.73 s.
    # Given back after it, as a process that runs refreshes one after another (the tests) needs.
    gc.freeze()
    try:
        return _execute(names, accept_change, backfill, rebuild)
    finally:
        gc.unfreeze()


def _execute(names: list[str] | None, accept_change: str, backfill: str, rebuild: bool) -> int:
    import dagster as dg

    from orchestration import definitions
    from orchestration.progress import DbtNoiseFilter
    from orchestration.reports import record_failure
    from orchestration.resources import WarehouseResource
    from orchestration.selection import refresh_selection

    store = layout_store()
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    job = definitions.defs.resolve_job_def(definitions.refresh_job.name)
    if names is not None:
        chosen = refresh_selection(names, store.published_tables())
        if chosen.left_out:
            print(f"  left out (they need {', '.join(chosen.missing_sources)}, never published here): "
                  f"{', '.join(chosen.left_out)}", flush=True)
        job = job.get_subset(asset_selection=set(chosen.keys), asset_check_selection=set(chosen.checks))
    with instance, contextlib.redirect_stdout(DbtNoiseFilter(sys.stdout)):
        result = job.execute_in_process(
            instance=instance,
            run_config={
                "loggers": {"console": {"config": {"log_level": "INFO"}}},
                "resources": {"warehouse": {"config": WarehouseResource.run_config(accept_change, backfill, rebuild)}},
            },
            raise_on_error=False,
            tags={"trigger": "warehouse-cli", **({"accept_change": accept_change} if accept_change else {}),
                  **({"backfill": backfill} if backfill else {})},
        )
    run_id = result.run_id
    if result.success and not store.build_dir(run_id).exists():
        unchanged = _unchanged_report(store, run_id)
        print(f"\nNothing changed, nothing published: {unchanged}.\n  {store.layout.published} is untouched; "
              f"run report: {store.layout.run_reports / (run_id + '.json')}" if unchanged else _published_summary(store))
        return 0
    problems = _failures(result)
    error = "\n".join(problems) or "the run did not publish"
    kept, _ = record_failure(store, run_id, error)
    print("\nREFRESH FAILED: nothing was published; the published warehouse is unchanged.", file=sys.stderr)
    for line in problems:
        print(f"  - {line}", file=sys.stderr)
    if kept:
        print(f"  failed build kept for inspection: {kept}", file=sys.stderr)
    print(f"  run report: {store.layout.run_reports / (run_id + '.json')}", file=sys.stderr)
    return 1


def _unchanged_report(store, run_id: str) -> str | None:
    """Why a run that succeeded published nothing (its report says), or None if it published."""
    path = store.layout.run_reports / f"{run_id}.json"
    return json.loads(path.read_text()).get("unchanged") if path.exists() else None


def layout_store():
    from orchestration.warehouse import Warehouse

    return Warehouse(layout())


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
        # a source's step names its source, whatever failed in it (a writer lock it waited for, say)
        source = event.step_key.removesuffix("_raw") if event.step_key.endswith("_raw") else ""
        prefix = f"[{source}] " if source in SOURCES and not shown.startswith(f"[{source}]") else ""
        problems.append(f"{prefix}{event.step_key}: {shown}")
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


def _figure_key(label: str) -> str:
    """A figure's label without its date ("Iraq's imports from Iran, 2025-06" -> "Iraq's imports from Iran")."""
    return label.split(",")[0]


def _key_figure_lines(store, report: dict, base_run_id: str | None) -> list[str]:
    """The report's key figures, each marked new, changed (with the value before) or unchanged against
    the version this one was built on (its report is in the same file, in meta.published_runs)."""
    figures = report.get("key_figures") or []
    if not figures:
        return []
    before: dict[str, dict] = {}
    if base_run_id:
        with store.read_published() as con:
            row = con.execute("select report from meta.published_runs where run_id = ?", [base_run_id]).fetchone()
        old = json.loads(row[0]) if row and row[0] else {}
        before = {_figure_key(f["label"]): f for f in (old.get("key_figures") or [])}
    lines = ["Key figures" + (" (against the version it built on):" if base_run_id else ":")]
    for figure in figures:
        previous = before.get(_figure_key(figure["label"]))
        if not base_run_id:
            mark = ""
        elif previous is None:
            mark = "  (new)"
        elif (previous["label"], previous["value"]) == (figure["label"], figure["value"]):
            mark = "  (unchanged)"
        else:
            mark = f"  (was {previous['value']}" + (f", {previous['label']}" if previous["label"] != figure["label"] else "") + ")"
        lines.append(f"  {figure['label']}: {figure['value']}{mark}")
    return lines


def _published_summary(store) -> str:
    """What is published, read from inside the published file: the run that published it (with the
    table counts its report recorded at publish time) and the inputs of every raw table."""
    from orchestration.alerts import summary_lines
    from orchestration.reports import table_counts_of
    from orchestration.warehouse import BASE_COUNTS_TABLE, tables_in

    paths = store.layout
    version = store.published_version()
    report = (version or {}).get("report") or {}
    counts = report.get("tables") or table_counts_of(paths.published)  # a file from before reports were stored in it
    lines = [f"\nPublished {paths.published}"]
    if version:
        lines.append(f"  version of run {version['run_id']}, published at {_when(version['published_at'])}"
                     + (f" (built on run {version['base_run_id']})" if version["base_run_id"] else ""))
        if report.get("accepted_change"):
            lines.append(f"  count bounds lifted for that run: {report['accepted_change']}")
        changed = summary_lines(report.get("changes"))
        if changed:
            lines.append("Changes since the version it built on:")
            lines.extend(changed)
        figures = _key_figure_lines(store, report, version["base_run_id"])
        if figures:
            lines.extend([*figures, "Tables:"])
        # the alert is sent after the publish, so it is in the report beside the file, not inside it
        beside = paths.run_reports / f"{version['run_id']}.json"
        alert = (json.loads(beside.read_text()).get("alert") if beside.exists() else None) or {}
        if alert.get("sent"):
            lines.append(f"  alert sent to {alert['host']}")
        elif alert.get("error"):
            lines.append(f"  ALERT NOT DELIVERED ({alert['error']}); the publish stands")
    with store.read_published() as con:
        loads = con.execute(
            "select source, table_name, source_mode, is_sample, files from meta.source_loads order by table_name"
        ).fetchall()
        # the counts of the version this one was built on, recorded in its build: the change per table
        before = dict(con.execute(f"select table_name, row_count from {BASE_COUNTS_TABLE}").fetchall()) \
            if BASE_COUNTS_TABLE in tables_in(con) else {}
    for name, count in counts.items():
        change = "" if not before else ("  (new)" if name not in before else
                                        f"  ({count - before[name]:+,})" if count != before[name] else "")
        lines.append(f"  {name:<45} {count:>9,} rows{change}")
    lines.append("Inputs:")
    for _source, table, mode, is_sample, files in loads:
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
    lines.append(f"Run report: inside the file (meta.published_runs.report), copied to {paths.home / 'published_run.json'}")
    if (store.parquet_dir / "current").is_dir():
        lines.append(f"Parquet (every mart): {store.parquet_dir / 'current'}/<mart>.parquet")
    html = store.report_dir / "current" / "index.html"
    if html.exists():
        lines.append(f"Charts and report (opens from disk): {html}")
    return "\n".join(lines)


def _when(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if hasattr(value, "astimezone") else str(value)


def status_command() -> int:
    store = layout_store()
    paths = store.layout
    if not paths.published.exists():
        print(f"Nothing published yet under {paths.home}. Run `make run` or `warehouse refresh`.")
        _print_last_run(paths)
        return 1
    version = store.published_version()
    if version:
        print(f"Published by run {version['run_id']} at {_when(version['published_at'])}")
        rollbacks = paths.home / "rollbacks.jsonl"
        last = json.loads(rollbacks.read_text().splitlines()[-1]) if rollbacks.exists() else None
        if last and last["to_run_id"] == version["run_id"]:
            print(f"  current since a rollback at {last['rolled_back_at']} (from run {last['from_run_id']})")
    print(_published_summary(store))
    kept = store.versions()
    if kept:
        current = version["run_id"] if version else None
        print(f"Kept versions ({len(kept)}, oldest first; `warehouse rollback RUN_ID` makes one current):")
        for v in kept:
            print(f"  {v['run_id']}  published {_when(v['published_at'])}{'  <- current' if v['run_id'] == current else ''}")
    _print_last_run(paths)
    return 0


def rollback_command(run_id: str | None) -> int:
    store = layout_store()
    before, after = store.rollback(run_id)
    print(f"Rolled back {store.layout.published}: now the version of run {after['run_id']} "
          f"(published {_when(after['published_at'])}); it was run {before['run_id']}'s.")
    print("Readers see it once they reconnect. The replaced version stays kept: "
          f"`warehouse rollback {before['run_id']}` restores it.")
    return 0


def _print_last_run(paths) -> None:
    last = paths.home / "last_run.json"
    if last.exists():
        report = json.loads(last.read_text())
        state = ("published" if report["published"] else
                 "nothing changed, nothing to publish" if report.get("unchanged") else "FAILED, nothing published")
        print(f"Last run {report['run_id']} at {report['finished_at']}: {state}")
        if report.get("error"):
            print("  " + report["error"].replace("\n", "\n  "))


def sql_command(query: str | None) -> int:
    """Plain SQL on the published file, read-only. Each statement opens its own short connection,
    so it always reads the latest published version and never holds the file between statements."""
    import duckdb

    store = layout_store()
    path = store.layout.published
    if not path.exists():
        print(f"Nothing published yet under {store.layout.home}. Run `make run` or `warehouse refresh`.", file=sys.stderr)
        return 1

    def run(statement: str) -> bool:
        con = duckdb.connect(str(path), read_only=True)
        try:
            relation = con.sql(statement)
            if relation is None:
                print("ok")
            else:
                relation.show(max_width=200, max_rows=60)
            return True
        except duckdb.Error as exc:
            print(f"error: {str(exc).strip()}", file=sys.stderr)
            return False
        finally:
            con.close()

    if query is not None:
        return 0 if run(query) else 1

    with contextlib.suppress(ImportError):
        import readline  # noqa: F401 (line editing and history at the prompt)
    version = store.published_version()
    print(f"{path} (read-only; version of run {version['run_id'] if version else '?'}). "
          "End a statement with ';'. .tables lists the tables, .quit (or Ctrl-D) leaves.")
    pending: list[str] = []
    while True:
        try:
            line = input("...> " if pending else "sql> ")
        except EOFError:
            print()
            return 0
        command = line.strip()
        if not pending and command in (".quit", ".exit"):
            return 0
        if not pending and command == ".tables":
            run("select table_schema || '.' || table_name as table_name, table_type from information_schema.tables "
                "where table_schema in ('raw', 'staging', 'history', 'marts') order by 1")
            continue
        if command:
            pending.append(line)
        if pending and command.endswith(";"):
            run("\n".join(pending))
            pending = []


def docs_command(serve: bool, port: int) -> int:
    """`dbt docs generate` on a copy of the published file (dbt opens its database for writing; the
    published file never is), into WAREHOUSE_HOME/docs: static_index.html opens from disk."""
    import shutil
    import subprocess

    from orchestration.settings import DBT_PROJECT_DIR

    store = layout_store()
    if not store.layout.published.exists():
        print(f"Nothing published yet under {store.layout.home}. Run `make run` or `warehouse refresh`.", file=sys.stderr)
        return 1
    dbt = str(Path(sys.executable).parent / "dbt")
    target = store.layout.home / "docs"
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(target)]
    with tempfile.TemporaryDirectory(prefix="warehouse-docs-") as tmp:
        copy = Path(tmp) / "warehouse.duckdb"  # the same file name: the same catalog name as the published file
        shutil.copyfile(store.layout.published, copy)
        done = subprocess.run([dbt, "docs", "generate", "--static", "--quiet", *common,
                               "--vars", json.dumps({"warehouse_db": str(copy)})], check=False)
    if done.returncode != 0:
        print("error: dbt docs generate failed (its output is above)", file=sys.stderr)
        return 1
    version = store.published_version()
    print(f"dbt docs of the version of run {version['run_id'] if version else '?'}: {target / 'static_index.html'} "
          "(opens from disk, no server needed)")
    if serve:
        print(f"serving them on http://127.0.0.1:{port} (Ctrl-C stops)", flush=True)
        return subprocess.run([dbt, "docs", "serve", *common, "--host", "127.0.0.1", "--port", str(port), "--no-browser"],
                              check=False).returncode
    return 0


def freshness_command() -> int:
    from orchestration.freshness import source_freshness

    store = layout_store()
    found = source_freshness(store)
    if not found:
        print(f"Nothing published yet under {store.layout.home}: every source is stale. Run `warehouse refresh`.",
              file=sys.stderr)
        return 1
    print(f"Freshness of {store.layout.published} (age since each source's last load, or since a later run found "
          "its files unchanged; skipped loads not counted):")
    for row in found:
        flag = "STALE" if row["stale"] else "ok"
        sample = " (bundled SAMPLE)" if row["is_sample"] else ""
        when = _when(row["loaded_at"]) if row["loaded_at"] else "-"
        checked = f"; unchanged when checked {_when(row['checked_at'])}" if row.get("checked_at") else ""
        print(f"  {row['source']:<17} {flag:<5} last loaded {when:<20} {row['age']:>12} (limit {row['max_age']}){sample}"
              f"{checked}")
    stale = [row["source"] for row in found if row["stale"]]
    if stale:
        print(f"error: stale beyond their limit: {', '.join(stale)}; refresh them "
              f"(`warehouse refresh --only {','.join(stale)}`) or see why their schedule failed", file=sys.stderr)
        return 1
    return 0


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
