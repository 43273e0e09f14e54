"""Storage: the same list/read/write/delete_prefix/exists contract on a folder and on S3 (moto)."""

from __future__ import annotations

import errno
import os

import pytest

from runtime.errors import StorageError
from runtime.storage import LocalStorage, S3Storage, local_path, split_s3, storage_for


@pytest.fixture
def s3(s3_client):
    s3_client.create_bucket(Bucket="lake")
    return s3_client


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStorage(), str(tmp_path) + "/"
    client = request.getfixturevalue("s3")
    return S3Storage(client=client), "s3://lake/"


def test_write_read_list_exists_and_delete_prefix(store):
    storage, root = store
    storage.write(root + "curated/t/a=1/f1.parquet", b"one")
    storage.write(root + "curated/t/a=2/f2.parquet", b"two")
    storage.write(root + "curated/t2/f3.parquet", b"three")

    assert storage.read(root + "curated/t/a=2/f2.parquet") == b"two"
    assert storage.list(root + "curated/t/") == [
        root + "curated/t/a=1/f1.parquet",
        root + "curated/t/a=2/f2.parquet",
    ]
    assert storage.exists(root + "curated/t/") and storage.exists(root + "curated/t2/f3.parquet")
    assert storage.is_empty(root + "nothing/")

    assert storage.delete_prefix(root + "curated/t/") == 2

    assert storage.list(root + "curated/") == [root + "curated/t2/f3.parquet"]
    assert not storage.exists(root + "curated/t/")
    assert storage.delete_prefix(root + "curated/t/") == 0


def test_reading_a_missing_object_raises_storage_error(store):
    storage, root = store

    with pytest.raises(StorageError, match="cannot read"):
        storage.read(root + "missing/object")


class _PagedClient:
    """Just enough of an S3 client to list 2,500 keys in pages and record DeleteObjects calls."""

    def __init__(self, keys):
        self.keys = keys
        self.deleted_batches = []

    def get_paginator(self, name):
        keys = self.keys

        class _Pages:
            def paginate(self, Bucket, Prefix):
                for i in range(0, len(keys), 1000):
                    yield {"Contents": [{"Key": k} for k in keys[i : i + 1000]]}

        return _Pages()

    def delete_objects(self, Bucket, Delete):
        self.deleted_batches.append(len(Delete["Objects"]))
        return {}


def test_s3_delete_prefix_sends_at_most_1000_keys_per_call():
    client = _PagedClient([f"stage/part-{i:04d}" for i in range(2500)])

    assert S3Storage(client=client).delete_prefix("s3://lake/stage/") == 2500
    assert client.deleted_batches == [1000, 1000, 500]


def test_s3_delete_prefix_reports_keys_s3_refused(s3):
    class Refusing:
        def __getattr__(self, name):
            return getattr(s3, name)

        def delete_objects(self, **kwargs):
            return {"Errors": [{"Key": "stage/a", "Message": "Access Denied"}]}

    s3.put_object(Bucket="lake", Key="stage/a", Body=b"x")

    with pytest.raises(StorageError, match="stage/a: Access Denied"):
        S3Storage(client=Refusing()).delete_prefix("s3://lake/stage/")


def test_local_listing_hides_temp_files(tmp_path):
    (tmp_path / ".tmp-half-written-123").write_bytes(b"x")
    (tmp_path / "done").write_bytes(b"y")

    assert LocalStorage().list(str(tmp_path)) == [str(tmp_path / "done")]


def test_uri_helpers_and_storage_for():
    assert split_s3("s3://bucket/a/b") == ("bucket", "a/b")
    assert str(local_path("file:///tmp/x%20y")) == "/tmp/x y"
    assert isinstance(storage_for("/tmp/lake"), LocalStorage)
    with pytest.raises(StorageError, match="not an S3 URI"):
        split_s3("/tmp/x")
    with pytest.raises(StorageError, match="not a local path"):
        local_path("s3://bucket/x")


def test_local_delete_prefix_removes_files_and_keeps_folders_for_the_rebuild(tmp_path):
    # Folders are not objects (there are none on S3): a table rebuilt at the same location
    # writes into its existing partition folders instead of creating them again.
    storage = LocalStorage()
    root = str(tmp_path) + "/t/"
    storage.write(root + "p=1/a.parquet", b"1")
    storage.write(root + "p=2/b.parquet", b"2")

    assert storage.delete_prefix(root) == 2

    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["p=1", "p=2"]
    assert storage.list(root) == [] and storage.is_empty(root)
    assert not storage.exists(root)


