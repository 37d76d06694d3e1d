"""The gates' own process (orchestration/gates/worker.py), as the `warehouse` command starts it: in
a fresh interpreter, where Great Expectations is not imported yet."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.conftest import REPO

SCRIPT = textwrap.dedent("""
    import json, os, signal, sys
    from orchestration.gates import worker
    from orchestration.gates.worker import GateJob, GateProcessError

    worker.start()
    assert worker.separate()
    results = worker.run_gates(sys.argv[1], [GateJob("raw.ofac_sdn", 51), GateJob("raw.no_such_table", None),
                                             GateJob("marts.dim_sanctioned_entity", 51)])
    answer = {"gx_imported_here": "great_expectations" in sys.modules,
              "results": [r if isinstance(r, str) else r.as_dict() for r in results]}
    os.kill(worker._process.pid, signal.SIGKILL)  # the process dies: the step must fail, saying so
    try:
        worker.run_gates(sys.argv[1], [GateJob("raw.ofac_sdn", 51)])
    except GateProcessError as exc:
        answer["died"] = str(exc)
    worker.stop()
    assert not worker.separate()
    print(json.dumps(answer, default=str))
""")


def test_the_gate_process_validates_each_table_and_a_dead_one_fails_the_step(published_sample):
    home, _ = published_sample
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(home / "warehouse.duckdb")], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["gx_imported_here"] is False  # Great Expectations ran in the other process only
    sdn, missing, entities = answer["results"]
    assert sdn["table"] == "raw.ofac_sdn" and sdn["passed"] is True and sdn["row_count"] == 51
    assert sdn["counts"] == {"passed": 23, "failed": 0, "errored": 0}
    assert entities["table"] == "marts.dim_sanctioned_entity" and entities["passed"] and entities["row_count"] == 51
    assert missing.startswith("SuiteMissing: no Great Expectations suite for raw.no_such_table")  # its gate errors
    assert "the gates' process" in answer["died"] and "exit code -9" in answer["died"], answer["died"]


def test_the_gate_process_keeps_no_lock_its_parent_held_when_it_started(tmp_path):
    """A flock taken before the gate process is forked and released after it (the writer lock of a
    run, the test suite's shared homes) is free again: the fork's copy of the descriptor is closed."""
    lock = tmp_path / "lock"
    script = textwrap.dedent(f"""
        import fcntl, json, time
        from orchestration.gates import worker
        with open({str(lock)!r}, "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            worker.start()
        free = False
        deadline = time.monotonic() + 10  # the child closes its copies as it starts, a moment after the fork
        with open({str(lock)!r}, "w") as other:  # another open file description: a second locker
            while not free and time.monotonic() < deadline:
                try:
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    free = True
                except BlockingIOError:
                    time.sleep(0.05)
        print(json.dumps({{"free": free, "alive": worker._process.is_alive()}}))
        worker.stop()
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"free": True, "alive": True}


def test_the_gate_process_ends_when_its_parent_is_killed(tmp_path):
    """A refresh killed mid-run (SIGKILL, out of memory) leaves no gate process behind."""
    import os
    import time

    script = ("import os, sys\nfrom orchestration.gates import worker\nworker.start()\n"
              "print(worker._process.pid, flush=True)\nos.kill(os.getpid(), 9)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == -9, done.stderr
    child = int(done.stdout.split()[0])
    deadline = time.monotonic() + 60  # it may still be importing GX when its parent dies
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{child}/stat") as stat:
            if stat.read().split()[2] == "Z":  # exited; a zombie until init reaps it
                return
        time.sleep(0.2)
    raise AssertionError(f"the gate process {child} outlived its killed parent")
