-- severity: error
-- low <= min(open, close), high >= max(open, close), and the VWAP inside [low, high] within a
-- cent (vwap is rounded to 2 places). Rows with nulls are left to null_values.
SELECT count(*) AS failing_rows
FROM ${sans_dup_table}
WHERE NOT (
  low <= least(open, close)
  AND high >= greatest(open, close)
  AND low <= high
  AND vwap >= low - 0.01
  AND vwap <= high + 0.01
)
