"""The `warehouse` command at its edges: settings it cannot work with fail in one line."""

from __future__ import annotations

import pytest

from orchestration.cli import main


@pytest.mark.parametrize("where", ["under a file", "on a read-only system folder"])
def test_an_unwritable_home_is_one_line_not_a_traceback(where, tmp_path, monkeypatch, capsys):
    if where == "under a file":
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where a folder should be")
        home = blocker / "home"
    else:
        home = tmp_path.anchor + "sys/warehouse-home"  # sysfs refuses new folders, even to root
    monkeypatch.setenv("WAREHOUSE_HOME", str(home))
    monkeypatch.setenv("WAREHOUSE_SOURCES", "bundled")
    assert main(["refresh"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert err.startswith(f"error: WAREHOUSE_HOME {home} is not writable (")
    assert "set WAREHOUSE_HOME to a folder you can write" in err


def test_the_command_exits_with_its_code_and_all_its_output_when_piped(tmp_path):
    """The console script leaves without Python's module teardown (cli.leave): the exit code, and
    every line written to a pipe, still arrive; an exit handler still runs."""
    import os
    import subprocess
    import sys

    script = ("import atexit, sys; from orchestration import cli; "
              "atexit.register(lambda: print('exit handler ran', file=sys.stderr)); "
              "print('\\n'.join(f'line {i}' for i in range(20000))); "
              "sys.argv = ['warehouse', 'status']; cli.run()")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "WAREHOUSE_HOME": str(tmp_path / "home")})
    assert done.returncode == 1, done.stderr  # `status` with nothing published
    lines = done.stdout.splitlines()
    assert lines[19999] == "line 19999" and lines[20000].startswith("Nothing published yet under")
    assert done.stderr.strip().endswith("exit handler ran")
