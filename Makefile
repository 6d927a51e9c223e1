# The README's two commands: `make demo` (set up and run the demo) and `make test` (set up and run every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: setup demo serve test lint bench screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU build first: otherwise pip pulls a CUDA build of several GB for sentence-transformers.
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The tests also run the LLM engine against llama.cpp's server (a source build of a few minutes, once).
$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev,llama]"
	touch $(TEST_STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/omnicopilot demo

serve: setup
	$(BIN)/omnicopilot serve

# The storage tests once more on PostgreSQL + a `chroma run` server (as deployed), not only SQLite + embedded.
STORAGE_TESTS := tests/ingest tests/interactions tests/customers tests/context tests/suggestions tests/knowledge \
	tests/review tests/audit

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q
	OMNICOPILOT_TEST_CHROMA_SERVER=1 $(BIN)/pytest -q -k postgres $(STORAGE_TESTS)

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python benchmarks/ingest_rate.py

# Opt-in: the demo's customers in the sidebar and the console, into docs/screenshots/ (tests never write there).
screenshots: setup
	$(BIN)/python benchmarks/screenshots.py
