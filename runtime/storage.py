"""One small storage interface over the lake: S3 through boto3, local paths through the filesystem.

Locations are URIs: `s3://bucket/prefix/key`, `file:///abs/path` or a plain path.
"""

from __future__ import annotations

import errno
import os
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple
from urllib.parse import unquote, urlparse

from .errors import StorageError


def split_s3(uri: str) -> Tuple[str, str]:
    """`s3://bucket/a/b` -> ('bucket', 'a/b')."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise StorageError(f"not an S3 URI: {uri!r} (expected s3://bucket/prefix)")
    return parsed.netloc, parsed.path.lstrip("/")


def local_path(uri: str) -> Path:
    """`file:///x/y` or `/x/y` -> Path('/x/y')."""
    if uri.startswith("file://"):
        return Path(unquote(urlparse(uri).path))
    if "://" in uri:
        raise StorageError(f"not a local path: {uri!r}")
    return Path(uri)


def write_error(path: Path, exc: OSError) -> str:
    """'cannot write <path>: <reason>', with what to do when the disk is full."""
    message = f"cannot write {path}: {exc.strerror or exc}"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        message += (
            "; the file system holding it is full (or over quota): free space there and run "
            "again (nothing half-written was kept)"
        )
    return message


@dataclass(frozen=True)
class ObjectInfo:
    """An object, its size in bytes and a tag that changes when it is rewritten (S3: the ETag;
    locally: the modification time in ns)."""

    uri: str
    size: int
    tag: str = ""


class Storage(ABC):
    """list, read, write, copy, delete prefix, exists: all the pipeline needs of a lake."""

    @abstractmethod
    def list(self, prefix: str) -> List[str]:
        """Every object URI under `prefix`, sorted."""

    @abstractmethod
    def read(self, uri: str) -> bytes: ...

    @abstractmethod
    def write(self, uri: str, data: bytes) -> None: ...

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix`; returns how many were deleted."""

    @abstractmethod
    def exists(self, uri: str) -> bool:
        """True if `uri` is an object, or a prefix with at least one object under it."""

    def is_empty(self, prefix: str) -> bool:
        return not self.list(prefix)

    def list_info(self, prefix: str) -> List[ObjectInfo]:
        """Every object under `prefix` with its size and tag, sorted by URI. This fallback reads
        each object; the real storages take both from the listing."""
        return [ObjectInfo(u, len(self.read(u))) for u in self.list(prefix)]

    def copy(self, src: str, dst: str) -> None:
        """Copy the object `src` to `dst` (replacing it). This fallback reads and writes; the
        real storages copy inside the store (S3: CopyObject, no bytes through this process)."""
        self.write(dst, self.read(src))

    def delete(self, uri: str) -> None:
        """Delete one object (`uri` exactly, never what it is a prefix of)."""
        raise NotImplementedError

    def move(self, src: str, dst: str) -> None:
        """Move one object (copy, then delete the source); `dst` is replaced. The quarantine
        moves raw objects with it. A process killed between the two leaves the object in both
        places, and the next move (or release) replaces the copy."""
        self.copy(src, dst)
        self.delete(src)

    def size(self, uri: str) -> Optional[int]:
        """Bytes of the object `uri` exactly, None when there is none."""
        found = [o.size for o in self.list_info(uri) if o.uri == uri]
        return found[0] if found else None

    def read_tail(self, uri: str, n: int) -> bytes:
        """The last `n` bytes of an object (all of it when shorter): a Parquet footer."""
        return self.read(uri)[-n:]


