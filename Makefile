PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: serve test lint schema bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

serve: $(STAMP)
	$(BIN)/evalql demo --if-empty
	$(BIN)/evalql serve

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check api engine storage tests bench

schema: $(STAMP)
	$(BIN)/python -m evalql.api.schema > schema.graphql

bench: $(TEST_STAMP)
	$(BIN)/python bench/metrics_page.py

clean:
	rm -rf $(VENV) evalql-data .pytest_cache
