"""Doubles and reals written as text the way Trino (Athena engine v3) writes them, on columns
and across the whole range of values, checked against an independent model of Java's rules:

- CAST(double AS varchar) is DecimalFormat("0.0###################E0"): the double's shortest
  round-trip digits (Python's repr gives the same digits) as d.ddd...E<exp>;
- CAST(real AS varchar) is DecimalFormat("0.0#####E0") of Float.toString: the float's
  shortest digits rounded half-even to 7 significant digits;
- format('%s', x) is Double.toString / Float.toString: plain for 1e-3 <= |x| < 1e7.

The ported upstream cases (tests/conformance) only use constants; these use table columns.
"""

from __future__ import annotations

import random
import struct
from decimal import ROUND_HALF_EVEN, Decimal
from typing import List, Tuple

import pytest

from runtime.errors import DiffersFromAthenaError, EngineError


def _digits_exp(text: str) -> Tuple[str, int]:
    """Significant digits (no leading/trailing zeros) and decimal exponent of a number's text."""
    sign, digits, exponent = Decimal(text).as_tuple()
    d = "".join(map(str, digits)).rstrip("0")
    stripped = len(digits) - len("".join(map(str, digits)).lstrip("0"))
    return d.lstrip("0"), exponent + len(digits) - 1 - stripped


def _sci(negative: bool, d: str, e: int) -> str:
    return ("-" if negative else "") + d[0] + "." + (d[1:] or "0") + "E" + str(e)


def trino_double_text(x: float) -> str:
    d, e = _digits_exp(repr(abs(x)))
    return _sci(x < 0, d, e)


def shortest_float_digits(x: float) -> str:
    """The shortest decimal that reads back as the same float32 (Float.toString's digits)."""
    for precision in range(0, 9):
        text = f"{x:.{precision}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == x:
            return text
    return f"{x:.8e}"


def trino_real_text(x: float) -> str:
    d, e = _digits_exp(shortest_float_digits(abs(x)))
    if len(d) > 7:
        rounded = Decimal("0." + d).quantize(Decimal("1e-7"), rounding=ROUND_HALF_EVEN)
        if rounded == 1:
            d, e = "1", e + 1
        else:
            d = str(rounded)[2:].rstrip("0")
    return _sci(x < 0, d, e)


def java_to_string(x: float, digits_text: str) -> str:
    d, e = _digits_exp(digits_text)
    sign = "-" if x < 0 else ""
    if 0 <= e < 7:
        whole = (d[: e + 1]).ljust(e + 1, "0")
        return sign + whole + "." + (d[e + 1:] or "0")
    if -3 <= e < 0:
        return sign + "0." + "0" * (-e - 1) + d
    return _sci(x < 0, d, e)


def random_doubles(count: int, seed: int) -> List[float]:
    rng = random.Random(seed)
    values = []
    while len(values) < count:
        bits = rng.getrandbits(64)
        x = struct.unpack("d", struct.pack("Q", bits))[0]
        if x == x and abs(x) != float("inf") and abs(x) >= 2.2250738585072014e-308:
            values.append(x)
    # Whole numbers, prices and the powers of ten around the layout boundaries.
    values += [202910.0, 123.456, 2.0, 0.1 + 0.2, 1e-7, 1e7, 9999999.0, 0.001, 1e16, 1e21]
    return values


def random_reals(count: int, seed: int) -> List[float]:
    rng = random.Random(seed)
    values = []
    while len(values) < count:
        x = struct.unpack("f", struct.pack("I", rng.getrandbits(32)))[0]
        if x == x and abs(x) != float("inf") and abs(x) >= 1.1754943508222875e-38:
            d, _ = _digits_exp(shortest_float_digits(abs(x)))
            if not (len(d) == 8 and d.endswith("5")):  # refused, see the refusal test
                values.append(x)
    return values + [754.1985, 16777216.0, 0.1, 12345679.0]


def _column(values: List[float], type_name: str) -> str:
    rows = ", ".join(f"({type_name} '{v!r}')" for v in values)
    return f"(VALUES {rows}) AS t (x)"


