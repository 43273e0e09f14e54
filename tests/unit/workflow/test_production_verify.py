"""verify_production on S3 (moto) with an engine that registers partitions, as Athena and Glue
do: a registered partition whose files are gone, a copy without a manifest, a damaged file."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from runtime.errors import EngineError
from runtime.production import MANIFEST_NAME, record_manifest, verify_production
from runtime.settings import Settings
from runtime.storage import S3Storage

TABLE = "stock_aggregate_prod_20261121_120000"


class CatalogWithPartitions:
    """What verify_production asks of an engine: tables, the view's SQL, SHOW PARTITIONS."""

    def __init__(self, location: str, partitions):
        self.location, self.partitions = location, partitions

    def table_exists(self, name):
        return name in ("stock_aggregate_prod_latest", TABLE)

    def describe_table(self, name):
        if name == "stock_aggregate_prod_latest":
            return SimpleNamespace(properties={"sql": f"SELECT * FROM {TABLE}"}, location=None)
        return SimpleNamespace(properties={}, location=(
            self.location if name == TABLE else f"s3://archive/{name}/"))

    def execute(self, sql):
        if sql != f"SHOW PARTITIONS {TABLE}":
            raise EngineError(f"unexpected {sql}")
        return SimpleNamespace(rows=[(p,) for p in self.partitions])


def _parquet(rows: int) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.table({"ticker": ["AAPL"] * rows}), out)
    return out.getvalue()


@pytest.fixture
def s3_copy(s3_client):
    s3_client.create_bucket(Bucket="archive")
    storage = S3Storage(client=s3_client)
    location = f"s3://archive/{TABLE}/"
    for day, rows in (("2026-11-19", 3), ("2026-11-20", 5)):
        storage.write(f"{location}day_partition={day}/part-0", _parquet(rows))
    settings = Settings(archive_uri_override="s3://archive/")
    engine = CatalogWithPartitions(
        location, ["day_partition=2026-11-19", "day_partition=2026-11-20"])
    return settings, engine, storage, location


def _publish_record(settings, storage, location, rows=8):
    """The manifest as publish writes it: the files it copied, with their sizes."""
    files = [(o.uri[len(location):], o.size, "") for o in storage.list_info(location)]
    return record_manifest(settings, storage, TABLE, rows, files)


def test_a_complete_copy_on_s3_is_readable(s3_copy):
    settings, engine, storage, location = s3_copy
    manifest = _publish_record(settings, storage, location)
    assert (manifest["rows"], sorted(manifest["files"])) == (
        8, ["day_partition=2026-11-19/part-0", "day_partition=2026-11-20/part-0"])
    check = verify_production(settings, engine, storage)
    assert (check.table, check.rows, check.files, check.manifest, check.problems) == (
        TABLE, 8, 2, True, [])


def test_a_registered_partition_whose_files_are_gone_is_named(s3_copy):
    settings, engine, storage, location = s3_copy
    _publish_record(settings, storage, location)
    storage.delete(f"{location}day_partition=2026-11-20/part-0")
    check = verify_production(settings, engine, storage)
    assert check.problems == [
        f"1 file(s) of {TABLE} are gone from {location}: day_partition=2026-11-20/part-0",
        f"1 partition(s) of {TABLE} registered without files: day_partition=2026-11-20",
    ]
    assert check.rows == 3


def test_without_a_manifest_every_file_is_still_read(s3_copy):
    settings, engine, storage, location = s3_copy
    assert storage.size(location + MANIFEST_NAME) is None
    storage.write(f"{location}day_partition=2026-11-19/part-0", b"PAR1 cut short")
    check = verify_production(settings, engine, storage)
    assert check.manifest is False
    assert check.problems == [
        f"1 file(s) of {TABLE} cannot be read: day_partition=2026-11-19/part-0 "
        f"(ValueError: {location}day_partition=2026-11-19/part-0 does not end in a Parquet "
        "footer)"]
    assert check.rows == 5


def test_files_whose_rows_no_longer_add_up_to_the_published_rows_are_named(s3_copy):
    settings, engine, storage, location = s3_copy
    _publish_record(settings, storage, location)
    # Rewritten in place with other content of the same size would keep every size; here
    # the recorded count is what differs (a copy published from a table that lost rows).
    manifest = storage.read(location + MANIFEST_NAME).replace(b'"rows": 8,', b'"rows": 9,')
    storage.write(location + MANIFEST_NAME, manifest)
    assert verify_production(settings, engine, storage).problems == [
        f"the files of {TABLE} hold 8 rows, 9 when published"]


def test_a_split_companion_that_lost_a_file_is_named(s3_copy):
    settings, engine, storage, location = s3_copy
    companion = f"s3://archive/{TABLE}_splits/"
    storage.write(companion + "2026/11/20/16/splits-1", b'{"ticker": "AAPL"}\n')
    engine.table_exists = lambda name: name in (
        "stock_aggregate_prod_latest", TABLE, TABLE + "_splits")
    files = [(o.uri[len(location):], o.size, "") for o in storage.list_info(location)]
    record_manifest(settings, storage, TABLE, 8, files, [("2026/11/20/16/splits-1", 19, "")])
    assert verify_production(settings, engine, storage).problems == []
    storage.delete(companion + "2026/11/20/16/splits-1")
    assert verify_production(settings, engine, storage).problems == [
        f"1 file(s) of {TABLE}_splits are gone from {companion}: 2026/11/20/16/splits-1"]


def test_a_file_rewritten_after_publish_is_named_with_both_sizes(s3_copy):
    settings, engine, storage, location = s3_copy
    _publish_record(settings, storage, location)
    name = "day_partition=2026-11-19/part-0"
    before = storage.size(location + name)
    storage.write(location + name, _parquet(40))
    after = storage.size(location + name)
    assert after != before
    assert verify_production(settings, engine, storage).problems == [
        f"1 file(s) of {TABLE} changed since publish: {name} ({after} bytes, {before} when "
        "published)",
        f"the files of {TABLE} hold 45 rows, 8 when published",
    ]


class AthenaLikeCatalog(CatalogWithPartitions):
    """Athena shows no view's SQL (no describe_table): only the lineage names the copy."""

    describe_table = None


def test_without_the_view_sql_the_published_table_comes_from_the_lineage(s3_copy, monkeypatch):
    from runtime import production, steps
    from runtime.steps import lineage

    settings, engine, storage, location = s3_copy
    _publish_record(settings, storage, location)
    athena = AthenaLikeCatalog(location, engine.partitions)
    # runtime.production alone cannot tell which table the view reads ...
    assert production.verify_production(settings, athena, storage).table is None
    # ... the steps' check asks the lineage table, which records every publish.
    monkeypatch.setattr(lineage, "read_state",
                        lambda s, e, st: SimpleNamespace(published_table=TABLE))
    check = steps.verify_production(settings, athena, storage)
    assert (check.table, check.problems, check.rows) == (TABLE, [], 8)
