-- History of failed checks, newest first. Not limited to the dashboard's time range: the
-- history is small, unpartitioned, and old failures explain today's gaps. FAIL = a blocking
-- check (nothing was published by that run), WARN = a warning.
SELECT
  run_at AS "time",
  CASE WHEN severity = 'error' THEN 'FAIL' ELSE 'WARN' END AS result,
  run_id,
  check_name,
  severity,
  failing_rows
FROM {{dq_table}}
WHERE NOT passed
ORDER BY run_at DESC, check_name
LIMIT 200
