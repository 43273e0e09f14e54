"""The data-quality check registry and the shapes of a quality run's results.

Each check is one file under runtime/sql/checks/: its first line names its severity
(`-- severity: error|warning`), an optional `-- scope: partition` line says that it judges each
partition on its own rows, the comment lines after those describe what it counts, and its
query returns one row: the failing row count. Adding a check is adding its file. The SQL files
are loaded by runtime.sql_files; the calendar checks' inputs come from
runtime.exchange_calendar.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

from .errors import ConfigError, validate_identifier
from .sql_files import sql_header, sql_path

SEVERITIES = ("error", "warning")
# `-- scope: partition`: the check judges each partition on its own rows, and its count over the
# table is the sum over the partitions (runtime/steps/judged_partitions.py); `table` (the
# default): it reads across partitions or other tables and is run over the whole table.
SCOPES = ("table", "partition")


@dataclass(frozen=True)
class Check:
    name: str
    severity: str
    sql_file: str
    description: str = ""
    scope: str = "table"


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
    # The partitions the partition-scope checks read (None: the whole table) and those whose
    # earlier clean judgement was reused (runtime/steps/judged_partitions.py).
    partitions_judged: Optional[List[str]] = None
    partitions_reused: int = 0

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


def _description(body: str) -> str:
    """The comment lines that open a check's query, joined into one text."""
    lines = []
    for line in body.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    return " ".join(lines).strip()


def all_checks() -> Tuple[Check, ...]:
    """Every check file, sorted by name, with the severity and description its header gives."""
    folder = sql_path("checks")
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        name = validate_identifier(entry.name[: -len(".sql")], "check name")
        fields, body = sql_header(f"checks/{entry.name}")
        severity = fields.get("severity")
        if severity not in SEVERITIES:
            raise ConfigError(
                f"check {entry.name} must start with '-- severity: error' or '-- severity: "
                f"warning', got {severity!r}"
            )
        scope = fields.get("scope", "table")
        if scope not in SCOPES:
            raise ConfigError(
                f"check {entry.name}: '-- scope:' must be 'partition' or 'table', got {scope!r}"
            )
        out.append(Check(name, severity, f"checks/{entry.name}", _description(body), scope))
    return tuple(out)
