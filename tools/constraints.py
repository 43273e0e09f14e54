"""constraints.txt: the exact version of every package the local and dev installs use (`make
install`, `make install-dev`, so `make run`, `make test` and CI), with a digest of
pyproject.toml's dependency lists in its header, so a check can tell when the two part.

    pip freeze --exclude-editable | python tools/constraints.py write pyproject.toml constraints.txt
    python tools/constraints.py check pyproject.toml constraints.txt
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Dict, List

DIGEST_PREFIX = "# pyproject-dependencies-sha256: "
HEADER = """# Exact versions for the local and dev installs (make install, install-dev, run, test).
# Written by `make lock` from a fresh resolve of pyproject.toml; do not edit by hand: change
# pyproject.toml, then run `make lock`. The packaging tests fail when the two disagree.
"""


def _toml(text: str) -> dict:
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    return tomllib.loads(text)


def dependency_groups(pyproject_text: str) -> Dict[str, List[str]]:
    """{"": core dependencies, extra: its dependencies} as written in pyproject.toml."""
    project = _toml(pyproject_text)["project"]
    groups = {"": list(project.get("dependencies", []))}
    groups.update(project.get("optional-dependencies", {}))
    return groups


def digest(pyproject_text: str) -> str:
    groups = {k: sorted(v) for k, v in dependency_groups(pyproject_text).items()}
    return hashlib.sha256(json.dumps(groups, sort_keys=True).encode()).hexdigest()


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def pins(constraints_text: str) -> Dict[str, str]:
    """{normalized name: version} of the `name==version` lines."""
    found = {}
    for line in constraints_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[_name(name)] = version.strip()
    return found


def write(freeze_text: str, pyproject_text: str) -> str:
    """constraints.txt from `pip freeze` output: the project itself and non-index (URL or
    path) installs left out."""
    own = _name(_toml(pyproject_text)["project"]["name"])
    lines = sorted(
        (ln.strip() for ln in freeze_text.splitlines()
         if "==" in ln and " @ " not in ln and _name(ln.split("==")[0]) != own),
        key=lambda ln: _name(ln.split("==")[0]),
    )
    return HEADER + DIGEST_PREFIX + digest(pyproject_text) + "\n" + "\n".join(lines) + "\n"


def problems(constraints_text: str, pyproject_text: str) -> List[str]:
    """Why the constraints do not fit pyproject.toml (empty when they do)."""
    from packaging.requirements import Requirement

    out = []
    recorded = next((ln[len(DIGEST_PREFIX):].strip() for ln in constraints_text.splitlines()
                     if ln.startswith(DIGEST_PREFIX)), None)
    if recorded != digest(pyproject_text):
        out.append("pyproject.toml's dependencies changed since constraints.txt was written: "
                   "run `make lock` and commit both")
    pinned = pins(constraints_text)
    for group, requirements in dependency_groups(pyproject_text).items():
        for text in requirements:
            req = Requirement(text)
            version = pinned.get(_name(req.name))
            where = f"[{group}]" if group else "(core)"
            if version is None:
                out.append(f"{req.name} {where} is not pinned in constraints.txt")
            elif not req.specifier.contains(version, prereleases=True):
                out.append(f"{req.name}=={version} in constraints.txt is outside "
                           f"{req.specifier} {where}")
    return out


def main(argv: List[str]) -> int:
    if len(argv) == 3 and argv[0] == "write":
        text = write(sys.stdin.read(), Path(argv[1]).read_text())
        Path(argv[2]).write_text(text)
        return 0
    if len(argv) == 3 and argv[0] == "check":
        found = problems(Path(argv[2]).read_text(), Path(argv[1]).read_text())
        for line in found:
            print(f"constraints: {line}", file=sys.stderr)
        return 1 if found else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
