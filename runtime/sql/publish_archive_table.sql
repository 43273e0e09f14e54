-- The production archive over its copied files: catalog metadata only (no data scanned, no
-- charge). Its partitions are added after it, at most 100 per ALTER TABLE ADD PARTITION.
CREATE EXTERNAL TABLE ${table} (
  ${columns}
)
PARTITIONED BY (${partition_column})
STORED AS PARQUET
LOCATION '${location}'
