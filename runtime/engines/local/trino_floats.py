"""How Trino (Athena engine v3) writes a double or a real as text, for the local engine.

Trino's CAST(double AS varchar) is java.text.DecimalFormat("0.0###################E0"): one
digit, a point, at least one more digit, `E` and the exponent ('2.0E0', '1.23456E2', '1.0E-7'),
with '0E0'/'-0E0' for zeros, 'NaN', 'Infinity', '-Infinity'. Twenty fraction digits are more than
a double's shortest round-trip digits (at most 17), so the digits are exactly those shortest
digits. CAST(real AS varchar) is DecimalFormat("0.0#####E0") of the float's shortest digits: at
most 7 significant digits, rounded half-even ('1.234568E7' for 12345678.9). format('%s', x)
passes a Java Double or Float, so it is Double.toString / Float.toString: plain between 1e-3 and
1e7 ('202910.0', '0.001'), the same scientific form outside ('1.0E-7', '1.23456789E8').

DuckDB's own text for a double carries the same shortest digits in another layout ('1e-07',
'202910.0', '1.5e+20'), so the macros below re-lay those digits out. Its text for a float is not
always the shortest, so a real's digits are searched with printf (__sp_real_src). Where the
digits alone cannot tell Trino's answer, the macro refuses while the row is read
(athena_refusals.RUNTIME_REFUSAL): a subnormal value (Java then prints at least two digits
chosen differently, '4.9E-324' where the shortest is '5e-324'), and a real whose rounding to 7
digits is an exact tie (DecimalFormat then decides by the binary value behind the digits).

Trino never turns a number into text implicitly: `'a' || 1.5E0` and concat('a', x) with a
numeric, boolean or date/time x fail in Trino, while DuckDB would write the number; the
engine fails them too (docs/sql-conformance.md).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from ...errors import UnsupportedSQLError
from .athena_refusals import RUNTIME_REFUSAL, refuse

_REFUSE = "error('" + RUNTIME_REFUSAL.replace("'", "''")

# Every value is bound once through a one-element list and a lambda: a macro argument used
# several times is copied each time, and nested copies made binding a statement take seconds.
_NEG = "CASE WHEN v.n THEN '-' ELSE '' END"


def _with_parts(text: str, negative: str, body: str) -> str:
    """`body` over v.n (negative?) and v.p (digits d, exponent e) of a number's text."""
    return (f"list_transform([{{'n': {negative}, 'p': main.__sp_fparts({text})}}], "
            f"lambda v: {body})[1]")


def _text_macro(name: str, what: str, source: str, layout: str) -> str:
    """A float's text as `name(x)`: the special values and refusals of __sp_float_special
    (`what` names the operation in them), else the digits of `source` laid out by `layout`."""
    return (f"CREATE OR REPLACE MACRO main.{name}(x) AS list_transform([x], lambda y: "
            f"main.__sp_float_special(y, '{what}', "
            + _with_parts(source, "y < 0", layout) + "))[1]")


