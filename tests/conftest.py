"""Fixtures shared across test folders: fake AWS credentials and a stubbable Athena connection."""

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
