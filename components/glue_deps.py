"""Check that the Glue jobs' extra modules install on top of Glue's Python-shell 3.9 analytics
library set without changing any of it (`make glue-deps`; needs PyPI through pip).

pip resolves glue-requirements.txt for Python 3.9 with glue-constraints.txt as constraints; a pin
that would need a newer pandas, numpy, pyarrow, scipy, boto3 or botocore makes the resolution
fail, and this says which. The resolved set is written to glue-resolved.txt (for pip) and, with
each package's Requires-Python and Requires-Dist metadata, to glue-resolved.json: the offline
tests re-check that metadata against the constraints (metadata_conflicts), so a pin changed
without re-running this check fails `make test`.

Usage: python -m components.glue_deps [PYTHON3.9]   (default: python3.9 on PATH)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Mapping

HERE = Path(__file__).resolve().parent
CONSTRAINTS = HERE / "glue-constraints.txt"
REQUIREMENTS = HERE / "glue-requirements.txt"
RESOLVED = HERE / "glue-resolved.txt"
RESOLVED_METADATA = HERE / "glue-resolved.json"
# The Glue Python-shell 3.9 interpreter, for evaluating requirement markers offline.
GLUE_MARKERS = {"python_version": "3.9", "python_full_version": "3.9.18",
                "platform_machine": "x86_64", "sys_platform": "linux", "os_name": "posix",
                "platform_system": "Linux", "implementation_name": "cpython",
                "platform_python_implementation": "CPython", "extra": ""}


def canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def read_pins(path: Path) -> Dict[str, str]:
    """{canonical name: version} of the `name==version` lines of a requirements file."""
    from .packaging import pinned_requirements

    return {canonical(n): v for n, v in pinned_requirements(path)}


def resolved_versions(report: Mapping) -> Dict[str, str]:
    """{canonical name: version} of what a `pip install --report` would install."""
    return {canonical(item["metadata"]["name"]): item["metadata"]["version"]
            for item in report.get("install", [])}


def changes_to_preinstalled(resolved: Mapping[str, str],
                            preinstalled: Mapping[str, str]) -> List[str]:
    """`name old -> new` for every preinstalled package the resolution would replace."""
    return [f"{name} {version} -> {resolved[name]}"
            for name, version in sorted(preinstalled.items())
            if name in resolved and resolved[name] != version]


def metadata_conflicts(packages: Mapping[str, Mapping],
                       preinstalled: Mapping[str, str]) -> List[str]:
    """What the packages' own metadata says is incompatible: a Requires-Python that excludes
    3.9, or a requirement (for Glue's interpreter) that the preinstalled or resolved version of
    a package does not satisfy."""
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    versions = {**{n: p["version"] for n, p in packages.items()}, **preinstalled}
    out = []
    for name, meta in sorted(packages.items()):
        needs_python = meta.get("requires_python")
        glue_python = GLUE_MARKERS["python_full_version"]
        if needs_python and not SpecifierSet(needs_python).contains(glue_python):
            out.append(f"{name} {meta['version']} requires Python {needs_python}")
        for text in meta.get("requires_dist") or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate(GLUE_MARKERS):
                continue
            have = versions.get(canonical(req.name))
            if have is not None and not req.specifier.contains(have, prereleases=True):
                out.append(f"{name} {meta['version']} needs {req.name}{req.specifier}, "
                           f"Glue has {have}")
    return out


def resolve(python: str) -> Dict[str, Dict]:
    """Ask pip (of a Python 3.9 interpreter) what the pins would install; raise on conflict."""
    cmd = [python, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
           "--only-binary=:all:", "--report", "-", "-c", str(CONSTRAINTS),
           "-r", str(REQUIREMENTS)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if out.returncode != 0:
        errors = [line for line in out.stderr.splitlines() if line.startswith("ERROR")]
        raise SystemExit(
            "glue-requirements.txt cannot be installed without changing Glue's analytics "
            f"library set ({CONSTRAINTS.name}):\n  " + "\n  ".join(errors or [out.stderr[-800:]])
        )
    report = json.loads(out.stdout[out.stdout.index("{"):])
    version = report.get("environment", {}).get("python_version", "")
    if not version.startswith("3.9"):
        raise SystemExit(f"{python} is Python {version}; Glue Python shell runs 3.9")
    return {canonical(item["metadata"]["name"]): {
        "version": item["metadata"]["version"],
        "requires_python": item["metadata"].get("requires_python"),
        "requires_dist": item["metadata"].get("requires_dist") or [],
    } for item in report.get("install", [])}


def main(argv: List[str]) -> int:
    python = argv[1] if len(argv) > 1 else "python3.9"
    packages = resolve(python)
    resolved = {n: p["version"] for n, p in packages.items()}
    changed = changes_to_preinstalled(resolved, read_pins(CONSTRAINTS))
    if changed:
        print("would replace preinstalled Glue libraries: " + ", ".join(changed), file=sys.stderr)
        return 1
    RESOLVED_METADATA.write_text(json.dumps(packages, indent=1, sort_keys=True) + "\n")
    lines = [f"{n}=={v}" for n, v in sorted(resolved.items())]
    RESOLVED.write_text(
        "# Written by `make glue-deps` (components/glue_deps.py): what pip installs for the\n"
        "# Glue jobs on top of glue-constraints.txt, resolved for Python 3.9. Do not edit.\n"
        + "\n".join(lines) + "\n")
    print(f"ok: {len(lines)} packages, none of {CONSTRAINTS.name} changed; wrote {RESOLVED.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
