-- The raw split events over the Firehose-layout objects splits/YYYY/MM/DD/HH/<object>, one
-- JSON line per event as the splits endpoint lists it plus the bars' lineage fields. In the cloud
-- the Glue crawler creates this table (its second target); locally the `crawl` step issues this
-- DDL. split_from/split_to are declared double: ratios such as 3-for-2 come as whole numbers,
-- but nothing in the API promises that.
CREATE EXTERNAL TABLE IF NOT EXISTS ${splits_table} (
  id string,
  ticker string,
  execution_date string,
  adjustment_type string,
  split_from double,
  split_to double,
  historical_adjustment_factor double,
  ingested_at string,
  request_id string,
  window_from string,
  window_to string,
  source string
)
PARTITIONED BY (partition_0 string, partition_1 string, partition_2 string, partition_3 string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '${splits_uri}'
