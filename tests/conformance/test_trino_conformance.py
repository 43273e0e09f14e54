"""The local engine gives Trino's (Athena's) answer to every ported upstream case, or refuses it
with DiffersFromAthenaError naming the function; never a different value.

Each line of trino_cases.tsv is one case: the expression is run as `SELECT <expression>` and its
value compared, type included (a date is not a timestamp, a DECIMAL keeps its scale, a
timestamp with time zone keeps its zone), with the expected Trino literal. Where Trino fails
the expression, the local engine must fail it too.
"""

from __future__ import annotations

import math
import re
import struct
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, List, NamedTuple, Optional, Tuple
from zoneinfo import ZoneInfo

import pytest

from runtime.engines.local import LocalEngine
from runtime.errors import DiffersFromAthenaError, StockpipeError

CASES = Path(__file__).parent / "trino_cases.tsv"
TARGET_PASS_RATE = 0.95


class Case(NamedTuple):
    expression: str
    expected: str
    source: str
    line: int


def load_cases() -> List[Case]:
    cases = []
    for number, raw in enumerate(CASES.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw or raw.startswith("#") or raw.startswith("expression\t"):
            continue
        expression, expected, source = raw.split("\t")
        cases.append(Case(expression, expected, source, number))
    return cases


ALL_CASES = load_cases()

_TYPED = re.compile(r"^(?P<type>[A-Z]+) '(?P<text>(?:[^']|'')*)'$")
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def _zone(name: str) -> Any:
    m = _OFFSET.match(name)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    return ZoneInfo(name)


def _zone_name(tz: Any, at: datetime) -> str:
    key = getattr(tz, "key", None)
    if key:
        return key
    offset = at.utcoffset() or timedelta(0)
    if tz is timezone.utc:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _wall_clock(text: str) -> datetime:
    day, _, clock = text.partition(" ")
    y, mo, d = (int(p) for p in day.split("-"))
    if not clock:
        return datetime(y, mo, d)
    hms, _, frac = clock.partition(".")
    parts = [int(p) for p in hms.split(":")] + [0, 0]
    micros = int((frac + "000000")[:6]) if frac else 0
    return datetime(y, mo, d, parts[0], parts[1], parts[2], micros)


def expected_value(literal: str) -> Tuple[str, Any]:
    """(kind, Python value) of an expected Trino literal."""
    if literal == "NULL":
        return "null", None
    m = _TYPED.match(literal)
    if not m:
        raise ValueError(f"unreadable expected literal {literal!r}")
    kind, text = m.group("type"), m.group("text").replace("''", "'")
    if kind in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT"):
        return "int", int(text)
    if kind in ("DOUBLE", "REAL"):
        return kind.lower(), float(text)
    if kind == "DECIMAL":
        return "decimal", Decimal(text)
    if kind in ("VARCHAR", "CHAR", "ERROR"):
        return kind.lower(), text
    if kind == "BOOLEAN":
        return "bool", text == "true"
    if kind == "DATE":
        return "date", _wall_clock(text).date()
    if kind == "TIME":
        return "time", _wall_clock("1970-01-01 " + text).time()
    if kind == "TIMESTAMP":
        head, _, zone = text.rpartition(" ")
        if zone and not zone[0].isdigit():
            tz = _zone(zone)
            return "timestamptz", (_wall_clock(head).replace(tzinfo=tz), zone)
        return "timestamp", _wall_clock(text)
    raise ValueError(f"unknown expected type {kind} in {literal!r}")


def mismatch(kind: str, want: Any, got: Any) -> Optional[str]:
    """None when `got` is Trino's answer `want`, else what differs."""
    if kind == "null":
        return None if got is None else f"expected NULL, got {got!r}"
    if got is None:
        return f"expected {want!r}, got NULL"
    if kind == "int":
        ok = isinstance(got, int) and not isinstance(got, bool) and got == want
    elif kind == "double":
        ok = isinstance(got, float) and (
            (math.isnan(want) and math.isnan(got))
            or (got == want and math.copysign(1, got) == math.copysign(1, want))
        )
    elif kind == "real":
        single = struct.unpack("f", struct.pack("f", want))[0]
        ok = isinstance(got, float) and got == single
    elif kind == "decimal":
        ok = isinstance(got, Decimal) and got == want and got.as_tuple().exponent == (
            want.as_tuple().exponent
        )
    elif kind in ("varchar", "char"):
        ok = isinstance(got, str) and got == want
    elif kind == "bool":
        ok = isinstance(got, bool) and got == want
    elif kind == "date":
        ok = type(got) is date and got == want
    elif kind == "time":
        ok = isinstance(got, time) and got.replace(tzinfo=None) == want
    elif kind == "timestamp":
        ok = type(got) is datetime and got.tzinfo is None and got == want
    elif kind == "timestamptz":
        instant, zone = want
        ok = (
            type(got) is datetime
            and got.tzinfo is not None
            and got == instant
            and _zone_name(got.tzinfo, got) == zone
            and got.utcoffset() == instant.utcoffset()
        )
    else:
        raise ValueError(kind)
    return None if ok else f"expected {kind} {want!r}, got {type(got).__name__} {got!r}"


@pytest.fixture(scope="module")
def engine():
    eng = LocalEngine(":memory:")
    yield eng
    eng.close()


def outcome(engine: LocalEngine, case: Case) -> Tuple[str, str]:
    """("pass" | "refused" | "mismatch", detail) for one case."""
    kind, want = expected_value(case.expected)
    try:
        result = engine.execute(f"SELECT {case.expression} AS v")
    except DiffersFromAthenaError as exc:
        if kind == "error":
            return "pass", "fails, as in Trino"
        return "refused", str(exc)
    except StockpipeError as exc:
        if kind == "error":
            return "pass", "fails, as in Trino"
        return "mismatch", f"fails where Trino gives {case.expected}: {exc}"
    if kind == "error":
        return "mismatch", f"Trino fails ({want}) but the local engine gives {result.rows!r}"
    rows = result.rows
    if len(rows) != 1 or len(rows[0]) != 1:
        return "mismatch", f"expected one value, got {rows!r}"
    problem = mismatch(kind, want, rows[0][0])
    return ("mismatch", problem) if problem else ("pass", "")


@pytest.mark.parametrize(
    "case", ALL_CASES, ids=[f"L{c.line}:{c.expression[:60]}" for c in ALL_CASES]
)
def test_ported_trino_case_agrees_or_is_refused(engine, case, request):
    status, detail = outcome(engine, case)
    request.config._trino_conformance[f"L{case.line}"] = status
    if status == "refused":
        # A refusal is an answer only if it says which function and that Athena differs.
        assert "differs from Athena" in detail, detail
        return
    assert status == "pass", f"{case.source} (line {case.line}): {case.expression}: {detail}"


def test_at_least_95_percent_of_ported_cases_pass(engine, request):
    # The per-case test's outcomes when it ran in this process; each other case is run here.
    seen = request.config._trino_conformance
    statuses = [seen.get(f"L{case.line}") or outcome(engine, case)[0] for case in ALL_CASES]
    passed = statuses.count("pass")
    mismatched = statuses.count("mismatch")

    assert mismatched == 0, f"{mismatched} ported cases give a different answer than Trino"
    assert passed / len(ALL_CASES) >= TARGET_PASS_RATE, (
        f"{passed} of {len(ALL_CASES)} ported cases pass ({passed / len(ALL_CASES):.1%}); "
        f"the target is {TARGET_PASS_RATE:.0%}"
    )


@pytest.mark.parametrize(
    "expected, got",
    [
        ("DATE '2001-08-22'", datetime(2001, 8, 22)),  # a timestamp is not a date
        ("DECIMAL '1234.50'", Decimal("1234.5")),  # the scale is part of the answer
        ("BIGINT '123'", 123.0),  # a double is not a bigint
        ("DOUBLE '-0.0'", 0.0),  # Trino keeps the sign of zero
        ("TIMESTAMP '2001-08-22 03:04:05.321 +07:09'",
         datetime(2001, 8, 21, 19, 55, 5, 321000, tzinfo=timezone.utc)),  # same instant, no zone
        ("TIMESTAMP '2001-08-22 03:04:05.321'", datetime(2001, 8, 22, 3, 4, 5, 321000,
                                                          tzinfo=timezone.utc)),
        ("VARCHAR 'a'", None),
        ("NULL", ""),
    ],
)
def test_comparison_tells_a_different_type_or_zone_from_trinos_answer(expected, got):
    kind, want = expected_value(expected)

    assert mismatch(kind, want, got) is not None


def test_comparison_accepts_trinos_answer_in_python_form():
    tokyo = datetime(1970, 1, 1, 11, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    offset = datetime(2001, 8, 22, 3, 4, 5, 321000, tzinfo=timezone(timedelta(hours=7, minutes=9)))

    in_tokyo = expected_value("TIMESTAMP '1970-01-01 11:00:00.000 Asia/Tokyo'")

    assert mismatch(*in_tokyo, tokyo) is None
    assert mismatch(*expected_value("TIMESTAMP '2001-08-22 03:04:05.321 +07:09'"), offset) is None
    assert mismatch(*expected_value("DECIMAL '1234.50'"), Decimal("1234.50")) is None
    assert mismatch(*expected_value("REAL '3.1'"), 3.0999999046325684) is None
    assert mismatch(*expected_value("DOUBLE 'NaN'"), float("nan")) is None
