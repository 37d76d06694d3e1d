"""The gates of one group run in one Dagster step: a table whose suite cannot run is reported as
errored under its own name, the other tables of the group are still validated and reported, and
the run publishes nothing."""

from __future__ import annotations

import json

from tests.conftest import sample_ofac_files, source_dir


def test_a_gate_that_raises_errors_its_table_and_the_rest_of_the_group_still_runs(
        dbt_manifest, refresh, warehouse_home, tmp_path, monkeypatch):
    import great_expectations  # noqa: F401 - imported here, the gates run in this process (gates/worker.py)

    import orchestration.gates.worker as worker

    worker.stop()  # a gate process an earlier refresh of this test process started

    sources = source_dir(tmp_path / "src", sample_ofac_files())  # every source's sample, in directory mode

    validate = worker.validate_table

    def broken_for_aliases(con, table, *args, **kwargs):
        if table == "raw.ofac_aliases":
            raise OSError("simulated: the table's pages could not be read")
        return validate(con, table, *args, **kwargs)

    monkeypatch.setattr(worker, "validate_table", broken_for_aliases)
    code, out, err = refresh(sources=sources)

    assert code == 1, out[-2000:] + err[-2000:]
    failure = err[err.index("REFRESH FAILED"):]
    assert "[ofac] raw.ofac_aliases: quality gate gx_suite failed" in failure, failure
    assert "the suite could not run: OSError: simulated: the table's pages could not be read" in failure, failure
    assert not (warehouse_home / "warehouse.duckdb").exists()  # nothing published
    last = json.loads((warehouse_home / "last_run.json").read_text())
    assert last["published"] is False
    gates = {g["table"]: g for g in last["gates"]}
    assert gates["raw.ofac_aliases"]["passed"] is False and gates["raw.ofac_aliases"]["counts"]["errored"] == 1
    # the rest of the group ran after the error, each validated in full
    for table in ("raw.ofac_sdn", "raw.ofac_addresses", "raw.jodi_crude_oil", "raw.federal_register_documents"):
        assert gates[table]["passed"] is True and gates[table]["counts"]["passed"] > 10, gates[table]
    assert gates["raw.ofac_sdn"]["row_count"] == 51
    assert "marts.dim_sanctioned_entity" not in gates  # dbt and the marts' gates were blocked
