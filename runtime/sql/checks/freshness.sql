-- severity: warning
-- Tickers whose latest bar starts before the last completed XNYS trading day (or that have no
-- bar at all). ${fresh_since} is that session's date at 00:00 America/New_York, in UTC,
-- computed in Python from the exchange calendar. Bars after ${checked_at} (when quality ran)
-- are left out: a future-dated bar is not fresh data (bar_time_range fails it). Only partitions
-- from ${recent_day} (no earlier than that session's exchange date) can hold such a bar, so
-- the older ones are not read.
SELECT count(*) AS failing_rows
FROM (VALUES ${expected_tickers}) AS expected (ticker)
LEFT JOIN (
  SELECT ticker, max(bar_time) AS latest
  FROM ${sans_dup_table}
  WHERE bar_time <= TIMESTAMP '${checked_at}'
    AND ${partition_column} >= '${recent_day}'
  GROUP BY ticker
) seen ON seen.ticker = expected.ticker
WHERE expected.ticker IS NOT NULL
  AND (seen.latest IS NULL OR seen.latest < TIMESTAMP '${fresh_since}')
