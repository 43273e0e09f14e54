"""Check that the Glue jobs' extra modules install on top of Glue's Python-shell 3.9 analytics
library set without changing any of it (`make glue-deps`; needs PyPI through pip).

pip resolves glue-requirements.txt for Python 3.9 with glue-constraints.txt as constraints; a pin
that would need a newer pandas, numpy, pyarrow, scipy, boto3 or botocore makes the resolution
fail, and this says which. The resolved set is written to glue-resolved.txt, which the offline
tests compare with both files, so a pin changed without re-running this check fails `make test`.

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


def resolve(python: str) -> Dict[str, str]:
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
    return resolved_versions(report)


def main(argv: List[str]) -> int:
    python = argv[1] if len(argv) > 1 else "python3.9"
    resolved = resolve(python)
    changed = changes_to_preinstalled(resolved, read_pins(CONSTRAINTS))
    if changed:
        print("would replace preinstalled Glue libraries: " + ", ".join(changed), file=sys.stderr)
        return 1
    lines = [f"{n}=={v}" for n, v in sorted(resolved.items())]
    RESOLVED.write_text(
        "# Written by `make glue-deps` (components/glue_deps.py): what pip installs for the\n"
        "# Glue jobs on top of glue-constraints.txt, resolved for Python 3.9. Do not edit.\n"
        + "\n".join(lines) + "\n")
    print(f"ok: {len(lines)} packages, none of {CONSTRAINTS.name} changed; wrote {RESOLVED.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
