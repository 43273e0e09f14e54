# stockpipe: `make run` sets up and runs the local pipeline; `make test` sets up and runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test install install-dev chromium lint bench dashboard clean glue-deps glue-test cloud-smoke

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# The core install is all `make run` needs; the dev install adds infra, notebooks and test tools.
$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e '.[dev,infra,notebooks]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@ $(RUN_STAMP)

# The Lambda package's wheels (linux, python3.12), downloaded once from PyPI by pip: the infra
# tests build the package offline from them.
WHEELHOUSE_STAMP := build/wheelhouse/.complete
$(WHEELHOUSE_STAMP): components/lambda-requirements.txt components/fetch_wheels.sh | $(VENV)/bin/python
	bash components/fetch_wheels.sh $(PY)
	touch $@

install: $(RUN_STAMP)
install-dev: $(DEV_STAMP)

# The report test opens report.html in Debian's headless Chromium.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "installing Debian's chromium for the browser test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

run: install
	$(VENV)/bin/stockpipe run

test: install-dev $(WHEELHOUSE_STAMP) chromium
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n 2 --dist loadfile

lint: install-dev
	$(VENV)/bin/ruff check .

bench: install-dev
	$(PY) -m benchmarks

dashboard: install-dev
	$(PY) -m grafana.build

# The Glue jobs' extra modules against Glue's Python-shell 3.9 analytics library set. Both need
# PyPI (through pip) and a Python 3.9 (PY39=...), so they are not part of `make test`; the
# offline tests check that glue-resolved.txt, which glue-deps writes, matches the pins.
PY39 ?= $(shell for p in $$(command -v python3.9) $$HOME/.pyenv/versions/3.9*/bin/python; do \
  $$p -c 'import sys; assert sys.version_info[:2] == (3, 9)' 2>/dev/null && echo $$p && break; done)
GLUE_VENV := build/glue39
glue-deps: install-dev
	@test -n "$(PY39)" || { echo "set PY39=/path/to/python3.9"; exit 1; }
	$(PY) -m components.glue_deps $(PY39)

# The Glue-path code on exactly those versions (glue-constraints.txt + glue-resolved.txt).
glue-test:
	@test -n "$(PY39)" || { echo "set PY39=/path/to/python3.9"; exit 1; }
	test -x $(GLUE_VENV)/bin/python || $(PY39) -m venv $(GLUE_VENV)
	$(GLUE_VENV)/bin/python -m pip --disable-pip-version-check install -q --only-binary=:all: \
	  -r components/glue-constraints.txt -r components/glue-resolved.txt
	$(GLUE_VENV)/bin/python tests/glue/glue_env_check.py

# After `pulumi up` in a real account: invoke the ingest, run the workflow, check the result in
# Athena (docs/operations.md, "First run in a real account"). Reads `pulumi stack output`.
cloud-smoke: install-dev
	$(PY) -m runtime.smoke

clean:
	rm -rf $(VENV) .stockpipe .pytest_cache test-artifacts
