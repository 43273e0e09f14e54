"""Engines and storage: one switch picks Athena (cloud) or DuckDB (local); everything else is
the same (docs/architecture.md, "Engines").

Imports stay lazy: the Glue path must not import duckdb/sqlglot, the local path must not need
pyathena.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..storage import Storage, storage_for
from .base import Engine, QueryResult

if TYPE_CHECKING:  # pragma: no cover
    from ..settings import Settings

__all__ = ["Engine", "QueryResult", "Storage", "make_engine", "make_storage"]


def make_engine(settings: Settings, read_only: bool = False) -> Engine:
    """AthenaEngine when a workgroup is configured, else the LocalEngine in the home folder
    (`read_only`: opened without writing its catalog file, for commands that only read)."""
    if settings.athena_workgroup:
        from .athena import AthenaEngine

        return AthenaEngine(
            database=settings.database,
            workgroup=settings.athena_workgroup,
            region=settings.aws_region,
        )
    from .local import LocalEngine

    return LocalEngine.from_settings(settings, read_only=read_only)


def make_storage(settings: Settings) -> Storage:
    """The storage serving the curated lake (S3 in the cloud, the filesystem locally)."""
    if settings.curated_uri.startswith("s3://"):
        return storage_for(settings.curated_uri, region=settings.aws_region)
    return storage_for(settings.curated_uri)