MACROS = (
    # The significant digits d (no leading or trailing zeros) and decimal exponent e of DuckDB's
    # text of a finite nonzero number: '[-]int[.frac][e[+-]exp]'.
    "CREATE OR REPLACE MACRO main.__sp_fparts(t) AS list_transform([regexp_extract(ltrim(t, '-'),"
    r" '^(\d*)\.?(\d*)(?:e([+-]?\d+))?$', ['i', 'f', 'x'])], lambda m: list_transform("
    "[m.i || m.f], lambda a: {'d': rtrim(ltrim(a, '0'), '0'), 'e': coalesce(TRY_CAST("
    "nullif(m.x, '') AS INTEGER), 0) + length(m.i) - 1 - (length(a) - length(ltrim(a, '0')))})"
    "[1])[1]",
    # d.ddd...E<e>, with at least one fraction digit.
    "CREATE OR REPLACE MACRO main.__sp_sci(v) AS " + _NEG + " || left(v.p.d, 1) || '.' || "
    "coalesce(nullif(substr(v.p.d, 2), ''), '0') || 'E' || CAST(v.p.e AS VARCHAR)",
    # Java's Double.toString/Float.toString: plain for 1e-3 <= |x| < 1e7, else scientific.
    "CREATE OR REPLACE MACRO main.__sp_java_layout(v) AS CASE "
    "WHEN v.p.e >= 0 AND v.p.e < 7 THEN " + _NEG + " || rpad(left(v.p.d, v.p.e + 1), "
    "CAST(v.p.e + 1 AS INTEGER), '0') || '.' || coalesce(nullif(substr(v.p.d, v.p.e + 2), ''), "
    "'0') WHEN v.p.e < 0 AND v.p.e >= -3 THEN " + _NEG + " || '0.' || "
    "repeat('0', CAST(-v.p.e - 1 AS INTEGER)) "
    "|| v.p.d ELSE main.__sp_sci(v) END",
    # Seven significant digits of a real, half-even; an exact tie is refused (see above).
    "CREATE OR REPLACE MACRO main.__sp_real_round(v) AS CASE "
    "WHEN length(v.p.d) <= 7 THEN main.__sp_sci(v) "
    "WHEN substr(v.p.d, 8) = '5' THEN " + _REFUSE + "CAST(real AS varchar): ' || "
    "'a real whose 8th significant digit is its last and a 5 is rounded by its binary value')"
    " WHEN substr(v.p.d, 8) < '5' THEN main.__sp_sci({'n': v.n, 'p': {'d': rtrim(left(v.p.d, 7),"
    " '0'), 'e': v.p.e}}) "
    "WHEN left(v.p.d, 7) = '9999999' THEN main.__sp_sci({'n': v.n, 'p': {'d': '1', "
    "'e': v.p.e + 1}}) "
    "ELSE main.__sp_sci({'n': v.n, 'p': {'d': rtrim(CAST(TRY_CAST(left(v.p.d, 7) AS BIGINT) + 1 "
    "AS VARCHAR), '0'), 'e': v.p.e}}) END",
    # A float's shortest digits, as Float.toString has them. DuckDB's own text is not always
    # the shortest ('613895232.0' where '6.1389523E8' reads back the same, '3459412.25' between
    # two shortest candidates): the fewest digits of the value (printf rounds half-even, as Java
    # chooses between two equally near candidates) that read back as the same float.
    "CREATE OR REPLACE MACRO main.__sp_real_src(x) AS list_transform([abs(x)], lambda a: "
    "CASE " + " ".join(
        f"WHEN CAST(printf('%.{p}e', CAST(a AS DOUBLE)) AS FLOAT) = a "
        f"THEN printf('%.{p}e', CAST(a AS DOUBLE))" for p in range(9)
    ) + " ELSE CAST(a AS VARCHAR) END)[1]",
    # The special values, shared by every layout; `finite` is the layout of other values.
    "CREATE OR REPLACE MACRO main.__sp_float_special(x, what, finite) AS CASE "
    "WHEN isnan(x) THEN 'NaN' WHEN isinf(x) AND x > 0 THEN 'Infinity' "
    "WHEN isinf(x) THEN '-Infinity' WHEN x = 0 AND what LIKE 'CAST%' "
    "THEN CASE WHEN signbit(x) THEN '-0E0' ELSE '0E0' END "
    "WHEN x = 0 THEN CASE WHEN signbit(x) THEN '-0.0' ELSE '0.0' END "
    "WHEN abs(x) < CASE WHEN what LIKE '%real%' THEN 1.1754943508222875e-38 "
    "ELSE 2.2250738585072014e-308 END THEN " + _REFUSE + "' || what || ': ' || "
    "'a subnormal value is written with digits Java chooses differently') "
    "ELSE finite END",
    _text_macro("__sp_double_text", "CAST(double AS varchar)", "CAST(y AS VARCHAR)",
                "main.__sp_sci(v)"),
    _text_macro("__sp_real_text", "CAST(real AS varchar)", "main.__sp_real_src(y)",
                "main.__sp_real_round(v)"),
    # format('%s', x): Java's toString of the Double or Float, 'null' for NULL; others as text.
    _text_macro("__sp_java_double", "format(''%s'', double)", "CAST(y AS VARCHAR)",
                "main.__sp_java_layout(v)"),
    _text_macro("__sp_java_real", "format(''%s'', real)", "main.__sp_real_src(y)",
                "main.__sp_java_layout(v)"),
    "CREATE OR REPLACE MACRO main.__sp_java_str(x) AS coalesce(CASE "
    "WHEN typeof(x) = 'DOUBLE' THEN main.__sp_java_double(TRY_CAST(x AS DOUBLE)) "
    "WHEN typeof(x) = 'FLOAT' THEN main.__sp_java_real(TRY_CAST(x AS FLOAT)) "
    "ELSE CAST(x AS VARCHAR) END, 'null')",
    # An operand of || or concat(): Trino accepts only text (and arrays) there.
    "CREATE OR REPLACE MACRO main.__sp_concat_arg(x) AS CASE WHEN typeof(x) IN ('TINYINT', "
    "'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'DOUBLE', 'FLOAT', 'BOOLEAN', 'DATE', 'TIME', "
    "'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'INTERVAL') OR typeof(x) LIKE 'DECIMAL%' THEN "
    "error('Unexpected parameters (' || lower(typeof(x)) || ') for function concat: Athena "
    "does not convert ' || lower(typeof(x)) || ' to varchar implicitly; CAST it first') "
    "ELSE x END",
)

