"""constraints.txt pins every local and dev install, and a change to pyproject.toml's
dependencies that is not followed by `make lock` fails here."""

from __future__ import annotations

import importlib.util
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("constraints_tool",
                                                  REPO / "tools" / "constraints.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pyproject() -> str:
    return (REPO / "pyproject.toml").read_text()


@pytest.fixture(scope="module")
def constraints() -> str:
    return (REPO / "constraints.txt").read_text()


def test_constraints_fit_pyproject(tool, pyproject, constraints):
    assert tool.problems(constraints, pyproject) == []


def test_a_new_dependency_without_make_lock_is_caught(tool, pyproject, constraints):
    changed = pyproject.replace('  "requests>=2.32,<3",', '  "requests>=2.32,<3",\n  "rich>=13",')
    assert changed != pyproject
    assert tool.problems(constraints, changed) == [
        "pyproject.toml's dependencies changed since constraints.txt was written: run "
        "`make lock` and commit both",
        "rich (core) is not pinned in constraints.txt",
    ]


def test_a_pin_outside_the_declared_range_is_caught(tool, pyproject, constraints):
    old = re.sub(r"(?m)^duckdb==.*$", "duckdb==0.9.2", constraints)
    assert tool.problems(old, pyproject) == [
        "duckdb==0.9.2 in constraints.txt is outside <3,>=1.2 (core)"
    ]


def test_write_pins_a_freeze_without_the_project_or_url_installs(tool, pyproject):
    freeze = ("requests==2.32.5\nstockpipe==0.1.0\nDuckDB==1.4.0\n"
              "thing @ file:///tmp/thing\nAPScheduler==3.11.0\n")
    text = tool.write(freeze, pyproject)
    body = [ln for ln in text.splitlines() if not ln.startswith("#")]
    assert body == ["APScheduler==3.11.0", "DuckDB==1.4.0", "requests==2.32.5"]
    assert f"{tool.DIGEST_PREFIX}{tool.digest(pyproject)}" in text.splitlines()


def test_every_make_install_uses_the_constraints():
    makefile = (REPO / "Makefile").read_text()
    installs = [ln for ln in makefile.splitlines() if re.search(r"\$\(PIP\) install .*-e ", ln)]
    assert len(installs) == 3, installs  # the core, the dev and the notebooks (JupyterLab) install
    assert all("-c $(CONSTRAINTS)" in ln for ln in installs)


def test_this_environment_is_installed_at_the_pinned_versions(tool, constraints):
    """`make install-dev` installed what constraints.txt says (a stale venv fails here until
    its stamp is rebuilt)."""
    differ = {}
    for name, pinned in tool.pins(constraints).items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            continue
        if installed != pinned:
            differ[name] = (installed, pinned)
    assert differ == {}