def test_double_column_cast_to_varchar_is_trinos_scientific_text(engine):
    values = random_doubles(1500, seed=15)

    rows = engine.execute(
        f"SELECT x, CAST(x AS varchar), TRY_CAST(x AS varchar) FROM {_column(values, 'DOUBLE')}"
    ).rows

    assert len(rows) == len(values)
    for x, cast, try_cast in rows:
        assert cast == try_cast == trino_double_text(x), x


def test_real_column_cast_to_varchar_has_seven_digits_rounded_half_even(engine):
    values = random_reals(1500, seed=15)

    rows = engine.execute(f"SELECT x, CAST(x AS varchar) FROM {_column(values, 'REAL')}").rows

    assert len(rows) == len(values)
    for x, text in rows:
        assert text == trino_real_text(x), x


def test_format_s_of_a_double_or_real_column_is_javas_to_string(engine):
    doubles = random_doubles(400, seed=16)
    reals = random_reals(400, seed=16)

    double_rows = engine.execute(
        f"SELECT x, format('%s', x) FROM {_column(doubles, 'DOUBLE')}"
    ).rows
    real_rows = engine.execute(f"SELECT x, format('[%s]', x) FROM {_column(reals, 'REAL')}").rows

    for x, text in double_rows:
        assert text == java_to_string(x, repr(abs(x))), x
    for x, text in real_rows:
        assert text == "[" + java_to_string(x, shortest_float_digits(abs(x))) + "]", x


def test_special_doubles_and_an_integer_stored_as_double(engine):
    rows = engine.execute(
        "SELECT CAST(x AS varchar), format('%s', x) FROM (VALUES (nan()), (infinity()), "
        "(-infinity()), (0E0), (-(0E0)), (CAST(202910 AS double)), (CAST(NULL AS double))) "
        "AS t (x)"
    ).rows

    assert rows == [
        ("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("0E0", "0.0"),
        ("-0E0", "-0.0"), ("2.0291E5", "202910.0"), (None, "null"),
    ]


def test_double_column_too_long_for_varchar_n_fails(engine):
    with pytest.raises(EngineError, match="1.2E3 cannot be represented as varchar"):
        engine.execute("SELECT CAST(x AS varchar(4)) FROM (VALUES (12e2)) AS t (x)")

    rows = engine.execute("SELECT CAST(x AS varchar(5)) FROM (VALUES (12e2)) AS t (x)").rows
    assert rows == [("1.2E3",)]


@pytest.mark.parametrize(
    "expression, what",
    [
        ("CAST(x AS varchar) FROM (VALUES (4.9E-324)) AS t (x)", "CAST(double AS varchar)"),
        ("CAST(x AS varchar) FROM (VALUES (REAL '1234567.5')) AS t (x)", "CAST(real AS varchar)"),
        ("format('%s', x) FROM (VALUES (4.9E-324)) AS t (x)", "format('%s', double)"),
        ("format('%.2f', x) FROM (VALUES (1.005E0)) AS t (x)", "format"),
        ("format(f, 1) FROM (VALUES ('%s')) AS t (f)", "format"),
    ],
)
def test_text_the_engine_cannot_make_exact_is_refused_by_name(engine, expression, what):
    with pytest.raises(DiffersFromAthenaError) as caught:
        engine.execute("SELECT " + expression)

    assert str(caught.value).startswith(what + ":")
    assert "differs from Athena" in str(caught.value)


@pytest.mark.parametrize(
    "operand, type_name",
    [("1.5E0", "double"), ("REAL '1.5'", "float"), ("7", "integer"), ("DATE '2020-01-02'",
                                                                        "date")],
)
def test_concatenating_a_non_text_column_fails_as_in_athena(engine, operand, type_name):
    for sql in (f"SELECT 'a' || x FROM (VALUES ({operand})) AS t (x)",
                f"SELECT concat(x, 'a') FROM (VALUES ({operand})) AS t (x)"):
        with pytest.raises(EngineError, match=rf"Unexpected parameters \({type_name}\)"):
            engine.execute(sql)


def test_concatenating_text_columns_and_casts_still_works(engine):
    rows = engine.execute(
        "SELECT s || '-' || CAST(x AS varchar), concat(s, CAST(n AS varchar)) "
        "FROM (VALUES ('a', 2.5E0, 3)) AS t (s, x, n)"
    ).rows

    assert rows == [("a-2.5E0", "a3")]
