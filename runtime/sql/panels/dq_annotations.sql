-- One dashboard annotation per failed check in the time range, at the time of its quality run:
-- which check, how many failing rows, and whether it blocked the publish.
SELECT
  run_at AS "time",
  check_name || ': ' || CAST(failing_rows AS varchar) || ' failing rows ('
    || CASE WHEN severity = 'error' THEN 'blocking: nothing published' ELSE 'warning' END
    || '; run ' || run_id || ')' AS text,
  severity AS tags
FROM {{dq_table}}
WHERE NOT passed
  AND $__timeFilter(run_at)
ORDER BY run_at
