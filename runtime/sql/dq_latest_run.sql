-- The newest quality run's results. run_id starts with a UTC timestamp, so max() is the latest,
-- and reading it back from the table works across separate Glue job processes.
SELECT run_id, check_name, severity, failing_rows, passed
FROM ${dq_table}
WHERE run_id = (SELECT max(run_id) FROM ${dq_table})
ORDER BY check_name
