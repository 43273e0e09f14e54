-- severity: error
-- scope: partition
-- The deduplicated table holds one row per (ticker, bar_time_ms); counts the extra rows.
SELECT coalesce(sum(copies - 1), 0) AS failing_rows
FROM (
  SELECT ticker, bar_time_ms, count(*) AS copies
  FROM ${sans_dup_table}
  GROUP BY ticker, bar_time_ms
  HAVING count(*) > 1
) dup
