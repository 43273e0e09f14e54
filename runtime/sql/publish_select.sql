-- The production archive is a plain copy of the deduplicated table, partition column last.
SELECT
  ticker, bar_time, bar_time_ms, open, high, low, close, volume, vwap, transactions,
  ingested_at, day_hour_partition
FROM ${sans_dup_table}
