# The README's two commands: `make demo` (set up and run the demo) and `make test` (set up and run every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo serve test lint bench screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU build first: otherwise pip pulls a CUDA build of several GB for sentence-transformers.
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/omnicopilot demo

serve: setup
	$(BIN)/omnicopilot serve

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python benchmarks/ingest_rate.py

# Opt-in: the demo's customers in the sidebar and the console, into docs/screenshots/ (tests never write there).
screenshots: setup
	$(BIN)/python benchmarks/screenshots.py
