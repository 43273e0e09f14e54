-- Hourly OHLC candles with VWAP for one ticker (Grafana candlestick panel).
-- The table placeholder is filled from settings with a validated identifier; the ticker
-- variable and the time macros are expanded by Grafana's Athena plugin (or, identically, by
-- runtime.macros locally). Comments must not name macros: the plugin expands them here too.
-- The predicate on the partition column (day_partition or day_hour_partition, filled in from
-- settings) lets Athena prune partitions (the time filter on bar_time alone does not). Bounds:
-- the range's first day to its last hour, both in exchange time, which holds both a YYYY-MM-DD
-- and a YYYY-MM-DD-HH column's values in range; the double AT TIME ZONE reads the UTC macro
-- value as UTC on Athena and on DuckDB alike.
SELECT
  bar_time AS "time",
  open,
  high,
  low,
  close,
  vwap,
  volume
FROM {{prod_latest_view}}
WHERE ticker = '$ticker'
  AND $__timeFilter(bar_time)
  AND {{partition_column}} BETWEEN
    format_datetime($__timeFrom() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd')
    AND format_datetime($__timeTo() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')
ORDER BY bar_time
