-- Every check of the most recent quality run, failures first, with a one-word verdict: FAIL (a
-- blocking check failed: nothing was published), WARN (a warning failed), PASS.
SELECT
  CASE WHEN passed THEN 'PASS' WHEN severity = 'error' THEN 'FAIL' ELSE 'WARN' END AS result,
  check_name,
  severity,
  failing_rows,
  passed,
  run_at,
  run_id
FROM {{dq_table}}
WHERE run_id = (SELECT max_by(run_id, run_at) FROM {{dq_table}})
ORDER BY passed, severity, check_name
