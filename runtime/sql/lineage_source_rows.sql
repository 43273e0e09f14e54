-- The source rows recorded by the latest write of a table (NULL when none was recorded).
SELECT max_by(source_rows, recorded_at) AS source_rows
FROM ${lineage_table}
WHERE table_name = '${table}'
