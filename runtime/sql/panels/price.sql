-- Hourly OHLC candles with VWAP (Grafana candlestick panel), for the tickers of the ticker
-- variable: in the dashboard's repeated rows that is one ticker per row; the report asks for all
-- of its tickers in one query and splits the rows.
-- The table and partition-column placeholders are filled from settings with validated
-- identifiers; the ticker variable and the time macros are expanded by Grafana's Athena plugin
-- (or, identically, by runtime.macros locally). Comments must not name macros: the plugin
-- expands them here too.
-- The predicate on the partition column lets Athena prune partitions (the time filter on
-- bar_time alone does not). Bounds: the range's first day (right for hourly and daily
-- partitions) to its last hour, both in exchange time; the double AT TIME ZONE reads the UTC
-- macro value as UTC on Athena and on DuckDB alike.
SELECT
  bar_time AS "time",
  open,
  high,
  low,
  close,
  vwap,
  volume,
  ticker
FROM {{prod_latest_view}}
WHERE ticker IN (${ticker:singlequote})
  AND $__timeFilter(bar_time)
  AND {{partition_column}} BETWEEN
    format_datetime($__timeFrom() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd')
    AND format_datetime($__timeTo() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')
ORDER BY ticker, bar_time
