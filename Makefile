# Everything runs from .venv, created on first use with only python3.11.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# `make demo` needs only the tool and its sandbox (moto is a runtime dependency); `make test` adds the
# dev extras on top.
# The venv gets a current pip, not the 23.x that python3.11's ensurepip bundles: pip 23 spends 13 s of CPU
# resolving this project's dependencies (it parses every release of boto3/botocore on every index), a current
# one 4.6 s. ensurepip itself takes 6 s (it byte-compiles pip on one core), so where python3.11 has its own
# pip the venv is made without one and that pip installs the current one into it (2.5 s in all); otherwise
# ensurepip, then the upgrade. Measured on a fresh clone, pip's download cache warm.
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# pip byte-compiles every file it installs (moto alone is thousands) on one core, about half of a fresh
# install's time: install without it, then compile on every core. The compiled files are needed: where
# PYTHONDONTWRITEBYTECODE is set (this CI's machines) a run compiles nothing for the next, and each `infra`
# process would recompile its imports, 2 s more per command.
PIP := $(BIN)/pip install -q --disable-pip-version-check --no-compile
# Not compiled: what no run imports (sympy and mpmath come with cfn-lint, a dev extra; pip and setuptools).
# Were one imported, Python would compile it from source: slower, still correct. This repository's own
# modules too (the editable install runs them from here): from source, each `infra` process spent 0.3 s of
# its 0.8 s compiling them (`state list` 1.2 s -> 0.7 s, measured). A source edited later is seen by its
# newer time, and compiled in memory until the next install.
OWN := cli.py core resources orchestrator state plans sandbox bench tests
COMPILE = python -m compileall -q -j 0 -x '/(sympy|mpmath|pip|setuptools)/' $(1)/lib/python3.11/site-packages $(OWN) >/dev/null

LOW := .venv-lowest
# A fast subset that touches every direct dependency (boto3/botocore/moto through EC2, IAM, Lambda and
# the state table; networkx through planning; click through the CLI; pytest and xdist themselves). The
# "slow moto at these versions" that once cut it down was test_bad_input's unreachable endpoint, retried
# 25 times by botocore at every version (now 3). test_sandbox_kafka.py: the MSK topic API, the reason for
# botocore's floor (1.42.46). test_sandbox_server.py and test_runtime_deps.py: Flask and flask-cors (the
# sandbox server), and that the runtime set alone runs it.
LOWEST_TESTS := tests/test_state.py tests/test_bad_input.py tests/test_ec2_network.py tests/test_iam.py \
	tests/test_lambda.py tests/test_graph_planner.py tests/test_sandbox_strict.py tests/test_sandbox_kafka.py \
	tests/test_sandbox_server.py tests/test_runtime_deps.py

.PHONY: demo test test-lowest lint clean

# $(call VENV_WITH_PIP,dir): a venv at dir with a current pip.
VENV_WITH_PIP = { $(PY) -m venv --without-pip $(1) && $(PY) -m pip --python $(1)/bin/python install -q \
	--disable-pip-version-check --no-compile -U pip; } || { rm -rf $(1) && $(PY) -m venv $(1) && \
	$(1)/bin/python -m pip install -q --disable-pip-version-check --no-compile -U pip; }

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "python3.11 not found (set PY=...)"; exit 1; }
	@test -x $(BIN)/pip || $(call VENV_WITH_PIP,$(VENV))
	$(PIP) -e .
	$(BIN)/$(call COMPILE,$(VENV))
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(PIP) -e '.[dev]'
	$(BIN)/$(call COMPILE,$(VENV))
	@touch $(DEV_STAMP)

## demo: provision the GenAI Demo dev environment into a local moto sandbox, show it, tear it down
demo: $(STAMP)
	bash scripts/demo.sh

## test: run the whole test suite (slow end-to-end tests included)
test: $(DEV_STAMP)
	@$(BIN)/python -m pytest -n 2 --dist worksteal -q; rc=$$?; if [ $$rc -eq 5 ]; then echo 'no tests collected: failing'; exit 1; fi; exit $$rc

## test-lowest: the lowest declared version of every direct dependency (pyproject.toml's floors), a fast subset
test-lowest:
	@command -v $(PY) >/dev/null 2>&1 || { echo "python3.11 not found (set PY=...)"; exit 1; }
	rm -rf $(LOW)
	$(call VENV_WITH_PIP,$(LOW))
	$(LOW)/bin/python scripts/lowest_constraints.py > $(LOW)/constraints.txt
	$(LOW)/bin/pip install -q --disable-pip-version-check --no-compile -c $(LOW)/constraints.txt -e '.[dev]'
	$(LOW)/bin/$(call COMPILE,$(LOW))
	$(LOW)/bin/pip list --format=freeze | grep -iE '^(boto3|botocore|networkx|click|rich|moto|flask|flask-cors|pytest|pytest-xdist|ruff)=='
	@$(LOW)/bin/python -m pytest -n 2 -q -p no:cacheprovider $(LOWEST_TESTS); rc=$$?; \
		if [ $$rc -eq 5 ]; then echo 'no tests collected: failing'; exit 1; fi; exit $$rc

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(LOW) .pytest_cache
