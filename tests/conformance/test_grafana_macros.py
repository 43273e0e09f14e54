"""runtime.macros expands every macro case of the Grafana Athena plugin's own tests (and the SDK
defaults the plugin keeps) to the plugin's exact text; and $__rawTimeFrom/$__rawTimeTo format
Java patterns as the plugin's Go code does (viant/toolbox layout, then Go's time.Format)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from runtime.macros import MacroError, interpolate

CASES = [
    line.split("\t")
    for line in (Path(__file__).parent / "grafana_macro_cases.tsv").read_text().splitlines()
    if line and not line.startswith("#") and not line.startswith("sql\t")
]
FROM = datetime(2021, 6, 23, 0, 0, tzinfo=timezone.utc)
TO = datetime(2021, 6, 23, 1, 0, tzinfo=timezone.utc)


def expand(sql, time_from=FROM, time_to=TO):
    return interpolate(sql, time_from, time_to, interval=timedelta(minutes=10),
                       table="my_table", column="my_col")


@pytest.mark.parametrize("sql, expected, source", CASES, ids=[c[2] for c in CASES])
def test_plugin_macro_case_expands_to_the_plugins_text(sql, expected, source):
    if expected == "ERROR":
        with pytest.raises(MacroError):
            expand(sql)
        return
    assert expand(sql) == expected


@pytest.mark.parametrize(
    "pattern, expected",
    [
        # toolbox: SSS -> 000, read by Go as milliseconds after a '.'.
        ("'yyyy-MM-dd HH:mm:ss.SSS'", "'2021-06-23 13:04:05.123'"),
        # hh -> 03 (12-hour, padded), a -> pm (Go writes lower-case am/pm).
        ("'hh:mm a'", "'01:04 pm'"),
        # z -> MST, Go's zone abbreviation: UTC for the plugin's UTC times.
        ("'yyyy-MM-dd HH:mm z'", "'2021-06-23 13:04 UTC'"),
        ("'EEEE d MMM yyyy'", "'Wednesday 23 Jun 2021'"),
        # toolbox replaces the first 'd' only: 'dd' and then the rest stays literal.
        ("'yyyyMMdd'", "'20210623'"),
    ],
)
def test_raw_time_patterns_follow_the_plugins_go_layout(pattern, expected):
    start = datetime(2021, 6, 23, 13, 4, 5, 123000, tzinfo=timezone.utc)

    assert expand(f"$__rawTimeFrom({pattern})", start, start + timedelta(hours=1)) == expected
