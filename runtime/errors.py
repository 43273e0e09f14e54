"""Every error stockpipe raises on purpose: small, specific classes whose message says what was
wrong, with which value, and what to do."""

from __future__ import annotations

import re
from typing import Optional


class StockpipeError(Exception):
    """Base of all stockpipe errors; the CLI prints its message as a one-line cause."""

    exit_code = 1


class ConfigError(StockpipeError):
    """A setting, environment variable or argument has an invalid value."""


class IdentifierError(ConfigError):
    """A ticker, table, column or database name is not safe to place into a URL or SQL."""


class StorageError(StockpipeError):
    """Reading or writing the lake failed."""


class EngineError(StockpipeError):
    """The SQL engine refused or failed a statement."""

    def __init__(
        self, message: str, query_id: Optional[str] = None, error_name: Optional[str] = None
    ):
        super().__init__(message)
        self.query_id = query_id
        self.error_name = error_name


class AthenaQueryError(EngineError):
    """An Athena query ended FAILED or CANCELLED; carries the StateChangeReason and query id."""


class UnsupportedSQLError(EngineError):
    """The local engine cannot honour a statement or property: it refuses, never drops it."""


class DiffersFromAthenaError(UnsupportedSQLError):
    """The local engine would answer this function or operator differently from Athena, so it
    refuses instead; the message names the function and what to do."""


class SourceError(StockpipeError):
    """The market-data source (Polygon or demo) failed or answered something unexpected."""


class AuthError(SourceError):
    """The Polygon API key is missing, wrong, or not entitled to the data."""


class DeliveryError(StockpipeError):
    """Records could not be delivered to Firehose or the local sink after retries."""


class PackagingError(StockpipeError):
    """A deployment artifact (Lambda zip, Glue wheel) cannot be built from what is on disk."""


class QualityCheckFailed(StockpipeError):
    """A blocking data-quality check failed; nothing was published."""

    exit_code = 3


# Athena/Glue names: lower case letters, digits and underscore (Glue lower-cases names anyway);
# 255 is Glue's limit for table names, 128 keeps us clear of every other limit.
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_MAX_IDENT = 128
# Tickers: upper-case letters, digits, dot and hyphen (BRK.B, BF-B); Polygon also uses a
# prefix like "X:" or "I:" for crypto and indices.
_TICKER = re.compile(r"^(?:[A-Z]{1,2}:)?[A-Z0-9][A-Z0-9.\-]{0,15}$")


def validate_identifier(value: object, what: str = "identifier") -> str:
    """Return `value` if it is a safe Athena/Glue identifier; else IdentifierError naming it."""
    if not isinstance(value, str) or not value:
        raise IdentifierError(f"{what} must be a non-empty name, got {value!r}")
    if len(value) > _MAX_IDENT:
        raise IdentifierError(
            f"{what} {value[:40]!r}... is {len(value)} characters; the limit is {_MAX_IDENT}"
        )
    if not _IDENT.match(value):
        raise IdentifierError(
            f"{what} {value!r} is not allowed: use lower-case letters, digits and underscores, "
            "starting with a letter or underscore"
        )
    return value


def validate_ticker(value: object) -> str:
    """Return the ticker upper-cased if it is safe for a URL path, SQL literal and file name."""
    if not isinstance(value, str) or not value.strip():
        raise IdentifierError(f"ticker must be a non-empty symbol, got {value!r}")
    ticker = value.strip().upper()
    if not _TICKER.match(ticker):
        raise IdentifierError(
            f"ticker {value!r} is not a valid symbol: use letters, digits, '.' or '-' "
            "(e.g. AAPL, BRK.B), at most 16 characters"
        )
    return ticker
