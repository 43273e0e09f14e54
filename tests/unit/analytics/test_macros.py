"""runtime.macros must produce the Athena plugin's exact text.

Expected strings are the cases of grafana/athena-datasource pkg/athena/macros_test.go (time range
2021-06-23 00:00 to 01:00 UTC) plus the SDK defaults the plugin keeps ($__table, $__interval).
"""

from datetime import datetime, timedelta, timezone

import pytest

from runtime.errors import IdentifierError
from runtime.macros import (
    MacroContext,
    MacroError,
    expand_macros,
    expand_variables,
    format_interval,
    interpolate,
    parse_interval,
)

FROM = datetime(2021, 6, 23, 0, 0, 0)
TO = datetime(2021, 6, 23, 1, 0, 0)
CTX = MacroContext(FROM, TO)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("$__timeGroup(starttime, '1m')", "FROM_UNIXTIME(FLOOR(TO_UNIXTIME(starttime)/60)*60)"),
        (
            "$__timeGroup(starttime, '1m', 'yyyy-MM-dd HH:mm:ss')",
            "FROM_UNIXTIME(FLOOR(TO_UNIXTIME(TIMESTAMP starttime)/60)*60)",
        ),
        ("$__parseTime(starttime, 'yyyy-MM-dd HH:mm:ss')", "TIMESTAMP starttime"),
        (
            "$__timeFilter(starttime)",
            "starttime BETWEEN TIMESTAMP '2021-06-23 00:00:00' AND TIMESTAMP '2021-06-23 01:00:00'",
        ),
        (
            "$__timeFilter(starttime, 'yyyy-MM-dd HH:mm:ss')",
            "TIMESTAMP starttime BETWEEN TIMESTAMP '2021-06-23 00:00:00' "
            "AND TIMESTAMP '2021-06-23 01:00:00'",
        ),
        ("$__rawTimeFrom('yyyy/MM/dd/HH/mm/ss')", "'2021/06/23/00/00/00'"),
        ("$__rawTimeTo('yyyy/MM/dd/HH/mm/ss')", "'2021/06/23/01/00/00'"),
        ("$__timeFrom()", "TIMESTAMP '2021-06-23 00:00:00'"),
        ("$__timeTo()", "TIMESTAMP '2021-06-23 01:00:00'"),
        ("$__unixEpochFilter(time)", "time BETWEEN 1624406400 AND 1624410000"),
        ("$__unixEpochGroup(time, 5m)", "FROM_UNIXTIME(FLOOR(time/300)*300)"),
        ("$__dateFilter(day)", "day BETWEEN date '2021-06-23' AND date '2021-06-23'"),
        ("$__timeGroup(bar_time, '1h')", "FROM_UNIXTIME(FLOOR(TO_UNIXTIME(bar_time)/3600)*3600)"),
    ],
)
def test_macro_expands_to_the_plugins_exact_text(sql, expected):
    assert expand_macros(sql, CTX) == expected


def test_timefrom_without_brackets_expands_like_with_empty_brackets():
    assert expand_macros("SELECT $__timeFrom", CTX) == "SELECT TIMESTAMP '2021-06-23 00:00:00'"


def test_aware_times_are_rendered_in_utc():
    new_york = timezone(timedelta(hours=-4))
    ctx = MacroContext(datetime(2021, 6, 22, 20, 0, tzinfo=new_york), TO)
    assert expand_macros("$__timeFrom()", ctx) == "TIMESTAMP '2021-06-23 00:00:00'"


def test_unix_epoch_filter_is_in_seconds_not_milliseconds():
    out = expand_macros("$__unixEpochFilter(bar_time_ms / 1000)", CTX)
    assert out == "bar_time_ms / 1000 BETWEEN 1624406400 AND 1624410000"


def test_nested_brackets_stay_inside_one_argument():
    out = expand_macros("$__timeFilter(date_add('hour', 1, t))", CTX)
    assert out.startswith("date_add('hour', 1, t) BETWEEN TIMESTAMP '2021-06-23 00:00:00'")


def test_every_occurrence_of_a_macro_is_replaced():
    out = expand_macros("a = $__timeFrom() OR b = $__timeFrom()", CTX)
    assert out == "a = TIMESTAMP '2021-06-23 00:00:00' OR b = TIMESTAMP '2021-06-23 00:00:00'"


