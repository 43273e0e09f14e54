"""Check discovery: every check file, with the severity its header declares."""

from __future__ import annotations

from runtime import checks


def test_every_design_check_has_a_file_with_its_severity():
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
