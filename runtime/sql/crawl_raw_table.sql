-- The raw JSON table over the Firehose-layout objects raw/YYYY/MM/DD/HH/<object>.
-- In the cloud the Glue crawler creates this table (same column names, partition_0..3 for the
-- four key levels); locally the `crawl` step issues this DDL instead.
-- Numeric columns are declared wide (bigint/double) because the steps CAST them anyway: the
-- crawler may infer ints where a later object holds doubles.
CREATE EXTERNAL TABLE IF NOT EXISTS ${raw_table} (
  ticker string,
  t bigint,
  o double,
  h double,
  l double,
  c double,
  v double,
  vw double,
  n bigint,
  otc boolean,
  ingested_at string,
  request_id string,
  window_from string,
  window_to string,
  source string
)
PARTITIONED BY (partition_0 string, partition_1 string, partition_2 string, partition_3 string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '${raw_uri}'
