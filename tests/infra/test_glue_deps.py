"""The Glue jobs' extra modules leave Glue's Python-shell 3.9 analytics set as it is.

The resolution itself needs PyPI and a Python 3.9 (`make glue-deps`, which writes
components/glue-resolved.txt; `make glue-test` then runs the Glue-path code on exactly those
versions). Offline, these tests hold the committed resolution to the pins and the constraints,
so a pin changed without re-running the check fails here.
"""

from __future__ import annotations

from components.glue_deps import (
    CONSTRAINTS,
    REQUIREMENTS,
    RESOLVED,
    changes_to_preinstalled,
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
