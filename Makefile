# Two entry points for a fresh machine that has only python3: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck unit install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# The test tools type-check bench/ too, so they include its baseline library.
$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(VENV)/.runtime $@

install: $(VENV)/.runtime

## run: install, then start nightly-batch with config/orchestrator_config.json
run: $(VENV)/.runtime
	$(BIN)/nightly-batch run

## test: install with the test tools, then lint, type-check and run the whole suite
test: lint typecheck unit

lint: $(VENV)/.test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.test
	$(BIN)/mypy

unit: $(VENV)/.test
	$(BIN)/pytest

## bench: SPEC 10's speed and memory measurements (minutes; writes states to bench/out/)
bench: $(VENV)/.test
	$(BIN)/python bench/batch_speed.py
	$(BIN)/python bench/idle_daemon.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
