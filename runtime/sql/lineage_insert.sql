-- Later writes append: the lineage history is never rewritten.
INSERT INTO ${lineage_table}
SELECT recorded_at, table_name, source_table, source_rows, written_rows
FROM (
  VALUES
${values}
) AS lineage (recorded_at, table_name, source_table, source_rows, written_rows)
