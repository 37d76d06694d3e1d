# Iraq-Iran sanctions warehouse. `make run` builds it offline from the bundled sample; `make test` tests it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json

export WAREHOUSE_HOME ?= $(CURDIR)/data
export WAREHOUSE_SOURCES ?= bundled
export DAGSTER_HOME ?= $(CURDIR)/dagster_home
# No telemetry: these machines have no internet beyond package registries.
export GX_ANALYTICS_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

.PHONY: install manifest run refresh status rollback sql docs lint test bench dev clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# dbt's manifest is built here (and in test fixtures), never at import time.
manifest: $(MANIFEST)

$(MANIFEST): $(STAMP) $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir .
	touch $(MANIFEST)

run: $(MANIFEST)
	$(BIN)/warehouse refresh $(ONLY:%=--only %)

status: $(STAMP)
	$(BIN)/warehouse status

# an SQL prompt on the published file, read-only
sql: $(STAMP)
	$(BIN)/warehouse sql

# dbt docs of the published version (lineage, column descriptions), generated and served locally
docs: $(MANIFEST)
	$(BIN)/warehouse docs --serve

rollback: $(STAMP)
	$(BIN)/warehouse rollback $(RUN_ID)

# ruff over the Python (rules in pyproject.toml), sqlfluff over the dbt models with the dbt
# templater (rules in .sqlfluff); part of `make test`
lint: $(MANIFEST)
	$(BIN)/ruff check orchestration tests benchmarks
	$(BIN)/sqlfluff lint dbt_project/models --disable-progress-bar --nocolor

# the suite on every core (pytest-xdist; TEST_WORKERS=0 runs it in one process): each worker has its
# own session fixtures, and every test its own WAREHOUSE_HOME
TEST_WORKERS ?= auto
test: lint $(MANIFEST)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# what a refresh costs at 1x and 10x real size against bare DuckDB, the unchanged refresh, a 300-version
# backfill and the analyst queries (about 20 minutes; not part of `make test`); results in benchmarks/results/
bench: $(MANIFEST)
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

dev: $(MANIFEST)
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf dbt_project/target dbt_project/logs .pytest_cache