def _replace_atomically(path: Path, fill: Callable[[Path], object]) -> None:
    """Fill a temporary file beside `path`, then rename it over `path`: readers never see half a
    file. A half-written temporary file would stay for ever (list() hides it) and hold the
    space a full disk lacks, so it is removed before the error names the file."""
    tmp = path.with_name(f".tmp-{path.name}-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fill(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise StorageError(write_error(path, exc)) from exc


class LocalStorage(Storage):
    """The lake as a folder; writes are atomic (temp file + rename) so readers never see halves."""

    def list(self, prefix: str) -> List[str]:
        root = local_path(prefix)
        if root.is_file():
            return [str(root)]
        if not root.is_dir():
            return []
        out = []
        for dirpath, _dirs, files in os.walk(root):
            for f in files:
                if not f.startswith(".tmp-"):
                    out.append(str(Path(dirpath) / f))
        return sorted(out)

    def list_info(self, prefix: str) -> List[ObjectInfo]:
        out = []
        for uri in self.list(prefix):
            try:
                st = os.stat(uri)
            except OSError as exc:  # deleted since the listing: the caller sees it is gone
                raise StorageError(f"cannot stat {uri}: {exc.strerror}") from exc
            out.append(ObjectInfo(uri, st.st_size, str(st.st_mtime_ns)))
        return out

    def copy(self, src: str, dst: str) -> None:
        source, path = local_path(src), local_path(dst)
        try:
            # A real copy, never a hard link: an engine rewriting the source file in place would
            # change the copy too.
            _replace_atomically(path, lambda tmp: shutil.copyfile(source, tmp))
        except StorageError:
            if not source.is_file():
                raise StorageError(f"cannot copy {source}: it is not a file") from None
            raise

    def read(self, uri: str) -> bytes:
        path = local_path(uri)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror}") from exc

    def write(self, uri: str, data: bytes) -> None:
        _replace_atomically(local_path(uri), lambda tmp: tmp.write_bytes(data))

    def delete_prefix(self, prefix: str) -> int:
        root = local_path(prefix)
        if root.is_file():
            root.unlink()
            return 1
        if not root.is_dir():
            return 0
        # Objects only, as on S3: the folders stay. A table rebuilt at the same place (reset,
        # then transform) then writes into its existing partition folders, faster than creating
        # them again right after deleting them (docs/performance.md "Measurements behind code
        # choices").
        n = 0
        for dirpath, _dirs, files in os.walk(root):
            for f in files:
                os.unlink(os.path.join(dirpath, f))
                n += 1
        return n

    def exists(self, uri: str) -> bool:
        path = local_path(uri)
        return path.is_file() or (path.is_dir() and any(p.is_file() for p in path.rglob("*")))

    def delete(self, uri: str) -> None:
        path = local_path(uri)
        try:
            path.unlink()
        except OSError as exc:
            raise StorageError(f"cannot delete {path}: {exc.strerror}") from exc

    def move(self, src: str, dst: str) -> None:
        source, target = local_path(src), local_path(dst)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)  # one rename: never a copy in two places
        except OSError as exc:
            raise StorageError(f"cannot move {source} to {target}: {exc.strerror}") from exc

    def size(self, uri: str) -> Optional[int]:
        try:
            return local_path(uri).stat().st_size if local_path(uri).is_file() else None
        except OSError:
            return None


class S3Storage(Storage):
    """The lake on S3 (boto3; credentials from the usual chain)."""

    def __init__(self, client: Optional[object] = None, region: Optional[str] = None):
        if client is None:
            import boto3

            client = boto3.client("s3", region_name=region)
        self.s3 = client

    def _iter(self, prefix: str) -> Iterator[str]:
        bucket, key = split_s3(prefix)
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            for obj in page.get("Contents", []):
                yield f"s3://{bucket}/{obj['Key']}"

    def list(self, prefix: str) -> List[str]:
        return sorted(self._iter(prefix))

    def list_info(self, prefix: str) -> List[ObjectInfo]:
        bucket, key = split_s3(prefix)
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            for obj in page.get("Contents", []):
                out.append(ObjectInfo(f"s3://{bucket}/{obj['Key']}", int(obj.get("Size", 0)),
                                      str(obj.get("ETag", "")).strip('"')))
        return sorted(out, key=lambda o: o.uri)

    def copy(self, src: str, dst: str) -> None:
        # CopyObject copies inside S3 (up to 5 GB per object; Athena writes far smaller files):
        # the job's role needs s3:GetObject on the source and s3:PutObject on the target.
        src_bucket, src_key = split_s3(src)
        bucket, key = split_s3(dst)
        try:
            self.s3.copy_object(Bucket=bucket, Key=key,
                                CopySource={"Bucket": src_bucket, "Key": src_key})
        except Exception as exc:
            raise StorageError(f"cannot copy {src} to {dst}: {exc}") from exc

    def read(self, uri: str) -> bytes:
        bucket, key = split_s3(uri)
        try:
            return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:  # botocore ClientError and friends
            raise StorageError(f"cannot read {uri}: {exc}") from exc

    def write(self, uri: str, data: bytes) -> None:
        bucket, key = split_s3(uri)
        try:
            self.s3.put_object(Bucket=bucket, Key=key, Body=data)
        except Exception as exc:
            raise StorageError(f"cannot write {uri}: {exc}") from exc

    def delete_prefix(self, prefix: str) -> int:
        bucket, _ = split_s3(prefix)
        keys = [split_s3(u)[1] for u in self._iter(prefix)]
        for i in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            chunk = keys[i : i + 1000]
            resp = self.s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
            if resp.get("Errors"):
                first = resp["Errors"][0]
                raise StorageError(
                    f"could not delete {len(resp['Errors'])} objects under {prefix}, "
                    f"first {first.get('Key')}: {first.get('Message')}"
                )
        return len(keys)

    def exists(self, uri: str) -> bool:
        bucket, key = split_s3(uri)
        resp = self.s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
        return resp.get("KeyCount", 0) > 0

    def delete(self, uri: str) -> None:
        bucket, key = split_s3(uri)
        try:
            self.s3.delete_object(Bucket=bucket, Key=key)
        except Exception as exc:
            raise StorageError(f"cannot delete {uri}: {exc}") from exc

    def read_tail(self, uri: str, n: int) -> bytes:
        bucket, key = split_s3(uri)
        try:
            return self.s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=-{int(n)}")[
                "Body"].read()
        except Exception as exc:
            raise StorageError(f"cannot read {uri}: {exc}") from exc


def storage_for(uri: str, **kwargs: object) -> Storage:
    """The storage that serves `uri`."""
    return S3Storage(**kwargs) if uri.startswith("s3://") else LocalStorage()
