-- title: Volume per hour with 16-bar moving average
-- kind: timeseries
-- unit: short
-- order: 30
-- grid: 0 15 12 9
-- description: Shares traded per hourly bar; the line is the mean of the last 16 bars (one extended
--   session, 04:00-20:00 ET), drawn from the range's 16th bar on.
-- Hourly volume with its 16-bar moving average (16 hourly bars = one extended session,
-- 04:00-20:00 America/New_York). The average spans only bars inside the chosen time range, and
-- starts at the range's 16th bar: an average of fewer bars is not a 16-bar average.
SELECT
  bar_time AS "time",
  volume,
  CASE
    WHEN count(volume) OVER (ORDER BY bar_time ROWS BETWEEN 15 PRECEDING AND CURRENT ROW) = 16
    THEN avg(volume) OVER (ORDER BY bar_time ROWS BETWEEN 15 PRECEDING AND CURRENT ROW)
  END AS volume_ma_16
FROM {{prod_latest_view}}
WHERE ticker = '$ticker'
  AND $__timeFilter(bar_time)
  AND day_hour_partition BETWEEN
    format_datetime($__timeFrom() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd')
    AND format_datetime($__timeTo() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')
ORDER BY bar_time
