-- Hourly volume with its 16-bar moving average (16 hourly bars = one extended session,
-- 04:00-20:00 America/New_York), per ticker of the ticker variable. The average spans only bars
-- inside the chosen time range, and starts at the range's 16th bar: an average of fewer bars is
-- not a 16-bar average.
SELECT
  bar_time AS "time",
  volume,
  CASE
    WHEN count(volume) OVER (
      PARTITION BY ticker ORDER BY bar_time ROWS BETWEEN 15 PRECEDING AND CURRENT ROW) = 16
    THEN avg(volume) OVER (
      PARTITION BY ticker ORDER BY bar_time ROWS BETWEEN 15 PRECEDING AND CURRENT ROW)
  END AS volume_ma_16,
  ticker
FROM {{prod_latest_view}}
WHERE ticker IN (${ticker:singlequote})
  AND $__timeFilter(bar_time)
  AND {{partition_column}} BETWEEN
    format_datetime($__timeFrom() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd')
    AND format_datetime($__timeTo() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')
ORDER BY ticker, bar_time
