-- severity: error
-- Every raw row must reach the typed table, judged twice (the larger gap is the rows lost or
-- invented): the typed rows the last transform run added against the raw rows of the objects
-- it read (${run_typed_rows} and ${run_raw_rows}, from the lineage table), and all typed rows
-- against the raw rows of every object consumed so far (${total_raw_rows}). Counting all raw
-- JSON again would read every raw byte a second time (billed in Athena every day) and would
-- also count objects that landed after the transform. Without a lineage record the raw side is
-- (SELECT count(*) FROM ${raw_table}) and the run's part is 0.
SELECT greatest(
  abs(${run_raw_rows} - ${run_typed_rows}),
  abs(${total_raw_rows} - (SELECT count(*) FROM ${parquet_table}))
) AS failing_rows
