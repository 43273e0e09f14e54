-- severity: error
-- Every raw row must reach the typed table: the difference is the number of rows lost (or
-- invented) by transform. ${raw_rows} is the number of raw rows the last transform read, as it
-- recorded it in the lineage table: counting all raw JSON again would read every raw byte a
-- second time (as long as the transform itself, and billed in Athena every day), and would
-- also count objects that landed after the transform. Without a record it is
-- (SELECT count(*) FROM ${raw_table}).
SELECT abs(
  ${raw_rows} - (SELECT count(*) FROM ${parquet_table})
) AS failing_rows
