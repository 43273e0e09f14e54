-- severity: error
-- A split without its adjustment: a ticker's first bar of an exchange day whose open is within
-- 2% of a split ratio (2, 3, 4, 5, 8, 10, ... 100, or one over them) times the previous bar's
-- close, on an earlier day. It reads the adjusted view, where every recorded split is already
-- applied, so such a jump is a split the splits table does not know (or one applied wrongly).
-- A genuine overnight move of exactly such a size (a 50% gap down) fails it too: the history then
-- needs a human look before anything is published (docs/operations.md).
-- Only the first bar of a day can follow a bar of an earlier day, so each ticker's days are
-- reduced to their first open and last close before the rows are put in order: the same rows are
-- judged as by a window over every bar, at the cost of one grouping of the table.
WITH days AS (
  SELECT
    ticker,
    CAST(substr(day_hour_partition, 1, 10) AS date) AS bar_day,
    min_by(open, bar_time_ms) AS first_open,
    max_by(close, bar_time_ms) AS last_close
  FROM ${adjusted_view}
  GROUP BY ticker, CAST(substr(day_hour_partition, 1, 10) AS date)
),
ordered AS (
  SELECT
    first_open AS open,
    bar_day,
    lag(last_close) OVER (PARTITION BY ticker ORDER BY bar_day) AS previous_close,
    lag(bar_day) OVER (PARTITION BY ticker ORDER BY bar_day) AS previous_day
  FROM days
)
SELECT count(*) AS failing_rows
FROM ordered
CROSS JOIN (
  VALUES 2e0, 3e0, 4e0, 5e0, 8e0, 10e0, 15e0, 20e0, 25e0, 30e0, 40e0, 50e0, 100e0
) AS ratios (ratio)
WHERE previous_day < bar_day
  AND previous_close > 0
  AND open > 0
  AND (
    abs(open / previous_close / ratio - 1) <= 0.02
    OR abs(previous_close / open / ratio - 1) <= 0.02
  )
