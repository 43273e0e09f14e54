-- What a run needs to know about earlier ones, in one scan of the (small) lineage table:
-- the newest run-level event (start or commit) of ${table}, how transform runs committed after
-- the sans-dup table's watermark stand, and the newest production copy.
-- One row per kind: kind, run_id, event, mode, granularity, transform_hash, detail.
WITH committed AS (
  SELECT run_id, mode
  FROM ${lineage_table}
  WHERE event = 'commit' AND table_name = '${table}'
),
watermark AS (
  SELECT max(detail) AS run_id
  FROM ${lineage_table}
  WHERE event = 'dedup' AND table_name = '${sans_dup_table}'
)
SELECT kind, run_id, event, mode, granularity, transform_hash, detail
FROM (
  SELECT 'last' AS kind, run_id, event, mode, granularity, transform_hash, detail,
         row_number() OVER (
           ORDER BY run_id DESC, CASE WHEN event = 'commit' THEN 0 ELSE 1 END
         ) AS rank_
  FROM ${lineage_table}
  WHERE table_name = '${table}' AND event IN ('start', 'commit')
  UNION ALL
  SELECT 'pending' AS kind, max(c.run_id), NULL, max(CASE WHEN c.mode = 'full' THEN 'full' END),
         NULL, NULL, CAST(count(*) AS varchar), 1
  FROM committed c CROSS JOIN watermark w
  WHERE w.run_id IS NULL OR c.run_id > w.run_id
  UNION ALL
  SELECT 'published' AS kind, run_id, event, mode, granularity, transform_hash, table_name,
         row_number() OVER (ORDER BY run_id DESC) AS rank_
  FROM ${lineage_table}
  WHERE event = 'publish'
) events
WHERE rank_ = 1
