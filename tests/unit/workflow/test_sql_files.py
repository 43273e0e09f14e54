"""SQL files and the literals Python places into them: rendering guards, slots, value lists."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from runtime import sql_files
from runtime.errors import ConfigError, IdentifierError


def test_render_refuses_a_missing_slot():
    with pytest.raises(ConfigError, match="needs a value for 'table'"):
        sql_files.render("count_rows.sql")


def test_render_fills_identifiers():
    rendered = sql_files.render("count_rows.sql", table="t_x")
    assert rendered == "SELECT count(*) AS row_count FROM t_x"


def test_slots_lists_braced_and_bare_names_but_not_escaped_dollars(monkeypatch):
    monkeypatch.setattr(
        sql_files, "sql_text", lambda name: "SELECT $a, ${b}, '$$c', ${b} FROM ${table}"
    )
    assert sql_files.slots("any.sql") == {"a", "b", "table"}


def test_slots_of_the_calendar_checks():
    assert sql_files.slots("checks/freshness.sql") == {
        "fresh_since", "sans_dup_table", "expected_tickers", "checked_at", "partition_column",
        "recent_day",
    }
    assert "expected_hours" in sql_files.slots("checks/missing_session_hours.sql")
    assert sql_files.slots("checks/zero_values.sql") == {"sans_dup_table"}


@pytest.mark.parametrize("uri", ["s3://b/x'; DROP TABLE y; --/", "/tmp/a\\b/", "", "/tmp/a\nb/"])
def test_sql_uri_refuses_quotes_and_control_characters(uri):
    with pytest.raises(ConfigError):
        sql_files.sql_uri(uri)


def test_ticker_values_keep_dots_and_end_with_a_null_row():
    assert sql_files.ticker_values(["AAPL", "BRK.B"]) == (
        "('AAPL'), ('BRK.B'), (CAST(NULL AS varchar))"
    )


def test_ticker_values_refuse_a_quote():
    with pytest.raises(IdentifierError):
        sql_files.ticker_values(["AA'PL"])


def test_timestamp_literal_converts_aware_times_to_utc():
    moment = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    assert sql_files.timestamp_literal(moment) == "2026-11-20 09:00:00.000"
    assert sql_files.hour_values([datetime(2026, 11, 20, 14)]) == (
        "(TIMESTAMP '2026-11-20 14:00:00.000'), (CAST(NULL AS timestamp))"
    )
    assert sql_files.hour_values([]) == "(CAST(NULL AS timestamp))"


def test_timestamp_literal_of_a_whole_second_still_has_milliseconds():
    # TIMESTAMP '... 12:00:05' is timestamp(0), which Athena's CTAS refuses to write.
    whole = datetime(2026, 11, 21, 12, 0, 5, tzinfo=timezone.utc)
    assert sql_files.timestamp_literal(whole) == "2026-11-21 12:00:05.000"
    under_a_ms = datetime(2026, 11, 21, 12, 0, 5, 999)
    assert sql_files.timestamp_literal(under_a_ms) == "2026-11-21 12:00:05.000"


def test_timestamp_literal_keeps_milliseconds_only():
    moment = datetime(2026, 11, 21, 12, 0, 5, 123456, tzinfo=timezone.utc)
    assert sql_files.timestamp_literal(moment) == "2026-11-21 12:00:05.123"
