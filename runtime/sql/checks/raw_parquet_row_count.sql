-- severity: error
-- Every raw row must reach the typed table: the difference is the number of rows lost (or
-- invented) by transform.
SELECT abs(
  (SELECT count(*) FROM ${raw_table}) - (SELECT count(*) FROM ${parquet_table})
) AS failing_rows
