# Everything runs from .venv, created on first use with only python3.11.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

LOW := .venv-lowest
# A fast subset at the lowest versions (planning with networkx, the sandbox's moto and botocore, pytest and
# xdist). Moto-heavy files run far slower at these versions (not yet understood), which pushed CI past 15 min.
LOWEST_TESTS := tests/test_graph_planner.py tests/test_sandbox_strict.py

.PHONY: demo test test-lowest lint clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "python3.11 not found (set PY=...)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

## demo: provision the GenAI Demo dev environment into a local moto sandbox, show it, tear it down
demo: $(STAMP)
	bash scripts/demo.sh

## test: run the whole test suite (slow end-to-end tests included)
test: $(STAMP)
	@$(BIN)/python -m pytest -n 2 -q; rc=$$?; if [ $$rc -eq 5 ]; then echo 'no tests collected: failing'; exit 1; fi; exit $$rc

## test-lowest: the lowest declared version of every direct dependency (pyproject.toml's floors), a fast subset
test-lowest:
	@command -v $(PY) >/dev/null 2>&1 || { echo "python3.11 not found (set PY=...)"; exit 1; }
	rm -rf $(LOW)
	$(PY) -m venv $(LOW)
	$(LOW)/bin/pip install -q --upgrade pip
	$(LOW)/bin/python scripts/lowest_constraints.py > $(LOW)/constraints.txt
	$(LOW)/bin/pip install -q -c $(LOW)/constraints.txt -e '.[dev]'
	$(LOW)/bin/pip list --format=freeze | grep -iE '^(boto3|botocore|networkx|click|rich|moto|pytest|pytest-xdist|ruff)=='
	@$(LOW)/bin/python -m pytest -n 2 -q -p no:cacheprovider $(LOWEST_TESTS); rc=$$?; \
		if [ $$rc -eq 5 ]; then echo 'no tests collected: failing'; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(LOW) .pytest_cache
