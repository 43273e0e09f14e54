"""Windows of exchange dates: which dates (America/New_York) a run asks the source for, and the
window a quality run checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterator, Optional, Tuple
from zoneinfo import ZoneInfo

from .errors import ConfigError
from .settings import EXCHANGE_TZ


def exchange_tz():
    """America/New_York as a tzinfo (zoneinfo; the `tzdata` wheel covers hosts without one)."""
    return ZoneInfo(EXCHANGE_TZ)


def as_utc(moment: datetime) -> datetime:
    """`moment` with UTC as its zone when it has none (a naive datetime is taken as UTC)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class Window:
    """Inclusive range of exchange dates; `str(w.start)` is the API's YYYY-MM-DD."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ConfigError(f"window start {self.start} is after its end {self.end}")

    @property
    def days(self) -> int:
        """Calendar dates covered, both ends included."""
        return (self.end - self.start).days + 1

    def dates(self) -> Iterator[date]:
        d = self.start
        while d <= self.end:
            yield d
            d += timedelta(days=1)


def exchange_today(now_utc: datetime) -> date:
    """The calendar date in New York at `now_utc` (a naive datetime is taken as UTC)."""
    return as_utc(now_utc).astimezone(exchange_tz()).date()


def ingest_window(now_utc: datetime, days: int, end_date: Optional[date] = None) -> Window:
    """end = `end_date` or yesterday in New York; start = end - `days` (the `--days` option)."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigError(f"days must be a whole number of at least 1, got {days!r}")
    today = exchange_today(now_utc)
    if end_date is None:
        # The last *complete* exchange day: at 01:00 UTC it is still the previous evening in
        # New York, so "yesterday" must be taken there, not in UTC.
        end = today - timedelta(days=1)
    else:
        if isinstance(end_date, datetime) or not isinstance(end_date, date):
            raise ConfigError(f"end date must be a date (YYYY-MM-DD), got {end_date!r}")
        if end_date > today:
            raise ConfigError(
                f"end date {end_date} is in the future (today in New York is {today}); "
                "pick today or an earlier date"
            )
        end = end_date
    return Window(start=end - timedelta(days=days), end=end)


def parse_date(value: object, what: str = "end date") -> date:
    """'2026-11-27' -> date(2026, 11, 27), or ConfigError naming the value."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"{what} must be YYYY-MM-DD, got {value!r}") from None


def parse_window_day(value: object) -> Optional[date]:
    """A raw `window_from`/`window_to` (YYYY-MM-DD..., or Unix ms) -> date; None if unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=timezone.utc).date()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def default_window(now: datetime, days: int) -> Tuple[date, date]:
    """The window a run with no recorded request window covers: the last `days` days."""
    end = as_utc(now).date()
    return end - timedelta(days=days), end
