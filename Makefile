# mla-labs: `make lab-1` sets everything up and grades lab 1; `make test` runs the project's tests.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help setup test lint bench list clean-venv
.DEFAULT_GOAL := help

help:
	@echo "make lab-N    grade lab N (first run: creates .venv, installs, copies the starter)"
	@echo "make list     the labs and your progress"
	@echo "make test     the project's own tests"
	@echo "make lint     ruff"
	@echo "make bench    grading speed and memory figures"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "mla-labs needs $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

lab-%: $(STAMP)
	@$(BIN)/mlalab check $*

list: $(STAMP)
	@$(BIN)/mlalab list

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/bench.py

clean-venv:
	rm -rf $(VENV)
