-- For the row-count check: the raw rows the newest committed transform run of ${table} read and
-- the typed rows it added, and the raw rows of every object consumed since the newest full
-- rebuild (what the typed table must hold). NULLs when nothing was recorded.
WITH committed AS (
  SELECT run_id, mode, source_rows, written_rows
  FROM ${lineage_table}
  WHERE event = 'commit' AND table_name = '${table}'
),
objects AS (
  SELECT o.object_key, max_by(o.source_rows, o.run_id) AS source_rows
  FROM ${lineage_table} o
  WHERE o.event = 'object' AND o.table_name = '${table}'
    AND o.run_id IN (SELECT run_id FROM committed)
    AND o.run_id >= (SELECT coalesce(max(run_id), '') FROM committed WHERE mode = 'full')
  GROUP BY o.object_key
)
SELECT
  (SELECT max_by(source_rows, run_id) FROM committed) AS run_raw_rows,
  (SELECT max_by(written_rows, run_id) FROM committed) AS run_typed_rows,
  (SELECT sum(source_rows) FROM objects) AS total_raw_rows
