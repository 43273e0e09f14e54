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

.PHONY: help run test install install-dev chromium lint bench dashboard lock clean

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
install-dev: $(DEV_STAMP) ## the core plus infra, notebooks and test tools

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

bench: install-dev ## the benchmarks under benchmarks/
	$(PY) -m benchmarks

dashboard: install-dev ## build the Grafana dashboard JSON
	$(PY) -m grafana.build

# A fresh resolve of every extra in a throw-away venv, written as exact pins; the packaging
# test fails when pyproject.toml's dependencies change without this being rerun.
lock: ## rewrite constraints.txt from pyproject.toml (after changing a dependency)
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install -q --upgrade pip
	build/lock-venv/bin/python -m pip install -q '.[dev,infra,notebooks,completion]'
	build/lock-venv/bin/python -m pip freeze --exclude-editable | $(PYTHON) tools/constraints.py write pyproject.toml $(CONSTRAINTS)
	rm -rf build/lock-venv

clean: ## remove the venv, the local home and test output
	rm -rf $(VENV) .stockpipe .pytest_cache test-artifacts
