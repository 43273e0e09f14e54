-- The production archive is a copy of the adjusted view: the deduplicated bars on the latest
-- split basis, the as-traded values beside them, partition column last.
SELECT
  ticker, bar_time, bar_time_ms, open, high, low, close, volume, vwap, transactions,
  ingested_at, open_traded, high_traded, low_traded, close_traded, volume_traded, vwap_traded,
  split_factor, day_hour_partition
FROM ${adjusted_view}
