# records-custody — every target does its own set-up from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HOST PORT

.PHONY: run test bench lint typecheck install postgres browser clean demo docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/custody serve --host $(HOST) --port $(PORT)

postgres:
	@bash scripts/ensure-postgres.sh

test: $(STAMP) postgres browser
	$(BIN)/python -m pytest

browser:
	@bash scripts/install-browser.sh || echo "no chromium: the browser tests will be skipped"

bench: $(STAMP) postgres
	$(BIN)/python bench/append.py
	@for b in projections proofs log api http_load import access_log search scale; do \
	  if [ -f bench/$$b.py ]; then $(BIN)/python bench/$$b.py || exit 1; fi; done

demo: $(STAMP)
	$(BIN)/custody demo

lint: $(STAMP)
	$(BIN)/ruff check domain application infrastructure api tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

docs: $(STAMP)
	$(BIN)/python scripts/gen-api-docs.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache *.egg-info
