-- severity: warning
-- Regular-session hours (bar starts, UTC) of the completed XNYS sessions in the latest ingest
-- window, computed in Python from the exchange calendar (holidays and early closes included),
-- for which a ticker has no bar. The NULL rows keep each VALUES list valid when it is empty.
-- Only partitions from ${recent_day} (no later than the first of those hours' exchange date)
-- can hold those bars, so the older ones are not read.
SELECT count(*) AS failing_rows
FROM (VALUES ${expected_tickers}) AS expected (ticker)
CROSS JOIN (VALUES ${expected_hours}) AS hours (bar_time)
LEFT JOIN (
  SELECT ticker, bar_time
  FROM ${sans_dup_table}
  WHERE ${partition_column} >= '${recent_day}'
) bars
  ON bars.ticker = expected.ticker AND bars.bar_time = hours.bar_time
WHERE expected.ticker IS NOT NULL
  AND hours.bar_time IS NOT NULL
  AND bars.ticker IS NULL