# Java format specifiers: %[index$][flags][width][.precision]conversion
_SPEC = re.compile(r"%(?:(\d+)\$)?([-#+ 0,(<]*)(\d+)?(\.\d+)?([a-zA-Z%])")


def wrap_concat(node: Any, exp: Any) -> None:
    """Fail `||`/concat() over a non-text operand as Trino does (checked when DuckDB binds)."""
    if isinstance(node, exp.DPipe):
        operands = [("this", node.this), ("expression", node.expression)]
        for key, value in operands:
            if _needs_check(value, exp):
                node.set(key, _checked(value, exp))
        return
    node.set("expressions", [_checked(a, exp) if _needs_check(a, exp) else a
                             for a in node.expressions])


def _needs_check(value: Any, exp: Any) -> bool:
    if isinstance(value, exp.Literal) and value.is_string:
        return False
    if isinstance(value, (exp.DPipe, exp.Concat, exp.Null)):
        return False
    if isinstance(value, exp.Anonymous) and value.name.startswith("__sp_concat_arg"):
        return False
    return True


def _checked(value: Any, exp: Any) -> Any:
    return exp.Anonymous(this="__sp_concat_arg", expressions=[value])


def format_strings(node: Any, exp: Any) -> Any:
    """format(f, args...) as DuckDB's printf, for the Java specifiers printf reads the same way
    (%s, %d, %%, %n; flags '-' and '0'; width; precision of %s). An argument shown with %s is
    Java's toString of it, which for a double or real is not DuckDB's text. Anything else
    (%f, %e, %x, %t..., grouping) is refused: Java rounds and groups differently."""
    pattern = node.this
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        refuse("format", "the format string must be a constant locally")
    args: List[Any] = list(node.expressions)
    text: List[str] = []
    shown_as: Dict[int, List[str]] = {}
    ordinary = -1
    last: Optional[int] = None
    pos = 0
    for m in _SPEC.finditer(pattern.this):
        index, flags, width, precision, conversion = m.groups()
        text.append(pattern.this[pos:m.start()])
        pos = m.end()
        if conversion == "%" and not (index or flags or width or precision):
            text.append("%%")
            continue
        if conversion == "n" and not (index or flags or width or precision):
            text.append("\n")
            continue
        if conversion not in ("s", "d") or set(flags or "") - {"-", "0", "<"} or (
                precision and conversion != "s"):
            refuse("format", f"the specifier {m.group(0)!r} formats differently in Java")
        if "<" in (flags or ""):
            at = last
        elif index:
            at = int(index) - 1
        else:
            ordinary += 1
            at = ordinary
        if at is None or not 0 <= at < len(args):
            raise UnsupportedSQLError(f"format: {m.group(0)!r} has no argument")
        last = at
        shown_as.setdefault(at, []).append(conversion)
        spec = (flags or "").replace("<", "") + (width or "") + (precision or "")
        text.append(f"%{at + 1}${spec}{conversion}")
    text.append(pattern.this[pos:])
    for at, used in shown_as.items():
        if all(c == "s" for c in used):
            args[at] = exp.Anonymous(this="__sp_java_str", expressions=[args[at]])
    return exp.Anonymous(this="printf", expressions=[exp.Literal.string("".join(text))] + args)
