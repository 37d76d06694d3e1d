"""Where the Great Expectations gates run: in a process of their own, started before the run.

Importing Great Expectations takes about 2 s, and a refresh of the bundled sample spends those 2 s
in its first gate with the second core idle. The `warehouse` command therefore starts one process
before it loads Dagster, forked from it (so it has pandas and DuckDB already, and never runs the
caller's `__main__` again, as a spawned process would); it imports GX while the command starts
Dagster and loads the sources, and the gate steps hand it their tables. Each gate
step still decides what to validate (the row counts the bounds come from, the tables kept as
unchanged) and reports the results; the process only reads the build, read-only, while the step
holds no connection to it (every writer sits in one pool, so nothing else writes meanwhile).

The process serves every later refresh of the same process too (the test suite runs many), with
the settings each request carries. Where GX is already imported here or the process was not
started (a run launched from the UI or the daemon), the gates run in the step's own process: the
same function, the same results.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import duckdb

from orchestration.gates.gx_gate import GateResult, validate_table
from orchestration.settings import duckdb_config


@dataclass(frozen=True)
class GateJob:
    """One table to validate, with what the step knows about it."""

    table: str
    previous_rows: int | None
    not_loaded: bool = False
    accepted_change: str | None = None
    backfill: str | None = None


_process: multiprocessing.process.BaseProcess | None = None
_pipe: Connection | None = None


def start() -> None:
    """Start the gate process now, unless it runs already or GX is imported here (then it would only
    cost). It serves every later refresh of this process too, and ends when this process exits."""
    global _process, _pipe
    if _process is not None or "great_expectations" in sys.modules:
        return
    # forked before Dagster is imported: no Dagster thread or DuckDB database is open to be copied
    context = multiprocessing.get_context("fork")
    _pipe, theirs = context.Pipe()
    _process = context.Process(target=_serve, args=(theirs,), name="warehouse-gates", daemon=True)
    _process.start()
    theirs.close()
    atexit.register(stop)


def stop() -> None:
    """End the gate process (it leaves at once, without Python's teardown of what it imported)."""
    global _process, _pipe
    if _process is not None and _pipe is not None:
        with contextlib.suppress(OSError):
            _pipe.send(None)
        _process.join(timeout=10)
        if _process.is_alive():
            _process.kill()
        _pipe.close()
    _process = _pipe = None


def separate() -> bool:
    """Do the gates run in their own process (started by `start`)?"""
    return _process is not None


def run_gates(database: Path, jobs: list[GateJob]) -> list[GateResult | str]:
    """Each job's GateResult, or the text of what it raised (its gate errored), in order."""
    if not jobs:
        return []
    if _process is None or _pipe is None:
        return validate_all(str(database), jobs)
    try:
        _pipe.send((str(database), jobs, duckdb_config()))  # this process's settings, not those it was forked with
        answer = _pipe.recv()
    except (EOFError, OSError) as exc:
        _process.join(timeout=1)
        error = GateProcessError(f"the gates' process (pid {_process.pid}) ended before it answered "
                                 f"(exit code {_process.exitcode})")
        stop()  # a later refresh of this process starts another
        raise error from exc
    if isinstance(answer, str):
        raise GateProcessError(f"the gates' process could not validate {database}: {answer}")
    return answer


class GateProcessError(RuntimeError):
    """The gates' process died (killed, out of memory) or could not read the build: no gate result,
    so the step fails and the run publishes nothing."""


def _serve(pipe: Connection) -> None:
    if _pipe is not None:
        _pipe.close()  # the parent's end, copied by the fork: while open here, the parent's death is never seen
    _close_inherited(pipe.fileno())
    import great_expectations  # noqa: F401 - now, while the parent starts Dagster

    from orchestration.gates.gx_gate import _batch_definition

    _batch_definition()  # GX's ephemeral context and pandas datasource, made once per process
    while True:
        try:
            request = pipe.recv()
        except EOFError:  # the parent is gone (killed, say): nothing to answer
            request = None
        if request is None:
            os._exit(0)  # nothing left open; Python's teardown of GX and pandas would cost the parent 0.6 s
        try:
            answer = validate_all(*request)
        except Exception as exc:  # the build could not be opened, say: the step raises it
            answer = f"{type(exc).__name__}: {exc}"
        try:
            pipe.send(answer)
        except OSError:  # the parent died while this process validated: no one to answer
            os._exit(0)


def _close_inherited(keep: int) -> None:
    """Close every file descriptor the fork copied from the parent, but stdio and `keep` (the pipe).
    A copied descriptor keeps its open file alive, and with it any flock the parent holds on it: a
    lock the parent took before the fork and released after (the writer lock of a run, a test's
    lock) stayed held for as long as this process lived, and whoever waited for it waited for ever."""
    os.closerange(3, keep)
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))


def validate_all(database: str, jobs: list[GateJob], config: dict | None = None) -> list[GateResult | str]:
    con = duckdb.connect(database, read_only=True, config=config or duckdb_config())
    try:
        results: list[GateResult | str] = []
        for job in jobs:
            try:
                results.append(validate_table(con, job.table, job.previous_rows, not_loaded=job.not_loaded,
                                              accepted_change=job.accepted_change, backfill=job.backfill))
            except Exception as exc:  # this table's gate errored; the others still run
                results.append(f"{type(exc).__name__}: {exc}")
        return results
    finally:
        con.close()
