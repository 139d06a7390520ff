# Two commands matter: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= build/demo

.PHONY: demo test test-fast bench lint typecheck schema clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "leadscore needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(BIN)/leadscore init $(DEMO_DIR)
	cd $(DEMO_DIR) && ../../$(BIN)/leadscore generate --contacts 10000 --events 200000 --seed 7
	cd $(DEMO_DIR) && ../../$(BIN)/leadscore import contacts data/contacts.csv
	cd $(DEMO_DIR) && ../../$(BIN)/leadscore import events data/events.jsonl
	cd $(DEMO_DIR) && ../../$(BIN)/leadscore score
	cd $(DEMO_DIR) && ../../$(BIN)/leadscore leads --limit 10
	cd $(DEMO_DIR) && ../../$(BIN)/leadscore explain --top 2
	cd $(DEMO_DIR) && ../../$(BIN)/leadscore stats

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_score.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src

schema: $(STAMP)
	$(BIN)/leadscore schema > schema/model.schema.json

clean:
	rm -rf $(VENV) build .pytest_cache
