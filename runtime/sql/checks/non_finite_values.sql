-- severity: error
-- scope: partition
-- NaN or +-Infinity in any price or volume column. A raw value can be finite and still become
-- Infinity here: transform rounds to 2 places by scaling by 100, and a double near its maximum
-- (v: 1e308) overflows. Every comparison with NaN is false in Trino, and DuckDB sorts NaN above
-- Infinity, so "abs(x) < Infinity" holds exactly for finite x in both engines. Rows with nulls
-- are left to null_values.
SELECT count(*) AS failing_rows
FROM ${sans_dup_table}
WHERE NOT (
  abs(open) < CAST('Infinity' AS double)
  AND abs(high) < CAST('Infinity' AS double)
  AND abs(low) < CAST('Infinity' AS double)
  AND abs(close) < CAST('Infinity' AS double)
  AND abs(volume) < CAST('Infinity' AS double)
  AND abs(vwap) < CAST('Infinity' AS double)
)
