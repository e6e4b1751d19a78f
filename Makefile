PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# make serve PORT=8001 DATA=path/to/store (HOST too). Set on the command line
# only: `:=` keeps a PORT or HOST that happens to be in the environment out.
HOST := 127.0.0.1
PORT := 8000
DATA := $(or $(EVALQL_DATA),evalql-data)

.PHONY: serve test lint schema bench clean chromium screenshots

# The browser tests (tests/browser) drive Debian's Chromium at this path. As
# root with apt-get, `make test` installs it when missing; anywhere else (or
# when the install fails) those tests skip with one line and make test goes on.
CHROMIUM := /usr/bin/chromium

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
	$(BIN)/evalql demo --if-empty --data "$(DATA)"
	$(BIN)/evalql serve --host "$(HOST)" --port "$(PORT)" --data "$(DATA)"

test: $(TEST_STAMP) chromium
	$(BIN)/python -m pytest

chromium:
	@if [ ! -x "$(CHROMIUM)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium for the browser tests (apt-get)"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
		echo "could not install chromium: the browser tests will be skipped"; \
	fi

# Regenerates the README's dashboard screenshots, docs/dashboard-*.png.
screenshots: $(TEST_STAMP) chromium
	EVALQL_SCREENSHOTS=docs $(BIN)/python -m pytest tests/browser

lint: $(TEST_STAMP)
	$(BIN)/ruff check api engine storage tests bench

schema: $(STAMP)
	$(BIN)/python -m evalql.api.schema > schema.graphql

bench: $(TEST_STAMP)
	$(BIN)/python bench/metrics_page.py

# The venv and caches only: a store (evalql-data or DATA) holds user models and
# is never deleted here; the demo store is rebuilt with `evalql demo`.
clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache build *.egg-info
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
