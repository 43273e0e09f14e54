# stockpipe: `make run` sets up and runs the local pipeline; `make test` sets up and runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
CHROMIUM ?= /usr/bin/chromium
# Every install takes its versions from here (`make lock` rewrites it from pyproject.toml).
CONSTRAINTS := constraints.txt

help: ## list the targets
	@echo "make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  \1\t\2/' | expand -t 16

.PHONY: help run test install install-dev notebooks chromium lint bench dashboard lock clean glue-deps glue-test cloud-smoke mutate

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# The core install is all `make run` needs; the dev install adds infra, notebooks and test tools.
$(RUN_STAMP): pyproject.toml $(CONSTRAINTS) | $(VENV)/bin/python
	$(PIP) install -q -c $(CONSTRAINTS) -e .
	touch $@

$(DEV_STAMP): pyproject.toml $(CONSTRAINTS) | $(VENV)/bin/python
	$(PIP) install -q -c $(CONSTRAINTS) -e '.[dev,infra,notebooks]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@ $(RUN_STAMP)

# The Lambda package's wheels (linux, python3.12), downloaded once from PyPI by pip: the infra
# tests build the package offline from them.
WHEELHOUSE_STAMP := build/wheelhouse/.complete
$(WHEELHOUSE_STAMP): components/lambda-requirements.txt components/fetch_wheels.sh | $(VENV)/bin/python
	bash components/fetch_wheels.sh $(PY)
	touch $@

install: $(RUN_STAMP) ## the core install `make run` needs, into ./.venv
install-dev: $(DEV_STAMP) $(WHEELHOUSE_STAMP) ## the core plus infra, notebooks, test tools and the Lambda wheels

# JupyterLab at the repository root, on this venv's kernel. The notebooks read the home the CLI
# uses from here ($STOCKPIPE_HOME, else ./.stockpipe), whichever folder a kernel starts in;
# `make run` fills it first.
NOTEBOOKS_STAMP := $(VENV)/.installed-notebooks
$(NOTEBOOKS_STAMP): pyproject.toml $(CONSTRAINTS) | $(VENV)/bin/python
	$(PIP) install -q -c $(CONSTRAINTS) -e '.[notebooks,lab]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@ $(RUN_STAMP)

notebooks: $(NOTEBOOKS_STAMP) ## install JupyterLab and open it at the repository root
	$(VENV)/bin/jupyter lab --notebook-dir="$(CURDIR)"

# The report test opens report.html in Debian's headless Chromium.
chromium: ## Debian's headless Chromium, for the report's browser test
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "installing Debian's chromium for the browser test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

run: install ## set up, then `stockpipe run` (demo data without POLYGON_API_KEY)
	$(VENV)/bin/stockpipe run

test: install-dev $(WHEELHOUSE_STAMP) chromium ## what CI runs: ruff, then every test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n 2 --dist loadfile

lint: install-dev ## ruff over the whole tree
	$(VENV)/bin/ruff check .

# Every mutant of tests/mutation/mutants.toml must be killed by its tests (docs/testing.md).
# MUTATE_ARGS="-j 2" runs two at a time, MUTATE_ARGS="--match freshness" a subset.
mutate: install-dev ## every mutant of tests/mutation/mutants.toml must be killed
	$(PY) -m tests.mutation $(MUTATE_ARGS)

bench: install-dev ## the benchmarks under benchmarks/
	$(PY) -m benchmarks

dashboard: install-dev ## build the Grafana dashboard JSON
	$(PY) -m grafana.build

# The Glue jobs' extra modules against Glue's Python-shell 3.9 analytics library set. Both need
# PyPI (through pip) and a Python 3.9 (PY39=...), so they are not part of `make test`; the
# offline tests check that glue-resolved.txt, which glue-deps writes, matches the pins.
PY39 ?= $(shell for p in $$(command -v python3.9) $$HOME/.pyenv/versions/3.9*/bin/python; do \
  $$p -c 'import sys; assert sys.version_info[:2] == (3, 9)' 2>/dev/null && echo $$p && break; done)
GLUE_VENV := build/glue39
glue-deps: install-dev ## resolve the Glue job pins against Glue's Python 3.9 library set (needs PyPI)
	@test -n "$(PY39)" || { echo "set PY39=/path/to/python3.9"; exit 1; }
	$(PY) -m components.glue_deps $(PY39)

# The Glue-path code on exactly those versions (glue-constraints.txt + glue-resolved.txt).
glue-test: ## run the Glue-path code on exactly the pinned versions (Python 3.9)
	@test -n "$(PY39)" || { echo "set PY39=/path/to/python3.9"; exit 1; }
	test -x $(GLUE_VENV)/bin/python || $(PY39) -m venv $(GLUE_VENV)
	$(GLUE_VENV)/bin/python -m pip --disable-pip-version-check install -q --only-binary=:all: \
	  -r components/glue-constraints.txt -r components/glue-resolved.txt
	$(GLUE_VENV)/bin/python tests/glue/glue_env_check.py

# After `pulumi up` in a real account: invoke the ingest, run the workflow, check the result in
# Athena (docs/operations.md, "First run in a real account"). Reads `pulumi stack output`.
cloud-smoke: install-dev ## after `pulumi up`: ingest, workflow, check prod in Athena
	$(PY) -m runtime.smoke

# A fresh resolve of every extra in a throw-away venv, written as exact pins; the packaging
# test fails when pyproject.toml's dependencies change without this being rerun.
lock: ## rewrite constraints.txt from pyproject.toml (after changing a dependency)
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install -q --upgrade pip
	build/lock-venv/bin/python -m pip install -q '.[dev,infra,notebooks,lab,completion]'
	build/lock-venv/bin/python -m pip freeze --exclude-editable | $(PYTHON) tools/constraints.py write pyproject.toml $(CONSTRAINTS)
	rm -rf build/lock-venv

clean: ## remove the venv, the local home and test output
	rm -rf $(VENV) .stockpipe .pytest_cache test-artifacts