def test_table_column_and_interval_defaults_come_from_the_context():
    ctx = MacroContext(FROM, TO, interval=timedelta(minutes=30), table="t1", column="c1")
    out = expand_macros("SELECT $__column FROM $__table -- $__interval $__interval_ms", ctx)
    assert out == "SELECT c1 FROM t1 -- 30m 1800000"


def test_unclosed_macro_bracket_is_an_error():
    with pytest.raises(MacroError, match="no closing bracket"):
        expand_macros("$__timeFilter(bar_time", CTX)


def test_time_filter_without_column_is_an_error():
    with pytest.raises(MacroError, match=r"\$__timeFilter needs the time column"):
        expand_macros("$__timeFilter()", CTX)


def test_unknown_macro_is_named_in_the_error():
    with pytest.raises(MacroError, match=r"unknown macro \$__timeBucket"):
        expand_macros("$__timeBucket(t)", CTX)


def test_reversed_time_range_is_an_error():
    with pytest.raises(MacroError, match="before it starts"):
        MacroContext(TO, FROM)


@pytest.mark.parametrize(
    ("text", "seconds"), [("'1h'", 3600), ("5m", 300), ("1d", 86400), ("500ms", 0.5)]
)
def test_parse_interval_reads_grafana_units(text, seconds):
    assert parse_interval(text).total_seconds() == seconds


def test_format_interval_uses_the_largest_whole_unit():
    assert [format_interval(timedelta(seconds=s)) for s in (3600, 90, 172800, 0.25)] == [
        "1h", "1m", "2d", "250ms",
    ]


@pytest.mark.parametrize(
    "sql", ["t = '$ticker'", "t = '${ticker}'", "t = '${ticker:raw}'", "t = '[[ticker]]'"]
)
def test_ticker_variable_forms_are_replaced_with_the_upper_case_symbol(sql):
    assert expand_variables(sql, {"ticker": "aapl"}) == "t = 'AAPL'"


def test_ticker_value_that_could_break_the_literal_is_refused():
    with pytest.raises(IdentifierError, match="not a valid symbol"):
        expand_variables("t = '$ticker'", {"ticker": "X' OR '1'='1"})


def test_other_variables_accept_only_safe_values():
    assert expand_variables("p = '$region'", {"region": "eu-west-1"}) == "p = 'eu-west-1'"
    with pytest.raises(IdentifierError, match=r"\$region"):
        expand_variables("p = '$region'", {"region": "a;b"})


def test_missing_variable_value_is_an_error_naming_it():
    with pytest.raises(MacroError, match=r"\$ticker but no value"):
        expand_variables("t = '$ticker'", {})


def test_interpolate_replaces_variables_then_macros():
    sql = "SELECT * FROM v WHERE ticker = '$ticker' AND $__timeFilter(bar_time)"
    out = interpolate(sql, FROM, TO, {"ticker": "MSFT"})
    assert out == (
        "SELECT * FROM v WHERE ticker = 'MSFT' AND bar_time BETWEEN "
        "TIMESTAMP '2021-06-23 00:00:00' AND TIMESTAMP '2021-06-23 01:00:00'"
    )


def test_a_multi_value_ticker_becomes_a_quoted_list_as_grafana_formats_singlequote():
    sql = expand_variables("ticker IN (${ticker:singlequote})", {"ticker": ["aapl", "BRK.B"]})
    assert sql == "ticker IN ('AAPL','BRK.B')"


def test_a_multi_value_variable_without_singlequote_is_an_error_naming_the_fix():
    with pytest.raises(MacroError, match=r"\$\{ticker:singlequote\}"):
        expand_variables("ticker = '$ticker'", {"ticker": ["AAPL", "MSFT"]})


def test_every_value_of_a_multi_value_ticker_is_validated():
    with pytest.raises(IdentifierError):
        expand_variables("ticker IN (${ticker:singlequote})", {"ticker": ["AAPL", "X' OR 1=1"]})


def test_an_empty_multi_value_variable_is_an_error():
    with pytest.raises(MacroError, match="no values"):
        expand_variables("ticker IN (${ticker:singlequote})", {"ticker": []})
