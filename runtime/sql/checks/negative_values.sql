-- severity: error
-- scope: partition
-- A negative price, volume or trade count is impossible in a real bar; counts such rows.
SELECT count(*) AS failing_rows
FROM ${sans_dup_table}
WHERE open < 0 OR high < 0 OR low < 0 OR close < 0 OR volume < 0 OR vwap < 0
   OR transactions < 0
