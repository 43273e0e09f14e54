-- Intraday volatility per hourly bar and ticker: the rolling sample standard deviation of the
-- last 15 intraday hourly log returns, annualised by sqrt(252 * 15) (252 sessions a year, 15
-- hourly returns inside a 16-bar extended session) and shown in percent; and the bar's high-low
-- range as a percent of its close.
-- A return is taken only between two bars of the same exchange session (the day of the bar
-- start in America/New_York, the first 10 characters of day_hour_partition): the gap from one
-- session's last bar to the next session's first (overnight, weekend, holiday) is left out, so
-- it does not dominate the line. The line starts once a window holds its 15 returns.
WITH bars AS (
  SELECT
    ticker,
    bar_time,
    high,
    low,
    close,
    ln(close / lag(close) OVER (
      PARTITION BY ticker, substr(day_hour_partition, 1, 10) ORDER BY bar_time)) AS log_return
  FROM {{prod_latest_view}}
  WHERE ticker IN (${ticker:singlequote})
    AND $__timeFilter(bar_time)
    AND {{partition_column}} BETWEEN
      format_datetime($__timeFrom() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd')
      AND format_datetime($__timeTo() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')
),
intraday AS (
  SELECT
    ticker,
    bar_time,
    count(log_return) OVER (
      PARTITION BY ticker ORDER BY bar_time ROWS BETWEEN 14 PRECEDING AND CURRENT ROW)
      AS returns_in_window,
    stddev_samp(log_return) OVER (
      PARTITION BY ticker ORDER BY bar_time ROWS BETWEEN 14 PRECEDING AND CURRENT ROW) AS sd
  FROM bars
  WHERE log_return IS NOT NULL
)
SELECT
  b.bar_time AS "time",
  CASE WHEN i.returns_in_window = 15 THEN i.sd * sqrt(252.0 * 15.0) * 100.0 END
    AS volatility_ann_pct,
  (b.high - b.low) / b.close * 100.0 AS range_pct,
  b.ticker
FROM bars b
LEFT JOIN intraday i ON i.ticker = b.ticker AND i.bar_time = b.bar_time
ORDER BY b.ticker, b.bar_time
