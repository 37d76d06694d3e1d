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
