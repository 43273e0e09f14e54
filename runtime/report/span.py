"""The report's range: whole exchange days (America/New_York), chosen on the command line and
independent of the window the last ingest used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from ..errors import ConfigError
from ..settings import EXCHANGE_TZ

# With no --days/--from/--to: everything published, back at most this far from the last bar.
DEFAULT_MAX_DAYS = 365
# Up to this many calendar days (20 sessions, about 320 hourly bars) the charts draw hourly
# bars; a longer range draws one candle per session, since hundreds of hourly candles are
# unreadable.
HOURLY_MAX_DAYS = 28


def _zone() -> ZoneInfo:
    return ZoneInfo(EXCHANGE_TZ)


def as_utc_naive(value) -> datetime:
    """A bar time from an engine (naive UTC, aware, or ISO text) as naive UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def exchange_day(utc_naive: datetime) -> date:
    """The exchange-time day a bar starting at `utc_naive` belongs to (its session)."""
    return utc_naive.replace(tzinfo=timezone.utc).astimezone(_zone()).date()


def _utc_of(day: date) -> datetime:
    """Midnight exchange time at the start of `day`, as naive UTC (DST-correct)."""
    local = datetime.combine(day, time(0), tzinfo=_zone())
    return local.astimezone(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class ReportRange:
    """Exchange days `first_day`..`last_day`, both whole; `how` says on the page how they were
    chosen."""

    first_day: date
    last_day: date
    how: str

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def daily(self) -> bool:
        """Draw one candle per session instead of hourly bars."""
        return self.days > HOURLY_MAX_DAYS

    @property
    def time_from(self) -> datetime:
        return _utc_of(self.first_day)

    @property
    def time_to(self) -> datetime:
        # The last second of the last day: the macros' BETWEEN is inclusive at both ends.
        return _utc_of(self.last_day + timedelta(days=1)) - timedelta(seconds=1)


def parse_day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise ConfigError(f"{flag} must be a date as YYYY-MM-DD, got {text!r}") from None


def resolve_range(
    first_bar: datetime,
    last_bar: datetime,
    days: Optional[int] = None,
    date_from: Optional[date] = None,
    date_to: Optional[date] = None,
) -> ReportRange:
    """The exchange days to report, clamped to the days that hold published bars.

    `days`: the last N days ending on the latest bar's day. `date_from`/`date_to`: those days
    (either may be left out: the data's first or last day). Neither: all published data, at most
    DEFAULT_MAX_DAYS."""
    if days is not None and (date_from is not None or date_to is not None):
        raise ConfigError("give either --days or --from/--to, not both")
    if days is not None and not 1 <= int(days) <= 3660:
        raise ConfigError(f"--days must be between 1 and 3660, got {days}")
    data_first, data_last = exchange_day(first_bar), exchange_day(last_bar)
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ConfigError(f"--from {date_from} is after --to {date_to}; swap them")
    if days is not None:
        first, last = data_last - timedelta(days=int(days) - 1), data_last
        how = f"the last {days} day{'s' if int(days) != 1 else ''} ending on the latest bar's day"
    elif date_from is not None or date_to is not None:
        first, last = date_from or data_first, date_to or data_last
        how = f"{first} to {last} as asked"
    else:
        first = max(data_first, data_last - timedelta(days=DEFAULT_MAX_DAYS - 1))
        last = data_last
        how = ("all published data" if first == data_first
               else f"the last {DEFAULT_MAX_DAYS} days of published data")
    clamped_first, clamped_last = max(first, data_first), min(last, data_last)
    if clamped_first > clamped_last:
        raise ConfigError(
            f"no published bars between {first} and {last}: the production view holds "
            f"{data_first} to {data_last} (exchange days, {EXCHANGE_TZ})"
        )
    if (clamped_first, clamped_last) != (first, last):
        how += f"; published data covers {data_first} to {data_last}"
    return ReportRange(clamped_first, clamped_last, how)
