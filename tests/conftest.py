"""Fixtures shared across test folders: fake AWS credentials, a moto S3 client and a stubbable
Athena connection;
and the Trino conformance summary line at the end of a run."""

from __future__ import annotations

import pytest


@pytest.fixture
def aws_env(monkeypatch):
    """Credentials that only moto and botocore stubs accept: no test reaches AWS."""
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def s3_client(aws_env):
    """An S3 client on moto's in-memory S3, with no bucket yet."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def athena_connection(aws_env):
    """`athena_connection(work_group, s3_staging_dir)` -> a pyathena connection for Stubber."""
    from pyathena import connect

    opened = []

    def make(work_group: str, s3_staging_dir: str):
        conn = connect(
            region_name="us-east-1",
            schema_name="stock_aggregates",
            work_group=work_group,
            s3_staging_dir=s3_staging_dir,
            poll_interval=0.001,
        )
        opened.append(conn)
        return conn

    yield make
    for conn in opened:
        conn.close()


# The Trino conformance summary (tests/conformance): passed / refused / mismatched, printed at
# the end of the run. Here, not in tests/conformance/conftest.py, because under pytest-xdist
# only the controller prints and it loads this file, not the conftest files of test folders.
TRINO_SUMMARY = "trino_conformance_summary"


def pytest_configure(config):
    config._trino_conformance = {}  # case id -> "pass" | "refused" | "mismatch: ..."


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    summary = getattr(node, "workeroutput", {}).get(TRINO_SUMMARY)
    if summary:
        node.config._trino_conformance.update(summary)


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput[TRINO_SUMMARY] = dict(session.config._trino_conformance)


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
