"""The XNYS exchange calendar behind the calendar checks: the last completed session, when a
session starts, and the hour bars a session should have. exchange_calendars and pandas are
imported where used (they are not on the Lambda path)."""

from __future__ import annotations

from datetime import date, datetime
from typing import List

from .errors import ConfigError
from .window import as_utc

EXCHANGE = "XNYS"


def _calendar():
    import exchange_calendars as xcals

    return xcals.get_calendar(EXCHANGE)


def last_completed_session(now: datetime) -> date:
    """The latest XNYS session whose close is at or before `now`."""
    import pandas as pd

    cal = _calendar()
    now_ts = pd.Timestamp(as_utc(now))
    start = max(pd.Timestamp(now_ts.date()) - pd.Timedelta(days=20), cal.first_session)
    end = min(pd.Timestamp(now_ts.date()), cal.last_session)
    for session in reversed(cal.sessions_in_range(start, end)):
        if cal.session_close(session) <= now_ts:
            return session.date()
    raise ConfigError(f"no completed {EXCHANGE} session in the 20 days before {now.isoformat()}")


def session_start_utc(session: date) -> datetime:
    """00:00 America/New_York on `session`, as naive UTC (the freshness threshold)."""
    import pandas as pd

    local = pd.Timestamp(session.isoformat()).tz_localize("America/New_York")
    return local.tz_convert("UTC").tz_localize(None).to_pydatetime()


def expected_session_hours(first: date, last: date, now: datetime) -> List[datetime]:
    """Start (naive UTC) of every hour bar overlapping the regular session of each completed
    XNYS session from `first` to `last`: 09:00-15:00 ET on a full day, 09:00-12:00 ET on a
    13:00 early close. Holidays and weekends give none."""
    import pandas as pd

    cal = _calendar()
    now_ts = pd.Timestamp(as_utc(now))
    start = max(pd.Timestamp(first), cal.first_session)
    end = min(pd.Timestamp(last), cal.last_session)
    out: List[datetime] = []
    if start > end:
        return out
    for session in cal.sessions_in_range(start, end):
        close = cal.session_close(session)
        if close > now_ts:
            continue
        hour = cal.session_open(session).tz_convert("America/New_York").floor("h")
        while hour < close:
            out.append(hour.tz_convert("UTC").tz_localize(None).to_pydatetime())
            hour = hour + pd.Timedelta(hours=1)
    return out
