"""Data-quality check definitions (DESIGN 3.5) and the SQL helpers the steps share.

Each check is one file under runtime/sql/checks/ whose first line names its severity
(`-- severity: error|warning`) and whose query returns one row: the failing row count.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from string import Template
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from .errors import ConfigError, validate_identifier, validate_ticker

SEVERITIES = ("error", "warning")
_SEVERITY_LINE = re.compile(r"^--\s*severity:\s*(\w+)\s*$")
# Literals Python places into SQL: only these shapes pass.
_TIMESTAMP_LITERAL = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")


def _sql_path(*parts: str):
    """runtime/sql/<parts...> as an importlib.resources Traversable.

    One joinpath per segment: on Python 3.9 (Glue Python shell) a package imported from a zip or
    wheel is a zipfile.Path, whose joinpath takes a single argument."""
    path = resources.files("runtime").joinpath("sql")
    for part in parts:
        path = path.joinpath(part)
    return path


def sql_text(name: str) -> str:
    """The text of runtime/sql/<name> (e.g. 'transform_select.sql', 'checks/freshness.sql')."""
    return _sql_path(*name.split("/")).read_text(encoding="utf-8")


def slots(name: str) -> Set[str]:
    """The names of the `${...}` (or `$name`) slots a SQL file has."""
    found = set()
    for match in Template.pattern.finditer(sql_text(name)):
        slot = match.group("named") or match.group("braced")
        if slot:
            found.add(slot)
    return found


def render(name: str, **values: str) -> str:
    """Fill a SQL file's `${...}` slots; every slot must be given (a missing one is a bug)."""
    try:
        return Template(sql_text(name)).substitute(values).strip()
    except KeyError as exc:
        raise ConfigError(f"SQL file {name} needs a value for {exc.args[0]!r}") from None


def sql_uri(uri: str) -> str:
    """A lake URI as a SQL string literal body; quotes and control characters are refused."""
    if not uri or "'" in uri or "\\" in uri or any(ord(ch) < 32 for ch in uri):
        raise ConfigError(f"location {uri!r} cannot be placed in SQL: no quotes or backslashes")
    return uri


def timestamp_literal(moment: datetime) -> str:
    """A naive-UTC `YYYY-MM-DD HH:MM:SS.fff` for `TIMESTAMP '...'`.

    Always exactly milliseconds: a literal's precision is its number of fraction digits, and
    Athena's Hive writer accepts only timestamp(3) in a CTAS; timestamp(0) (a whole second
    without `.000`) or timestamp(6) fails with "NOT_SUPPORTED: Incorrect timestamp precision for
    timestamp(0); the configured precision is MILLISECONDS" (Trino's Hive connector check)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    text = f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d}"
    if not _TIMESTAMP_LITERAL.match(text):
        raise ConfigError(f"{text!r} is not a valid timestamp literal")
    return text


def values_rows(rows: Iterable[str], null_row: str) -> str:
    """`(a), (b), <null_row>`: the trailing NULL row keeps the VALUES list valid when empty."""
    return ", ".join([*rows, null_row])


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
    folder = _sql_path("checks")
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


# ---- exchange calendar (exchange_calendars is local/Glue-optional: imported where used) ------
EXCHANGE = "XNYS"


def _calendar():
    import exchange_calendars as xcals

    return xcals.get_calendar(EXCHANGE)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def last_completed_session(now: datetime) -> date:
    """The latest XNYS session whose close is at or before `now`."""
    import pandas as pd

    cal = _calendar()
    now_ts = pd.Timestamp(_utc(now))
    start = max(pd.Timestamp(now_ts.date()) - pd.Timedelta(days=20), cal.first_session)
    end = min(pd.Timestamp(now_ts.date()), cal.last_session)
    for session in reversed(cal.sessions_in_range(start, end)):
        if cal.session_close(session) <= now_ts:
            return session.date()
    raise ConfigError(f"no completed {EXCHANGE} session in the 20 days before {now.isoformat()}")


def session_start_utc(session: date) -> datetime:
    """00:00 America/New_York on `session`, as naive UTC (the freshness threshold)."""
    import pandas as pd

    local = pd.Timestamp(session.isoformat()).tz_localize("America/New_York")
    return local.tz_convert("UTC").tz_localize(None).to_pydatetime()


def expected_session_hours(first: date, last: date, now: datetime) -> List[datetime]:
    """Start (naive UTC) of every hour bar overlapping the regular session of each completed
    XNYS session from `first` to `last`: 09:00-15:00 ET on a full day, 09:00-12:00 ET on a
    13:00 early close. Holidays and weekends give none."""
    import pandas as pd

    cal = _calendar()
    now_ts = pd.Timestamp(_utc(now))
    start = max(pd.Timestamp(first), cal.first_session)
    end = min(pd.Timestamp(last), cal.last_session)
    out: List[datetime] = []
    if start > end:
        return out
    for session in cal.sessions_in_range(start, end):
        close = cal.session_close(session)
        if close > now_ts:
            continue
        hour = cal.session_open(session).tz_convert("America/New_York").floor("h")
        while hour < close:
            out.append(hour.tz_convert("UTC").tz_localize(None).to_pydatetime())
            hour = hour + pd.Timedelta(hours=1)
    return out


def parse_window_day(value: object) -> Optional[date]:
    """A raw `window_from`/`window_to` (YYYY-MM-DD..., or Unix ms) -> date; None if unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=timezone.utc).date()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def ticker_values(tickers: Sequence[str]) -> str:
    rows = [f"('{validate_ticker(t)}')" for t in tickers]
    return values_rows(rows, "(CAST(NULL AS varchar))")


def hour_values(hours: Sequence[datetime]) -> str:
    rows = [f"(TIMESTAMP '{timestamp_literal(h)}')" for h in hours]
    return values_rows(rows, "(CAST(NULL AS timestamp))")


def default_window(now: datetime, days: int) -> Tuple[date, date]:
    """The window a run with no recorded request window covers: the last `days` days."""
    end = _utc(now).date()
    return end - timedelta(days=days), end
