"""Did today's production copy get published? The daily watchdog behind the "nothing published
by 13:00 on a trading day" alarm.

CloudWatch cannot evaluate an alarm at a time of day, and a metric the publish step emits says
nothing on a day the workflow never ran. So a schedule invokes this check at the deadline on
weekdays; on an XNYS session without a production table stamped that day (New York date) it
raises, and the alarm on the check function's errors notifies. Plain boto3 and runtime.xnys:
it runs in the ingest Lambda's package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, List, Optional

from . import xnys
from .errors import StockpipeError, validate_identifier


class PublicationMissing(StockpipeError):
    """No production copy was published on a trading day by the deadline."""


@dataclass(frozen=True)
class PublicationStatus:
    day: date
    trading_day: bool
    newest_table: Optional[str]
    published_today: bool

    def to_dict(self) -> dict:
        return {"day": self.day.isoformat(), "trading_day": self.trading_day,
                "newest_table": self.newest_table, "published_today": self.published_today}


def production_tables(glue: Any, database: str, table_prefix: str) -> List[str]:
    """Names of the timestamped production copies (`<prefix>_prod_YYYYMMDD_HHMMSS`), sorted."""
    validate_identifier(database, "database")
    validate_identifier(table_prefix, "table prefix")
    pattern = re.compile(rf"^{re.escape(table_prefix)}_prod_\d{{8}}_\d{{6}}$")
    names: List[str] = []
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
        names += [t["Name"] for t in page.get("TableList", []) if pattern.match(t["Name"])]
    return sorted(names)


def stamp_of(table: str) -> datetime:
    """The UTC moment in a production table's name."""
    return datetime.strptime(table[-15:], "%Y%m%d_%H%M%S").replace(tzinfo=timezone.utc)


def check_publication(glue: Any, database: str, table_prefix: str,
                      now: Optional[datetime] = None) -> PublicationStatus:
    """Raise PublicationMissing when `now`'s New York date is a session without a copy."""
    now = now or datetime.now(timezone.utc)
    day = xnys.new_york_date(now)
    tables = production_tables(glue, database, table_prefix)
    newest = tables[-1] if tables else None
    published = newest is not None and xnys.new_york_date(stamp_of(newest)) == day
    status = PublicationStatus(day, xnys.is_session(day), newest, published)
    if status.trading_day and not published:
        raise PublicationMissing(
            f"no production copy of {database}.{table_prefix} published on trading day {day} "
            f"(America/New_York) by the deadline; newest is {newest or 'none'}. Check the "
            "Glue workflow run and the quality results"
        )
    return status
