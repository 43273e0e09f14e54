-- One row per (ticker, bar_time_ms): the most recently ingested version wins, because late
-- trades and split adjustments restate past bars. The remaining ORDER BY columns only make
-- the choice deterministic when two versions share an ingested_at (a Firehose retry).
SELECT
  ticker, bar_time, bar_time_ms, open, high, low, close, volume, vwap, transactions,
  ingested_at, day_hour_partition
FROM (
  SELECT
    *,
    row_number() OVER (
      PARTITION BY ticker, bar_time_ms
      ORDER BY ingested_at DESC, close DESC, open DESC, high DESC, low DESC, volume DESC,
               vwap DESC, transactions DESC
    ) AS version_rank
  FROM ${parquet_table}
) ranked
WHERE version_rank = 1
