-- First write of a curated table: create the lineage history with this write's counts.
-- One row per transform run: which table was built from which, how many source rows it read
-- and how many the table got. The quality step compares the typed table with the
-- raw rows its transform read, instead of scanning all raw JSON a second time.
CREATE TABLE ${lineage_table}
WITH (
  external_location = '${location}',
  format = 'PARQUET',
  write_compression = 'SNAPPY'
) AS
SELECT recorded_at, table_name, source_table, source_rows, written_rows
FROM (
  VALUES
${values}
) AS lineage (recorded_at, table_name, source_table, source_rows, written_rows)
