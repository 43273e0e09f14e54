-- The partitions rewritten by the transform runs of ${table} that committed after the sans-dup
-- table's watermark (the newest transform run its dedup rows name): dedup rewrites those.
WITH watermark AS (
  SELECT coalesce(max(detail), '') AS run_id
  FROM ${lineage_table}
  WHERE event = 'dedup' AND table_name = '${sans_dup_table}'
)
SELECT DISTINCT p.partition_value
FROM ${lineage_table} p CROSS JOIN watermark w
WHERE p.event = 'partition' AND p.table_name = '${table}' AND p.run_id > w.run_id
  AND p.run_id IN (
    SELECT run_id FROM ${lineage_table} WHERE event = 'commit' AND table_name = '${table}'
  )
ORDER BY 1
