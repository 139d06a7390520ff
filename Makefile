# Two commands matter: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= build/demo

.PHONY: demo test test-fast bench bench-api bench-scale bench-web bench-baselines bench-suggest \
	lint typecheck schema clean browser

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "leadscore needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

LS := ../../$(BIN)/leadscore

PORT := ../../$(BIN)/python ../../scripts/demo_port.py

demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(BIN)/leadscore init $(DEMO_DIR)
	cd $(DEMO_DIR) && $(LS) generate --contacts 10000 --events 200000 --seed 7
	cd $(DEMO_DIR) && $(LS) import contacts data/contacts.csv
	cd $(DEMO_DIR) && $(LS) import contacts data/feedback.csv
	cd $(DEMO_DIR) && $(LS) import companies data/companies.csv
	cd $(DEMO_DIR) && $(LS) import events data/events.jsonl
	cd $(DEMO_DIR) && $(LS) score
	cd $(DEMO_DIR) && $(LS) leads --limit 10
	cd $(DEMO_DIR) && $(LS) explain --top 2
	cd $(DEMO_DIR) && $(LS) companies --limit 5
	@echo "--- lists and workflows act (notifications go to a local receiver) ---"
	cd $(DEMO_DIR) && port=$$($(PORT) pick) && { $(LS) receive --port $$port --show 2 & \
	  pid=$$!; $(PORT) wait $$port; $(LS) process; kill $$pid; wait $$pid; }
	cd $(DEMO_DIR) && $(LS) list show
	cd $(DEMO_DIR) && $(LS) tasks --limit 5
	@echo "--- sales says the top SQL is not ready yet: back to MQL until it earns the points ---"
	cd $(DEMO_DIR) && lead=$$($(LS) leads --label SQL --limit 1 --format csv | tail -1 | \
	  cut -d, -f2) && $(LS) feedback $$lead not_ready && $(LS) log $$lead
	cd $(DEMO_DIR) && $(LS) stats
	@$(BIN)/python scripts/demo_web.py $(DEMO_DIR)

# Debian's Chromium for the web app's browser tests (tests/web/test_browser.py), installed when
# absent and this is root with apt-get; otherwise those tests skip, saying why (not under CI)
browser:
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
	  ! command -v apt-get >/dev/null 2>&1 || { echo "installing chromium (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	  >/dev/null; } || echo "could not install chromium: the browser tests will skip"

# the suite on every core (at most 4): each worker its own process, databases and Spark
test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4

test-fast: $(STAMP) browser
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_score.py
	$(BIN)/python benchmarks/bench_backtest.py
	$(BIN)/python benchmarks/bench_automation.py
	$(BIN)/python benchmarks/bench_api.py

# the HTTP API beside a bare FastAPI + SQLite insert endpoint, on SQLite and PostgreSQL
# (ARGS="--store sqlite --seconds 5" for a shorter run)
bench-api: $(STAMP)
	$(BIN)/python benchmarks/bench_api.py $(ARGS)

# leadscore at 1,000,000 contacts / 10,000,000 events beside a hand-written DuckDB query
# (ARGS="--contacts 200000 --events 2000000 --skip-record" for a shorter run)
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/bench_scale.py $(ARGS)

# the web app's first Leads page at 1,000,000 contacts beside the API's page and the store's
# query (ARGS="--contacts 20000" for a shorter run)
bench-web: $(STAMP)
	$(BIN)/python benchmarks/bench_web.py $(ARGS)

# the suggested scorecard beside tuned logistic regression and gradient boosting on the shared
# datasets (../shared/data), a random and a time split each: the README's table
bench-baselines: $(STAMP)
	$(BIN)/python benchmarks/bench_baselines.py

# `leadscore suggest` on 100,000 synthetic contacts (2,000,000 events) beside a hand-written
# DuckDB query + scikit-learn fit of the same kind of matrix (ARGS="--before COMMIT" also runs
# an earlier commit's suggest on the same store; ARGS="--contacts 20000 --events 400000")
bench-suggest: $(STAMP)
	$(BIN)/python benchmarks/bench_suggest.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src

schema: $(STAMP)
	$(BIN)/leadscore schema > schema/model.schema.json
	$(BIN)/python -m leadscore.api.app > schema/openapi.json

clean:
	rm -rf $(VENV) build .pytest_cache
