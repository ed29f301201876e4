# Stockroom's commands. `make serve` and `make test` are the quick start; CI runs `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test lint typecheck unit integration e2e sdk format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

serve: $(VENV)/.installed
	$(BIN)/stockroom serve --host $(HOST) --port $(PORT)

test: lint typecheck
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev
	$(BIN)/pytest tests/unit

integration: $(VENV)/.installed-dev
	$(BIN)/pytest tests/integration

e2e: $(VENV)/.installed-dev
	$(BIN)/pytest tests/e2e tests/sdk

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache tests/sdk/node_modules

# Benchmarks, not part of `make test`: bench/results.md and bench/charts/, raw output in
# bench/out/. SCENARIOS=flash_sale,checkout picks some, QUICK=1 is small and short,
# BACKENDS=sqlite skips PostgreSQL, BULK_ITEMS=1000000 sizes bulk_create. Needs wrk and
# pgbench (apt-get install wrk).
BENCH_VARS := $(if $(SCENARIOS), SCENARIOS=$(SCENARIOS))$(if $(QUICK), QUICK=$(QUICK))$(if $(BACKENDS), BACKENDS=$(BACKENDS))$(if $(BULK_ITEMS), BULK_ITEMS=$(BULK_ITEMS))
bench: $(VENV)/.installed-bench
	@command -v wrk >/dev/null || { echo "bench needs wrk: apt-get install wrk"; exit 1; }
	@command -v pgbench >/dev/null || { echo "bench needs pgbench: apt-get install postgresql-client"; exit 1; }
	$(BIN)/python -m bench.run --command "make bench$(BENCH_VARS)" \
		$(if $(SCENARIOS),--scenarios $(SCENARIOS)) $(if $(QUICK),--quick) \
		$(if $(BACKENDS),--backends $(BACKENDS)) $(if $(BULK_ITEMS),--bulk-items $(BULK_ITEMS))
