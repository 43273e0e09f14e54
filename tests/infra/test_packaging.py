"""The Lambda zip and Glue wheel: reproducible, complete, importable."""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from components import packaging
from runtime.errors import PackagingError

LOCAL_ONLY = ("duckdb", "sqlglot", "pandas", "plotly", "pyarrow", "exchange_calendars")


@pytest.fixture(scope="module")
def wheelhouse() -> Path:
    path = packaging.DEFAULT_WHEELHOUSE
    # Not a skip: without the wheelhouse the stack cannot be previewed either.
    assert sorted(path.glob("*.whl")), (
        f"{path} has no wheels: run `components/fetch_wheels.sh` (the install step) first"
    )
    return path


@pytest.fixture(scope="module")
def lambda_zip(tmp_path_factory, wheelhouse):
    return packaging.build_lambda_zip(tmp_path_factory.mktemp("lambda"), wheelhouse)


def test_lambda_zip_builds_twice_with_the_same_hash(tmp_path, wheelhouse, lambda_zip):
    first_path, first = lambda_zip
    second_path, second = packaging.build_lambda_zip(tmp_path, wheelhouse)
    assert first == second
    assert first_path.read_bytes() == second_path.read_bytes()
    assert hashlib.sha256(second_path.read_bytes()).hexdigest() == second


def test_lambda_zip_entries_are_sorted_with_fixed_time_and_mode(lambda_zip):
    with zipfile.ZipFile(lambda_zip[0]) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_lambda_zip_holds_runtime_and_requests_with_its_dependencies(lambda_zip):
    with zipfile.ZipFile(lambda_zip[0]) as zf:
        names = set(zf.namelist())
    for required in ("runtime/__init__.py", "runtime/handler.py", "runtime/settings.py",
                     "requests/__init__.py", "urllib3/__init__.py", "idna/__init__.py",
                     "certifi/cacert.pem", "charset_normalizer/__init__.py"):
        assert required in names, required
    assert any(n.startswith("runtime/sql/") and n.endswith(".sql") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert not any(n.split("/")[0] in ("tests", "boto3", "botocore") for n in names)
    assert not any(n.split("/")[0] in LOCAL_ONLY for n in names)


def _runtime_stub_dir(tmp_path: Path) -> Path:
    """boto3 and its own dependencies, as the Lambda runtime provides them (not urllib3)."""
    stub = tmp_path / "lambda-runtime"
    stub.mkdir()
    for module in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six"):
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin, module
        origin = Path(spec.origin)
        src = origin.parent if origin.name == "__init__.py" else origin
        os.symlink(src, stub / src.name)
    return stub


def test_handler_imports_from_the_unzipped_package_alone(tmp_path, lambda_zip):
    task = tmp_path / "task"
    with zipfile.ZipFile(lambda_zip[0]) as zf:
        zf.extractall(task)
    stub = _runtime_stub_dir(tmp_path)
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(task)!r}, {str(stub)!r}]\n"
        "import runtime.handler, requests, urllib3\n"
        "assert callable(runtime.handler.lambda_handler)\n"
        f"assert requests.__file__.startswith({str(task)!r}), requests.__file__\n"
        f"assert urllib3.__file__.startswith({str(task)!r}), urllib3.__file__\n"
        f"heavy = [m for m in {LOCAL_ONLY!r} if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "print('ok')\n"
    )
    # -I: no user site, no PYTHONPATH; -S: not even the venv's site-packages.
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_missing_wheelhouse_fails_with_the_install_command(tmp_path):
    with pytest.raises(PackagingError, match=r"requests==.*fetch_wheels\.sh"):
        packaging.build_lambda_zip(tmp_path / "out", tmp_path / "no-wheelhouse")


def test_missing_single_wheel_is_named(tmp_path, wheelhouse):
    partial = tmp_path / "wheelhouse"
    partial.mkdir()
    for wheel in wheelhouse.glob("*.whl"):
        if not wheel.name.startswith("idna-"):
            os.symlink(wheel, partial / wheel.name)
    with pytest.raises(PackagingError, match=r"idna==3\.20"):
        packaging.build_lambda_zip(tmp_path / "out", partial)


def test_requirements_pin_every_lambda_dependency_with_a_hash():
    lines = [ln for ln in packaging.LAMBDA_REQUIREMENTS.read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    names = {ln.split("==")[0] for ln in lines}
    assert names == {"requests", "urllib3", "idna", "certifi", "charset-normalizer"}
    assert all("--hash=sha256:" in ln for ln in lines)


def test_glue_wheel_is_reproducible_and_its_record_matches(tmp_path):
    path, digest = packaging.build_runtime_wheel(tmp_path / "a")
    again, digest2 = packaging.build_runtime_wheel(tmp_path / "b")
    assert digest == digest2 and path.read_bytes() == again.read_bytes()
    version = packaging.project_version()
    assert path.name == f"stockpipe_runtime-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path) as zf:
        info = f"stockpipe_runtime-{version}.dist-info"
        record = list(csv.reader(io.StringIO(zf.read(f"{info}/RECORD").decode())))
        assert "Tag: py3-none-any" in zf.read(f"{info}/WHEEL").decode()
        assert "runtime/jobs/glue_entry.py" in zf.namelist()
        for name, hash_, size in record:
            if name.endswith("RECORD"):
                continue
            data = zf.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert hash_ == f"sha256={expected.decode()}", name
            assert int(size) == len(data), name
        assert {r[0] for r in record} == set(zf.namelist())


def test_pip_installs_the_glue_wheel_and_the_entry_script_imports(tmp_path):
    wheel, _ = packaging.build_runtime_wheel(tmp_path / "dist")
    target = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
         "--disable-pip-version-check", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    code = (f"import sys; sys.path.insert(0, {str(target)!r}); "
            "import runtime.jobs.glue_entry as g; print(','.join(g.ARG_NAMES))")
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().split(",") == [
        "step", "tickers", "database", "table_prefix", "partition_granularity", "archive_keep",
        "raw_uri", "curated_uri", "archive_uri", "workgroup", "region"]


def test_glue_modules_are_pinned_for_python_39():
    # Versions that leave the analytics set alone (tests/infra/test_glue_deps.py).
    assert packaging.glue_additional_modules() == "pyathena==2.17.0,exchange_calendars==4.2.8"