def _disk_fills_after(monkeypatch, keep: int, code: int = errno.ENOSPC):
    """Writes stop after `keep` bytes, as on a full disk: the part is written, then the error."""
    from pathlib import Path

    def write_bytes(self, data):
        with open(self, "wb") as fh:
            fh.write(data[:keep])
        raise OSError(code, os.strerror(code), str(self))

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


def test_a_failed_write_on_a_full_disk_leaves_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "raw" / "2026" / "11" / "21" / "12" / "obj-1"
    _disk_fills_after(monkeypatch, keep=3)
    with pytest.raises(StorageError) as err:
        LocalStorage().write(str(target), b"0123456789")
    assert str(err.value) == (
        f"cannot write {target}: No space left on device; the file system holding it is full "
        "(or over quota): free space there and run again (nothing half-written was kept)"
    )
    assert sorted(p.name for p in target.parent.iterdir()) == []


def test_a_failed_write_keeps_the_previous_version_of_the_object(tmp_path, monkeypatch):
    target = tmp_path / "obj"
    LocalStorage().write(str(target), b"old")
    _disk_fills_after(monkeypatch, keep=1, code=errno.EDQUOT)
    with pytest.raises(StorageError, match=f"cannot write {target}: Disk quota exceeded; the "):
        LocalStorage().write(str(target), b"new!")
    assert [p.name for p in tmp_path.iterdir()] == ["obj"]
    assert target.read_bytes() == b"old"


def test_other_write_errors_name_the_path_without_the_full_disk_hint(tmp_path, monkeypatch):
    target = tmp_path / "obj"
    _disk_fills_after(monkeypatch, keep=0, code=errno.EACCES)
    with pytest.raises(StorageError) as err:
        LocalStorage().write(str(target), b"x")
    assert str(err.value) == f"cannot write {target}: Permission denied"
    assert list(tmp_path.iterdir()) == []


def test_copy_and_list_info_see_sizes_and_rewrites(store):
    storage, root = store
    storage.write(root + "curated/t/a=1/f1.parquet", b"one")
    storage.write(root + "curated/t/a=2/f2.parquet", b"three")
    if "://" not in root:  # written long ago, as a table's files are before a rewrite
        os.utime(local_path(root + "curated/t/a=1/f1.parquet"), ns=(10**9, 10**9))
    before = storage.list_info(root + "curated/t/")
    assert [(i.uri, i.size) for i in before] == [
        (root + "curated/t/a=1/f1.parquet", 3), (root + "curated/t/a=2/f2.parquet", 5)]
    assert all(i.tag for i in before)

    storage.copy(root + "curated/t/a=2/f2.parquet", root + "archive/p/a=2/f2.parquet")
    assert storage.read(root + "archive/p/a=2/f2.parquet") == b"three"
    assert [i.size for i in storage.list_info(root + "archive/p/")] == [5]

    # Rewritten with the same size: the tag tells.
    storage.write(root + "curated/t/a=1/f1.parquet", b"ONE")
    after = storage.list_info(root + "curated/t/")
    assert after[0].size == 3 and after[0].tag != before[0].tag
    assert after[1] == before[1]


def test_s3_copy_is_a_copy_object_inside_s3(s3):
    s3.put_object(Bucket="lake", Key="curated/t/a=1/f.parquet", Body=b"data")
    s3.create_bucket(Bucket="archive")
    calls = []

    class Recording:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(s3, name)

    S3Storage(client=Recording()).copy("s3://lake/curated/t/a=1/f.parquet",
                                       "s3://archive/p/a=1/f.parquet")
    assert calls == ["copy_object"]  # no byte passes through this process
    assert s3.get_object(Bucket="archive", Key="p/a=1/f.parquet")["Body"].read() == b"data"


def test_copying_a_missing_object_names_it(store):
    storage, root = store
    with pytest.raises(StorageError, match="missing.parquet"):
        storage.copy(root + "curated/missing.parquet", root + "archive/x.parquet")
    assert not storage.exists(root + "archive/")
