"""The data-quality check registry and the shapes of a quality run's results.

Each check is one file under runtime/sql/checks/ whose first line names its severity
(`-- severity: error|warning`) and whose query returns one row: the failing row count. The SQL
files are loaded by runtime.sql_files; the calendar checks' inputs come from
runtime.exchange_calendar.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Tuple

from .errors import ConfigError, validate_identifier
from .sql_files import sql_path

SEVERITIES = ("error", "warning")
_SEVERITY_LINE = re.compile(r"^--\s*severity:\s*(\w+)\s*$")


@dataclass(frozen=True)
class Check:
    name: str
    severity: str
    sql_file: str


@dataclass
class CheckResult:
    name: str
    severity: str
    failing_rows: int
    passed: bool

    def to_dict(self) -> Dict[str, object]:
        return asdict(self)


@dataclass
class QualityResult:
    run_id: str
    checks: List[CheckResult] = field(default_factory=list)
    passed: bool = True

    @property
    def failed_errors(self) -> List[CheckResult]:
        return [c for c in self.checks if c.severity == "error" and not c.passed]

    @property
    def failed_warnings(self) -> List[CheckResult]:
        return [c for c in self.checks if c.severity == "warning" and not c.passed]

    def to_dict(self) -> Dict[str, object]:
        return {
            "run_id": self.run_id,
            "passed": self.passed,
            "checks": [c.to_dict() for c in self.checks],
        }


def all_checks() -> Tuple[Check, ...]:
    """Every check file, sorted by name, with the severity its header declares."""
    folder = sql_path("checks")
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        name = validate_identifier(entry.name[: -len(".sql")], "check name")
        first = entry.read_text(encoding="utf-8").splitlines()[0]
        match = _SEVERITY_LINE.match(first)
        if not match or match.group(1) not in SEVERITIES:
            raise ConfigError(
                f"check {entry.name} must start with '-- severity: error' or '-- severity: warning'"
            )
        out.append(Check(name, match.group(1), f"checks/{entry.name}"))
    return tuple(out)
