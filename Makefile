# mla-labs: `make lab-1` sets everything up and grades lab 1; `make test` runs the project's tests.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help setup test test-fast lint bench list clean-venv mutate
.DEFAULT_GOAL := help

help:
	@echo "make lab-N    grade lab N (first run: creates .venv, installs, copies the starter)"
	@echo "make list     the labs and your progress"
	@echo "make test     the project's own tests"
	@echo "make test-fast  the tests without the slow ones (installs, long batches)"
	@echo "make lint     ruff"
	@echo "make bench    grading speed and memory figures"
	@echo "make mutate   mutation testing of the simulator engines (MUTATE_ARGS=\"--engine iam --all\")"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "mla-labs needs $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

# The project's tests also prove the SageMaker SDK path of the Model Monitor labs: `make test` adds the
# `sdk` extra, which learners get only when they start a lab that asks for it (mlalab/extras.py).
SDK_STAMP := $(VENV)/.sdk-stamp
$(SDK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[sdk]'
	@touch $(SDK_STAMP)

# Failing checks are the learner's normal loop, not a crash: mlalab prints them and the score, and make
# exits 0 (passing mlalab's exit 1 on would add make's "*** [lab-1] Error 1" line under the report).
# A real error still fails: an unknown lab (2), grading that could not run (3). Scripts and CI that need
# the score in the exit status run `mlalab check N` (exit 0 only when every check passes) or `mlalab grade`.
lab-%: $(STAMP)
	@$(BIN)/mlalab check $* || [ $$? -eq 1 ]

lab-: $(STAMP)
	@echo "make lab-N grades lab N: give its number, e.g. make lab-1. The labs:"
	@$(BIN)/mlalab list
	@exit 2

list: $(STAMP)
	@$(BIN)/mlalab list

# Two workers: most of a grading is waiting on processes and sockets, so two share two cores well.
# loadgroup keeps each lab's contract batch (one grading session) on one worker.
test: $(STAMP) $(SDK_STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

test-fast: $(STAMP) $(SDK_STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/bench.py

mutate: $(STAMP)
	$(BIN)/python -m mlalab.dev.mutate $(MUTATE_ARGS)

clean-venv:
	rm -rf $(VENV)
