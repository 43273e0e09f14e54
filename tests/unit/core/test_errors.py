"""Identifier and ticker validation: nothing unsafe reaches a URL, SQL or a file name."""

import pytest

from runtime.errors import IdentifierError, validate_identifier, validate_ticker


@pytest.mark.parametrize(
    "name", ["stock_aggregates", "stock_aggregate_prod_20261129_120000", "_t1"]
)
def test_valid_identifiers_pass_unchanged(name):
    assert validate_identifier(name) == name


@pytest.mark.parametrize(
    "name, match",
    [
        ("x; drop", "'x; drop' is not allowed"),
        ("", "non-empty"),
        ("a" * 129, "129 characters"),
        ("Upper", "'Upper' is not allowed"),
        ("1abc", "'1abc' is not allowed"),
        ("a-b", "'a-b' is not allowed"),
        (None, "non-empty"),
    ],
)
def test_bad_identifiers_are_rejected_naming_the_value(name, match):
    with pytest.raises(IdentifierError, match=match):
        validate_identifier(name, "table name")


@pytest.mark.parametrize(
    "raw, expected",
    [("aapl", "AAPL"), (" BRK.B ", "BRK.B"), ("bf-b", "BF-B"), ("X:BTCUSD", "X:BTCUSD")],
)
def test_tickers_are_normalised(raw, expected):
    assert validate_ticker(raw) == expected


@pytest.mark.parametrize("raw", ["AA PL", "AAPL'", "../x", "A/B", "", "TOOLONGTICKERSYMBOL1"])
def test_unsafe_tickers_are_rejected(raw):
    with pytest.raises(IdentifierError):
        validate_ticker(raw)
