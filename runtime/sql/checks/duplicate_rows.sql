-- severity: error
-- scope: partition
-- Identical rows (every column equal) in the deduplicated table; counts the extra copies.
SELECT coalesce(sum(copies - 1), 0) AS failing_rows
FROM (
  SELECT count(*) AS copies
  FROM ${sans_dup_table}
  GROUP BY ticker, bar_time, bar_time_ms, open, high, low, close, volume, vwap, transactions,
           ingested_at, day_hour_partition
  HAVING count(*) > 1
) dup
