"""How long the daily ingest takes, so the Lambda's timeout is never shorter, and how to split
the tickers into batches (one invocation each) when one invocation would pass Lambda's 15 minutes.

The free tier allows 5 requests a minute: ticker 6 waits a full minute for the window to slide.
The client (runtime.polygon) sends at most `capacity` requests in any `period` seconds, so N
requests need (ceil(N / capacity) - 1) periods of waiting plus the responses of the last window.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import List, Sequence, Tuple

from runtime.splits import TICKERS_PER_REQUEST

LAMBDA_MAX_TIMEOUT = 900  # Lambda's hard limit, seconds
# One hourly page is built from at most 50,000 base minute bars (the API's `limit`), and a
# trading day has at most 960 minutes with trades (04:00-20:00 ET): a 7-day window is 1 page.
MINUTE_BARS_PER_DAY = 960
PAGE_LIMIT = 50_000
RETRY_BUDGET = 2  # retried requests per invocation the timeout leaves room for
RESPONSE_SECONDS = 5.0  # allowance for one response (typically well under 1 s)
# Cold start, the Secrets Manager read, Firehose delivery of the batch and any rejects.
FIXED_SECONDS = 30.0
# After a batch's last request the next batch waits out the rate window and a margin.
BATCH_GAP_SECONDS = 60
_SIMPLE_CRON = re.compile(r"^cron\((\d{1,2}) (\d{1,2}) (.+)\)$")


@dataclass(frozen=True)
class IngestPlan:
    """The tickers split into batches, each one Lambda invocation `timeout` seconds long."""

    batches: Tuple[Tuple[str, ...], ...]
    timeout: int
    """The Lambda timeout: the configured one, or the minimum the largest batch needs."""
    minimum: int
    """The seconds the largest batch needs (the shortest acceptable timeout)."""

    @property
    def slot_minutes(self) -> int:
        """Minutes between the starts of consecutive batches."""
        return math.ceil((self.timeout + BATCH_GAP_SECONDS) / 60)


def pages_per_ticker(window_days: int) -> int:
    return max(1, math.ceil(window_days * MINUTE_BARS_PER_DAY / PAGE_LIMIT))


def required_seconds(tickers: int, rate_limit_per_min: float, window_days: int) -> int:
    """Seconds one invocation needs for `tickers` tickers with the retry budget."""
    # plus the splits request(s): one per TICKERS_PER_REQUEST tickers (runtime.splits)
    requests = (
        tickers * pages_per_ticker(window_days)
        + math.ceil(tickers / TICKERS_PER_REQUEST)
        + RETRY_BUDGET
    )
    # Mirrors runtime.polygon.RateLimiter: 7.5/min becomes 7 per 56 s, 0.5/min 1 per 120 s.
    capacity = max(1, int(rate_limit_per_min))
    period = capacity * 60.0 / rate_limit_per_min
    windows = math.ceil(requests / capacity)
    paced = (windows - 1) * period + min(requests, capacity) * RESPONSE_SECONDS
    unpaced = requests * RESPONSE_SECONDS  # a fast limit: the responses themselves bound it
    # The client's backoff before retries 1, 2, ...: 1 s, 2 s, ... (backoff_base 1, doubling).
    backoff = sum(2 ** i for i in range(RETRY_BUDGET))
    return math.ceil(max(paced, unpaced) + backoff + FIXED_SECONDS)


def plan_ingest(
    tickers: Sequence[str], rate_limit_per_min: float, window_days: int,
    configured_timeout: int = 0, limit: int = LAMBDA_MAX_TIMEOUT,
) -> IngestPlan:
    """Batches that each fit in `limit` seconds; raise ValueError naming the minimum when
    `configured_timeout` (0 = use the minimum) is shorter than a batch needs."""
    if not tickers:
        raise ValueError("no tickers to ingest; name at least one, e.g. AAPL")
    n = len(tickers)
    size = n
    while size and required_seconds(size, rate_limit_per_min, window_days) > limit:
        size -= 1
    if size == 0:
        raise ValueError(
            f"one ticker needs {required_seconds(1, rate_limit_per_min, window_days)} s at "
            f"{rate_limit_per_min:g} requests/minute over {window_days} days, more than "
            f"Lambda's {limit} s; shorten windowDays or raise rateLimitPerMin"
        )
    count = math.ceil(n / size)
    per = math.ceil(n / count)  # as even as possible: 70 tickers in 2 batches of 35
    batches = tuple(tuple(tickers[i:i + per]) for i in range(0, n, per))
    minimum = required_seconds(max(len(b) for b in batches), rate_limit_per_min, window_days)
    if configured_timeout and configured_timeout < minimum:
        raise ValueError(
            f"lambdaTimeout {configured_timeout} s is below the {minimum} s minimum: "
            f"{max(len(b) for b in batches)} ticker(s) per invocation at "
            f"{rate_limit_per_min:g} requests/minute with {RETRY_BUDGET} retries; set at "
            f"least {minimum}, or 0 to use the minimum"
        )
    if configured_timeout > limit:
        raise ValueError(f"lambdaTimeout {configured_timeout} s is above Lambda's {limit} s")
    return IngestPlan(batches, configured_timeout or minimum, minimum)


def _clock(expression: str) -> Tuple[int, str]:
    """(minutes after midnight, the other fields) of a cron with a fixed minute and hour."""
    m = _SIMPLE_CRON.match(expression.strip())
    if not m or int(m.group(1)) > 59 or int(m.group(2)) > 23:
        raise ValueError(
            f"{expression!r} has no fixed minute and hour (like cron(0 11 * * ? *)); split "
            "ingests are scheduled minutes apart, so give the ingest such a schedule"
        )
    return int(m.group(2)) * 60 + int(m.group(1)), m.group(3)


def batch_schedules(expression: str, plan: IngestPlan) -> List[str]:
    """One schedule expression per batch, `plan.slot_minutes` apart, so two batches never share
    the API's rate window. A single batch keeps `expression` as it is (rate() too)."""
    if len(plan.batches) == 1:
        return [expression]
    start, rest = _clock(expression)
    out = []
    for i in range(len(plan.batches)):
        at = start + i * plan.slot_minutes
        if at >= 24 * 60:
            raise ValueError(
                f"{len(plan.batches)} ingest batches {plan.slot_minutes} min apart from "
                f"{expression} run past midnight; start the ingest earlier"
            )
        out.append(f"cron({at % 60} {at // 60} {rest})")
    return out


def check_workflow_after_ingest(ingest: str, workflow: str, plan: IngestPlan,
                                delivery_seconds: int) -> None:
    """Refuse a workflow schedule that starts before the last batch has landed in S3 (its end
    plus Firehose's buffer). Only for crons with a fixed time and the same day fields."""
    try:
        (start, days), (wf, wf_days) = _clock(ingest), _clock(workflow)
    except ValueError:
        return  # other expressions: the user owns the ordering (documented)
    if days != wf_days:
        return
    last_start = start + (len(plan.batches) - 1) * plan.slot_minutes
    landed = last_start + math.ceil((plan.timeout + delivery_seconds) / 60)
    if wf < landed:
        raise ValueError(
            f"workflowSchedule {workflow} starts before the ingest has landed: "
            f"{len(plan.batches)} batch(es) of up to {plan.timeout} s from {ingest} end by "
            f"{landed // 60:02d}:{landed % 60:02d}; start the workflow at or after that"
        )
