# Two entry points for a fresh machine that has only python3: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck unit install bench clean test-epochs test-year-ahead test-year-back test-stress

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
	$(BIN)/lint-imports

typecheck: $(VENV)/.test
	$(BIN)/mypy

unit: $(VENV)/.test
	$(BIN)/pytest

# The test clock starts at NIGHTLY_BATCH_TEST_EPOCH (tests/fakes.py). Moved years back and years
# ahead, a test that lets the real clock meet data made on the fake one fails today.
PAST_EPOCH := 2019-11-28T23:00:00Z
FUTURE_EPOCH := 2033-11-28T23:00:00Z
## test-epochs: the suite with the test clock years in the past, then years in the future
# The systemd test (a booted Debian machine on its own real clock) runs once, in `make test`.
test-epochs: $(VENV)/.test
	NIGHTLY_BATCH_TEST_EPOCH=$(PAST_EPOCH) $(BIN)/pytest -p no:cacheprovider -m "not systemd"
	NIGHTLY_BATCH_TEST_EPOCH=$(FUTURE_EPOCH) $(BIN)/pytest -p no:cacheprovider -m "not systemd"

# The wall clock of pytest and every child shifted (Debian's libfaketime), for dates hard-coded
# in test data. The monotonic clock stays real: shifted, libfaketime 0.9.10 makes every timed
# thread wait never time out. Left real, it breaks time.sleep instead, which tests/conftest.py
# replaces with an Event wait in this run; tests that need a clock of their own drop the
# inherited settings (tests/daemon_process.py).
# The MT build: the plain one races between threads (see tests/daemon_process.py).
LIBFAKETIME = $(firstword $(wildcard /usr/lib/*/faketime/libfaketimeMT.so.1))
SHIFTED = LD_PRELOAD=$(LIBFAKETIME) FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_NO_CACHE=1
## test-year-ahead, test-year-back: the suite with the real clock a year ahead, a year back
test-year-ahead: $(VENV)/.test
	$(if $(LIBFAKETIME),,$(error Debian's faketime package is missing: apt-get install faketime))
	$(SHIFTED) FAKETIME=+365d $(BIN)/pytest -p no:cacheprovider -m "not systemd"
test-year-back: $(VENV)/.test
	$(if $(LIBFAKETIME),,$(error Debian's faketime package is missing: apt-get install faketime))
	$(SHIFTED) FAKETIME=-365d $(BIN)/pytest -p no:cacheprovider -m "not systemd"

## test-stress: the suite while two CPU-bound processes compete for the machine's cores
test-stress: $(VENV)/.test
	$(BIN)/python tests/stress.py $(BIN)/pytest -p no:cacheprovider

## bench: SPEC 10's speed and memory measurements (minutes; writes states to bench/out/)
bench: $(VENV)/.test
	$(BIN)/python bench/batch_speed.py
	$(BIN)/python bench/idle_daemon.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
