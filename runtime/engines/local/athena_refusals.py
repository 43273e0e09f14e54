"""What the local engine refuses because its answer would differ from Athena's (Trino's).

A silent wrong answer is the worst outcome for an analyst, so a function or operator whose
DuckDB result differs from Trino's, and that the rewrites in trino_functions cannot make exact,
raises DiffersFromAthenaError naming it. docs/sql-conformance.md lists these refusals and why.
"""

from __future__ import annotations

from typing import Any, NoReturn, Optional

from ...errors import DiffersFromAthenaError

# Functions whose DuckDB namesake exists but answers differently from Trino; checked on the
# parsed tree (sqlglot Anonymous nodes, by lower-case name).
REFUSED_FUNCTIONS = {
    "from_unixtime_nanos": "DuckDB has no nanosecond timestamps",
    "from_iso8601_timestamp_nanos": "DuckDB has no nanosecond timestamps",
    "parse_duration": "Athena's interval type has no DuckDB equivalent",
    "human_readable_seconds": "not available locally",
}


# Marks an error raised by DuckDB while reading rows (SQL error('...')) for a value the engine
# would read differently from Athena; the engine turns it into DiffersFromAthenaError.
RUNTIME_REFUSAL = "[differs from Athena] "


def from_engine_error(message: str) -> Optional[DiffersFromAthenaError]:
    """The refusal carried by a DuckDB error message, if it is one."""
    at = message.find(RUNTIME_REFUSAL)
    if at < 0:
        return None
    what = message[at + len(RUNTIME_REFUSAL):].split("\n")[0]
    function, _, why = what.partition(": ")
    try:
        refuse(function, why or "this value")
    except DiffersFromAthenaError as exc:
        return exc
    return None


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
