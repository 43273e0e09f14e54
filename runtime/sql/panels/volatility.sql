-- title: Volatility: 16-bar rolling, annualised (%), and high-low range (%)
-- kind: timeseries
-- unit: percent
-- order: 40
-- grid: 12 15 12 9
-- description: Sample standard deviation of the last 16 hourly log returns x sqrt(252 x 16) x 100,
--   drawn once 16 returns are in the window; the step from a session's last bar to the next
--   session's first (overnight, weekend) counts as one return, so gaps raise it. And (high - low) /
--   close x 100 per bar.
-- Volatility per hourly bar: the 16-bar rolling sample standard deviation of hourly log returns,
-- annualised by sqrt(252 * 16) (252 trading sessions a year, 16 hourly bars per extended
-- session) and shown in percent; and the bar's high-low range as a percent of its close.
-- The line starts once a window holds its 16 returns (the range's 17th bar): a deviation of a
-- few returns, annualised, would read as a volatility spike or calm that never happened.
WITH bars AS (
  SELECT
    bar_time,
    high,
    low,
    close,
    ln(close / lag(close) OVER (ORDER BY bar_time)) AS log_return
  FROM {{prod_latest_view}}
  WHERE ticker = '$ticker'
    AND $__timeFilter(bar_time)
    AND day_hour_partition BETWEEN
      format_datetime($__timeFrom() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd')
      AND format_datetime($__timeTo() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')
)
SELECT
  bar_time AS "time",
  CASE
    WHEN count(log_return) OVER (ORDER BY bar_time ROWS BETWEEN 15 PRECEDING AND CURRENT ROW) = 16
    THEN stddev_samp(log_return) OVER (ORDER BY bar_time ROWS BETWEEN 15 PRECEDING AND CURRENT ROW)
      * sqrt(252.0 * 16.0) * 100.0
  END AS volatility_ann_pct,
  (high - low) / close * 100.0 AS range_pct
FROM bars
ORDER BY bar_time
