"""Check discovery: every check file, with the severity and description its header declares."""

from __future__ import annotations

from runtime import checks


def test_every_documented_check_has_a_file_with_its_severity():
    found = {c.name: c.severity for c in checks.all_checks()}
    assert found == {
        "bar_time_range": "error",
        "duplicate_keys": "error",
        "duplicate_rows": "error",
        "empty_table": "error",
        "freshness": "warning",
        "missing_session_hours": "warning",
        "negative_values": "error",
        "non_finite_values": "error",
        "null_values": "error",
        "ohlc_consistency": "error",
        "raw_parquet_row_count": "error",
        "splits_applied": "warning",
        "unexplained_split_jump": "error",
        "ticker_format": "error",
        "zero_values": "error",
    }


def test_each_check_describes_itself_in_its_sql_header():
    found = {c.name: c.description for c in checks.all_checks()}
    missing = sorted(name for name, text in found.items() if len(text) < 20)
    assert not missing, f"checks without a description comment under '-- severity:': {missing}"
    assert found["negative_values"] == (
        "A negative price, volume or trade count is impossible in a real bar; counts such rows.")
    # A description spanning several comment lines is read as one text.
    assert found["empty_table"].startswith("An empty deduplicated table must never become the "
                                           "production copy: a run that brought no bars")
