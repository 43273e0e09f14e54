-- title: Price: hourly OHLC with VWAP
-- kind: candlestick
-- unit: currencyUSD
-- order: 20
-- grid: 0 4 24 11
-- description: Hourly candles (open, high, low, close) with the volume-weighted average price.
-- Hourly OHLC candles with VWAP for one ticker (Grafana candlestick panel).
-- The table placeholder is filled from settings with a validated identifier; the ticker
-- variable and the time macros are expanded by Grafana's Athena plugin (or, identically, by
-- runtime.macros locally). Comments must not name macros: the plugin expands them here too.
-- The day_hour_partition predicate lets Athena prune partitions (the time filter on bar_time
-- alone does not). Bounds: the range's first day (right for hourly and daily partitions) to its
-- last hour, both in exchange time; the double AT TIME ZONE reads the UTC macro value as UTC on
-- Athena and on DuckDB alike.
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
  AND day_hour_partition BETWEEN
    format_datetime($__timeFrom() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd')
    AND format_datetime($__timeTo() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')
ORDER BY bar_time
