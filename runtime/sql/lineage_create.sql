-- First write: create the lineage history with these rows. The table is the pipeline's memory
-- between runs (and between Glue jobs): one row per event of a run, by `event`:
--   start      a full rebuild of `table_name` began (`detail`: why)
--   object     a raw object the run consumed (`object_key` under the raw prefix, `source_rows`)
--   partition  a partition value of `table_name` the run rewrote (`partition_value`)
--   commit     the run's work is complete (`mode`, `granularity`, `transform_hash`,
--              `source_rows` read, `written_rows` added); a run's other rows count only once
--              its commit exists, so a killed run leaves nothing that is believed
--   dedup      the sans-dup table caught up with transform runs up to `detail` (a run id)
--   quality    a quality run judged `table_name` (the sans-dup table) in this state:
--              `detail` the fingerprint of its files, `source_rows` its rows,
--              `written_rows` its files
--   publish_start  publish began copying into the archive `table_name`
--   publish    the archive `table_name` is complete and verified; the production view then
--              moves to it
CREATE TABLE ${lineage_table}
WITH (
  external_location = '${location}',
  format = 'PARQUET',
  write_compression = 'SNAPPY'
) AS
SELECT run_id, recorded_at, event, table_name, mode, granularity, transform_hash, detail,
       object_key, partition_value, source_rows, written_rows
FROM (
  VALUES
${values}
) AS lineage (run_id, recorded_at, event, table_name, mode, granularity, transform_hash, detail,
              object_key, partition_value, source_rows, written_rows)
