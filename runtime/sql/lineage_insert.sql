-- Later writes append: the lineage history is never rewritten.
INSERT INTO ${lineage_table}
SELECT run_id, recorded_at, event, table_name, mode, granularity, transform_hash, detail,
       object_key, partition_value, source_rows, written_rows
FROM (
  VALUES
${values}
) AS lineage (run_id, recorded_at, event, table_name, mode, granularity, transform_hash, detail,
              object_key, partition_value, source_rows, written_rows)
