-- severity: error
-- scope: partition
-- A zero price or volume is never a real hourly bar (no trades means no bar at all).
SELECT count(*) AS failing_rows
FROM ${sans_dup_table}
WHERE open = 0 OR high = 0 OR low = 0 OR close = 0 OR volume = 0 OR vwap = 0
