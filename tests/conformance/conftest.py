"""Prints the conformance summary (passed / refused / mismatched) at the end of the test run,
also under pytest-xdist, where the cases run in a worker process."""

from __future__ import annotations

import pytest

SUMMARY = "trino_conformance_summary"


def pytest_configure(config):
    config._trino_conformance = {}  # case id -> "pass" | "refused" | "mismatch: ..."


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    summary = getattr(node, "workeroutput", {}).get(SUMMARY)
    if summary:
        node.config._trino_conformance.update(summary)


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput[SUMMARY] = dict(session.config._trino_conformance)


def pytest_terminal_summary(terminalreporter, config):
    outcomes = getattr(config, "_trino_conformance", {})
    if not outcomes:
        return
    total = len(outcomes)
    passed = sum(1 for v in outcomes.values() if v == "pass")
    refused = sum(1 for v in outcomes.values() if v == "refused")
    terminalreporter.write_line(
        f"Trino conformance: {total} ported cases, {passed} pass ({100.0 * passed / total:.1f}%), "
        f"{refused} refused as differing from Athena, {total - passed - refused} mismatched"
    )
