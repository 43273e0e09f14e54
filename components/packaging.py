"""Deterministic deployment artifacts (the Lambda zip, the Glue runtime wheel) and the component
that uploads the Glue ones to the artifacts bucket.

Same input -> same bytes -> same hash: entries sorted, fixed timestamps and permissions, so
`pulumi preview` shows no change to the Lambda or the Glue jobs unless the code changed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pulumi
import pulumi_aws as aws

from runtime.errors import PackagingError

REPO_ROOT = Path(__file__).resolve().parent.parent
RUNTIME_DIR = REPO_ROOT / "runtime"
DEFAULT_OUT_DIR = REPO_ROOT / "build" / "artifacts"
DEFAULT_WHEELHOUSE = REPO_ROOT / "build" / "wheelhouse"
LAMBDA_REQUIREMENTS = Path(__file__).with_name("lambda-requirements.txt")
GLUE_REQUIREMENTS = Path(__file__).with_name("glue-requirements.txt")
GLUE_ENTRY = RUNTIME_DIR / "jobs" / "glue_entry.py"
LAMBDA_ZIP_NAME = "stockpipe-lambda.zip"
WHEEL_DIST = "stockpipe_runtime"
INSTALL_HINT = (
    "run `components/fetch_wheels.sh` (part of `make install-dev`; it needs PyPI) to fill it"
)

# The earliest time a zip can store: any fixed value works, this one is conventional.
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644 << 16  # regular file, rw-r--r--
_RUNTIME_SUFFIXES = (".py", ".sql", ".json")
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def pinned_requirements(path: Path) -> List[Tuple[str, str]]:
    """`name==version` pins of a requirements file, in file order."""
    pins = []
    for line in path.read_text().splitlines():
        m = _PIN.match(line)
        if m:
            pins.append((m.group(1), m.group(2)))
    if not pins:
        raise PackagingError(f"{path} pins no packages; expected lines like `requests==2.32.5`")
    return pins


def glue_additional_modules() -> str:
    """The `--additional-python-modules` value for the Glue jobs, from glue-requirements.txt."""
    return ",".join(f"{n}=={v}" for n, v in pinned_requirements(GLUE_REQUIREMENTS))


def runtime_files(runtime_dir: Path = RUNTIME_DIR) -> Dict[str, bytes]:
    """runtime/ source and SQL as {archive name: bytes}, without caches or hidden files."""
    if not (runtime_dir / "__init__.py").is_file():
        raise PackagingError(f"{runtime_dir} is not the runtime package (no __init__.py)")
    out = {}
    for path in sorted(runtime_dir.rglob("*")):
        rel = path.relative_to(runtime_dir.parent)
        if not path.is_file() or path.suffix not in _RUNTIME_SUFFIXES:
            continue
        if any(p == "__pycache__" or p.startswith(".") for p in rel.parts):
            continue
        out[rel.as_posix()] = path.read_bytes()
    return out


def _wheel_path(wheelhouse: Path, name: str, version: str) -> Path:
    norm = re.sub(r"[-_.]+", "_", name).lower()
    matches = sorted(wheelhouse.glob(f"{norm}-{version}-*.whl")) if wheelhouse.is_dir() else []
    pure = [m for m in matches if m.name.endswith("-py3-none-any.whl")]
    if not pure:
        raise PackagingError(
            f"the Lambda package needs {name}=={version} as a py3-none-any wheel in "
            f"{wheelhouse}, which has none; {INSTALL_HINT}"
        )
    return pure[0]


def wheel_files(wheel: Path) -> Dict[str, bytes]:
    """A wheel unpacked as Lambda expects it (its top-level packages at the zip root)."""
    out = {}
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            name = info.filename
            # .data/ holds scripts and headers meant for an installer, not for import.
            if info.is_dir() or ".data/" in name or "__pycache__" in name:
                continue
            out[name] = zf.read(info)
    return out


def _write_zip(path: Path, entries: Dict[str, bytes]) -> str:
    """Write `entries` reproducibly to `path` (atomically) and return the sha256 hex digest."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for arcname in sorted(entries):
            info = zipfile.ZipInfo(arcname, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = _FILE_MODE
            info.create_system = 3  # unix, so the mode bits above are honoured
            zf.writestr(info, entries[arcname], compresslevel=9)
    data = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Tests may build in parallel processes: write beside the target, then rename over it.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


def build_lambda_zip(
    out_dir: Path = DEFAULT_OUT_DIR, wheelhouse: Path = DEFAULT_WHEELHOUSE
) -> Tuple[Path, str]:
    """Zip runtime/ plus requests and its dependencies from `wheelhouse`; return (path, sha256)."""
    entries = runtime_files()
    for name, version in pinned_requirements(LAMBDA_REQUIREMENTS):
        for arcname, data in wheel_files(_wheel_path(Path(wheelhouse), name, version)).items():
            if arcname in entries and entries[arcname] != data:
                raise PackagingError(f"{arcname} comes from two sources; the package is ambiguous")
            entries[arcname] = data
    path = Path(out_dir) / LAMBDA_ZIP_NAME
    return path, _write_zip(path, entries)


def project_version(pyproject: Path = REPO_ROOT / "pyproject.toml") -> str:
    m = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(), re.MULTILINE)
    if not m:
        raise PackagingError(f"no `version = \"...\"` line in {pyproject}")
    return m.group(1)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_runtime_wheel(out_dir: Path = DEFAULT_OUT_DIR) -> Tuple[Path, str]:
    """A py3-none-any wheel of runtime/ for Glue's `--extra-py-files`; return (path, sha256)."""
    version = project_version()
    entries = runtime_files()
    info_dir = f"{WHEEL_DIST}-{version}.dist-info"
    entries[f"{info_dir}/METADATA"] = (
        "Metadata-Version: 2.1\n"
        f"Name: {WHEEL_DIST.replace('_', '-')}\n"
        f"Version: {version}\n"
        "Summary: stockpipe runtime for the Glue Python-shell jobs\n"
        "Requires-Python: >=3.9\n"
    ).encode()
    entries[f"{info_dir}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: stockpipe components.packaging\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [f"{n},{_record_hash(d)},{len(d)}" for n, d in sorted(entries.items())]
    record.append(f"{info_dir}/RECORD,,")
    entries[f"{info_dir}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = Path(out_dir) / f"{WHEEL_DIST}-{version}-py3-none-any.whl"
    return path, _write_zip(path, entries)


def glue_entry_script() -> Path:
    """The script every Glue job runs (`--step` picks the step)."""
    if not GLUE_ENTRY.is_file():
        raise PackagingError(
            f"{GLUE_ENTRY.relative_to(REPO_ROOT)} is missing; the Glue jobs run it, so it must "
            "exist before `pulumi preview` (it belongs to the runtime package)"
        )
    return GLUE_ENTRY


def b64_sha256(path: Path) -> str:
    """Base64 SHA-256 of a file, the form Lambda's `source_code_hash` compares against."""
    return base64.b64encode(hashlib.sha256(Path(path).read_bytes()).digest()).decode()


@dataclass
class ArtifactsArgs:
    bucket: pulumi.Input[str]
    """Artifacts bucket name; the Glue script and wheel go under `glue/<hash>/`."""
    out_dir: Path = field(default_factory=lambda: DEFAULT_OUT_DIR)
    wheelhouse: Path = field(default_factory=lambda: DEFAULT_WHEELHOUSE)


class Artifacts(pulumi.ComponentResource):
    """Builds the Lambda zip and Glue wheel, uploads the Glue script and wheel."""

    lambda_archive: pulumi.Archive
    lambda_code_hash: str
    glue_script_uri: pulumi.Output[str]
    glue_wheel_uri: pulumi.Output[str]
    glue_additional_modules: str

    def __init__(
        self, name: str, args: ArtifactsArgs, opts: Optional[pulumi.ResourceOptions] = None
    ):
        super().__init__("stockpipe:packaging:Artifacts", name, None, opts)
        if args.bucket is None or args.bucket == "":
            raise ValueError("ArtifactsArgs.bucket must name the artifacts bucket")
        zip_path, _ = build_lambda_zip(args.out_dir, args.wheelhouse)
        wheel_path, wheel_sha = build_runtime_wheel(args.out_dir)
        script = glue_entry_script()
        script_sha = hashlib.sha256(script.read_bytes()).hexdigest()
        child = pulumi.ResourceOptions(parent=self)

        # The hash in the key makes a changed file a new object, so the jobs' arguments change
        # and Glue never runs a cached old copy.
        script_obj = aws.s3.BucketObjectv2(
            f"{name}-glue-script",
            bucket=args.bucket,
            key=f"glue/{script_sha[:16]}/{script.name}",
            source=pulumi.FileAsset(str(script)),
            content_type="text/x-python",
            opts=child,
        )
        wheel_obj = aws.s3.BucketObjectv2(
            f"{name}-glue-wheel",
            bucket=args.bucket,
            key=f"glue/{wheel_sha[:16]}/{wheel_path.name}",
            source=pulumi.FileAsset(str(wheel_path)),
            content_type="application/zip",
            opts=child,
        )
        self.lambda_archive = pulumi.FileArchive(str(zip_path))
        self.lambda_code_hash = b64_sha256(zip_path)
        self.glue_script_uri = pulumi.Output.concat("s3://", script_obj.bucket, "/", script_obj.key)
        self.glue_wheel_uri = pulumi.Output.concat("s3://", wheel_obj.bucket, "/", wheel_obj.key)
        self.glue_additional_modules = glue_additional_modules()
        self.register_outputs(
            {"glue_script_uri": self.glue_script_uri, "glue_wheel_uri": self.glue_wheel_uri}
        )
