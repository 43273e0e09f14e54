-- Later quality runs append: the history is never rewritten.
INSERT INTO ${dq_table}
SELECT run_id, run_at, check_name, severity, failing_rows, passed
FROM (
  VALUES
${values}
) AS results (run_id, run_at, check_name, severity, failing_rows, passed)
