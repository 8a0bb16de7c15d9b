# Two commands on a fresh machine: `make run` (the product, demo mode) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(BIN)/python -m streamlit run app.py --server.port $(PORT)

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .

# scale_bench and load_bench print PASS/MISS per goal and exit non-zero on a miss: both run,
# then the target fails if either missed. Pages at 1M rows are page_bench's (scale_bench skips them).
bench: $(VENV)/.dev
	$(BIN)/python bench/store_bench.py
	$(BIN)/python bench/drift_bench.py
	$(BIN)/python bench/page_bench.py
	status=0; \
	$(BIN)/python bench/scale_bench.py --skip-pages || status=1; \
	$(BIN)/python bench/load_bench.py --clients 50 --browsers 5 || status=1; \
	exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
