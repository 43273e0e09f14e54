-- severity: error
-- scope: partition
-- Rows with a null in any column (a missing optional field such as vw or n included; a null
-- adjusted_as_of leaves the bar's split basis unknown).
SELECT count(*) AS failing_rows
FROM ${sans_dup_table}
WHERE ticker IS NULL OR bar_time IS NULL OR bar_time_ms IS NULL
   OR open IS NULL OR high IS NULL OR low IS NULL OR close IS NULL
   OR volume IS NULL OR vwap IS NULL OR transactions IS NULL
   OR ingested_at IS NULL OR day_hour_partition IS NULL
   OR adjusted_as_of IS NULL
