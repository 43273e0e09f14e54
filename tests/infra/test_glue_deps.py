"""The Glue jobs' extra modules leave Glue's Python-shell 3.9 analytics set as it is.

The resolution itself needs PyPI and a Python 3.9 (`make glue-deps`, which writes
components/glue-resolved.txt; `make glue-test` then runs the Glue-path code on exactly those
versions). Offline, these tests hold the committed resolution to the pins and the constraints,
so a pin changed without re-running the check fails here.
"""

from __future__ import annotations

import json

from components.glue_deps import (
    CONSTRAINTS,
    REQUIREMENTS,
    RESOLVED,
    RESOLVED_METADATA,
    changes_to_preinstalled,
    metadata_conflicts,
    read_pins,
    resolved_versions,
)


def test_the_committed_resolution_holds_every_pin_at_its_version():
    resolved = read_pins(RESOLVED)
    for name, version in read_pins(REQUIREMENTS).items():
        assert resolved.get(name) == version, f"{name}: re-run `make glue-deps`"


def test_the_committed_resolution_changes_nothing_glue_preinstalls():
    preinstalled = read_pins(CONSTRAINTS)
    assert {"numpy", "pandas", "pyarrow", "scipy", "boto3", "botocore"} <= set(preinstalled)
    assert changes_to_preinstalled(read_pins(RESOLVED), preinstalled) == []


def test_the_pins_own_metadata_accepts_glues_python_and_libraries():
    packages = json.loads(RESOLVED_METADATA.read_text())
    assert {n: p["version"] for n, p in packages.items()} == read_pins(RESOLVED)
    # e.g. pyathena 2.17.0 needs boto3>=1.21.0, botocore>=1.24.7; exchange_calendars 4.2.8
    # needs pandas>=1.1: all met by the preinstalled 1.22.5, 1.25.5 and 1.4.2.
    assert metadata_conflicts(packages, read_pins(CONSTRAINTS)) == []


def test_metadata_that_needs_newer_glue_libraries_is_a_conflict():
    # exchange_calendars 4.5.6 and pyathena 3.20.0, the previous pins, as their metadata says.
    packages = {
        "exchange-calendars": {"version": "4.5.6", "requires_python": "~=3.9",
                               "requires_dist": ["numpy", "pandas>=1.5"]},
        "pyathena": {"version": "3.20.0", "requires_python": ">=3.9",
                     "requires_dist": ["boto3>=1.26.4", "botocore>=1.29.4",
                                       'pandas>=1.3.0; extra == "pandas"']},
        "tenacity": {"version": "9.1.2", "requires_python": ">=3.10", "requires_dist": []},
    }
    assert metadata_conflicts(packages, read_pins(CONSTRAINTS)) == [
        "exchange-calendars 4.5.6 needs pandas>=1.5, Glue has 1.4.2",
        "pyathena 3.20.0 needs boto3>=1.26.4, Glue has 1.22.5",
        "pyathena 3.20.0 needs botocore>=1.29.4, Glue has 1.25.5",
        "tenacity 9.1.2 requires Python >=3.10",
    ]


def test_an_upgrade_of_the_preinstalled_set_is_named():
    # What the previous pins (exchange_calendars 4.5.6, pyathena 3.20.0) made pip do.
    report = {"install": [
        {"metadata": {"name": "pandas", "version": "2.2.3"}},
        {"metadata": {"name": "numpy", "version": "2.0.2"}},
        {"metadata": {"name": "exchange_calendars", "version": "4.5.6"}},
        {"metadata": {"name": "boto3", "version": "1.40.0"}},
    ]}
    assert changes_to_preinstalled(resolved_versions(report), read_pins(CONSTRAINTS)) == [
        "boto3 1.22.5 -> 1.40.0", "numpy 1.22.3 -> 2.0.2", "pandas 1.4.2 -> 2.2.3"]


def test_glue_jobs_get_exactly_the_checked_pins(program):
    from components.packaging import glue_additional_modules

    assert glue_additional_modules() == "pyathena==2.17.0,exchange_calendars==4.2.8"
    jobs = program.of_type("aws:glue/job:Job")
    assert {j.inputs["defaultArguments"]["--additional-python-modules"] for j in jobs} == {
        glue_additional_modules()}
