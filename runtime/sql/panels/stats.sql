-- Headline numbers for the chosen range: last close, change since the range's first open
-- (absolute and percent), total volume, and intraday volatility: the sample standard deviation
-- of hourly log returns between bars of the same exchange session (overnight and weekend gaps
-- left out), annualised by sqrt(252 * 15) in percent, as in the volatility panel.
WITH bars AS (
  SELECT
    bar_time,
    open,
    close,
    volume,
    ln(close / lag(close) OVER (
      PARTITION BY substr(day_hour_partition, 1, 10) ORDER BY bar_time)) AS log_return
  FROM {{prod_latest_view}}
  WHERE ticker = '$ticker'
    AND $__timeFilter(bar_time)
    AND {{partition_column}} BETWEEN
      format_datetime($__timeFrom() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd')
      AND format_datetime($__timeTo() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')
)
SELECT
  max_by(close, bar_time) AS last_close,
  max_by(close, bar_time) - min_by(open, bar_time) AS change_abs,
  (max_by(close, bar_time) / min_by(open, bar_time) - 1.0) * 100.0 AS change_pct,
  sum(volume) AS total_volume,
  stddev_samp(log_return) * sqrt(252.0 * 15.0) * 100.0 AS realised_vol_ann_pct,
  count(*) AS bars
FROM bars
