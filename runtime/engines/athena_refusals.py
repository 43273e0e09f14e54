"""What the local engine refuses because its answer would differ from Athena's (Trino's).

A silent wrong answer is the worst outcome for an analyst, so a function or operator whose
DuckDB result differs from Trino's, and that the rewrites in trino_functions cannot make exact,
raises DiffersFromAthenaError naming it. docs/sql-conformance.md lists these refusals and why.
"""

from __future__ import annotations

from typing import Any, NoReturn

from ..errors import DiffersFromAthenaError

# Functions whose DuckDB namesake exists but answers differently from Trino; checked on the
# parsed tree (sqlglot Anonymous nodes, by lower-case name).
REFUSED_FUNCTIONS = {
    "from_unixtime_nanos": "DuckDB has no nanosecond timestamps",
    "from_iso8601_timestamp_nanos": "DuckDB has no nanosecond timestamps",
    "parse_duration": "Athena's interval type has no DuckDB equivalent",
    "human_readable_seconds": "not available locally",
    "levenshtein_distance": "DuckDB counts differently for some inputs",
}


def refuse(function: str, why: str) -> NoReturn:
    """Raise the refusal for `function`: named, said to differ from Athena, with the reason."""
    raise DiffersFromAthenaError(
        f"{function}: the local engine's answer differs from Athena here ({why}); "
        "run this statement on Athena, or rewrite that part of it"
    )


def check(node: Any, exp: Any) -> None:
    """Refuse `node` when it is on the list above."""
    if isinstance(node, exp.Anonymous):
        why = REFUSED_FUNCTIONS.get(node.name.lower())
        if why:
            refuse(node.name.lower(), why)
