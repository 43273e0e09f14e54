-- title: Data quality: latest run
-- kind: table
-- per_ticker: no
-- order: 50
-- grid: 0 24 12 9
-- description: Every check of the most recent quality run, failures first.
-- Every check of the most recent quality run, failures first.
SELECT
  run_at,
  run_id,
  check_name,
  severity,
  failing_rows,
  passed
FROM {{dq_table}}
WHERE run_id = (SELECT max_by(run_id, run_at) FROM {{dq_table}})
ORDER BY passed, severity, check_name
