-- First quality run: create the check-history table from this run's results.
CREATE TABLE ${dq_table}
WITH (
  external_location = '${location}',
  format = 'PARQUET',
  write_compression = 'SNAPPY'
) AS
SELECT run_id, run_at, check_name, severity, failing_rows, passed
FROM (
  VALUES
${values}
) AS results (run_id, run_at, check_name, severity, failing_rows, passed)
