-- title: Data quality: failed checks history
-- kind: table
-- per_ticker: no
-- order: 60
-- grid: 12 24 12 9
-- description: Failed checks of every run, newest first (at most 200).
-- History of failed checks, newest first. Not limited to the dashboard's time range: the
-- history is small, unpartitioned, and old failures explain today's gaps.
SELECT
  run_at AS "time",
  run_id,
  check_name,
  severity,
  failing_rows
FROM {{dq_table}}
WHERE NOT passed
ORDER BY run_at DESC, check_name
LIMIT 200
