-- The raw objects consumed by the committed transform runs of ${table} since its newest full
-- rebuild (which read every object there was), with each object's raw rows. An object consumed
-- before that rebuild but absent from it had left the raw prefix; it no longer counts.
WITH committed AS (
  SELECT run_id, mode FROM ${lineage_table} WHERE event = 'commit' AND table_name = '${table}'
)
SELECT o.object_key, max_by(o.source_rows, o.run_id) AS source_rows
FROM ${lineage_table} o
WHERE o.event = 'object' AND o.table_name = '${table}'
  AND o.run_id IN (SELECT run_id FROM committed)
  AND o.run_id >= (SELECT coalesce(max(run_id), '') FROM committed WHERE mode = 'full')
GROUP BY o.object_key
