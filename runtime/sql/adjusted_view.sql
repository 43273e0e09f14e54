-- The deduplicated bars on one basis: the latest known splits applied to every bar, as the
-- aggregates API's adjusted bars give them after those splits, with the as-traded values beside.
-- A stored bar is on the basis its source gave it (adjusted_as_of: the API adjusts for the splits
-- executed by the day it answered), so only the splits executed after both the bar's exchange
-- day and that date are still to apply ("pending"); split_factor is the product of the ratios of
-- every split after the bar's day (as-traded price = adjusted price * split_factor).
-- Prices (and vwap) are divided by the pending factor and rounded to 2 places again, volume is
-- multiplied: the adjustment starts from the 2-place typed values, so an adjusted price can
-- differ from the API's by a cent where the API rounds the unrounded value (docs/architecture.md).
-- The factors are products over a ticker's splits from a split on, taken as exp(sum(ln(ratio)))
-- and rounded to 9 places so that 2 * 5 is exactly 10. The view is recomputed on every read,
-- so a new split rewrites no stored partition: quality judges this view and publish copies it.
CREATE OR REPLACE VIEW ${view} AS
WITH splits AS (
${splits_source}
),
factors AS (
  SELECT
    ticker,
    lag(execution_date) OVER (PARTITION BY ticker ORDER BY execution_date) AS from_day,
    execution_date AS until_day,
    round(
      exp(sum(ln(ratio)) OVER (
        PARTITION BY ticker ORDER BY execution_date DESC
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      )),
      9
    ) AS factor
  FROM splits
),
bars AS (
  SELECT
    *,
    CAST(substr(day_hour_partition, 1, 10) AS date) AS bar_day,
    greatest(CAST(substr(day_hour_partition, 1, 10) AS date), adjusted_as_of) AS basis_day
  FROM ${sans_dup_table}
),
factored AS (
  SELECT
    b.*,
    coalesce(pending.factor, 1e0) AS pending_factor,
    coalesce(since.factor, 1e0) AS split_factor
  FROM bars b
  LEFT JOIN factors pending
    ON pending.ticker = b.ticker
    AND b.basis_day < pending.until_day
    AND (pending.from_day IS NULL OR b.basis_day >= pending.from_day)
  LEFT JOIN factors since
    ON since.ticker = b.ticker
    AND b.bar_day < since.until_day
    AND (since.from_day IS NULL OR b.bar_day >= since.from_day)
)
SELECT
  ticker, bar_time, bar_time_ms,
  round(open / pending_factor, 2) AS open,
  round(high / pending_factor, 2) AS high,
  round(low / pending_factor, 2) AS low,
  round(close / pending_factor, 2) AS close,
  round(volume * pending_factor, 2) AS volume,
  round(vwap / pending_factor, 2) AS vwap,
  transactions, ingested_at,
  round(open * split_factor / pending_factor, 2) AS open_traded,
  round(high * split_factor / pending_factor, 2) AS high_traded,
  round(low * split_factor / pending_factor, 2) AS low_traded,
  round(close * split_factor / pending_factor, 2) AS close_traded,
  round(volume * pending_factor / split_factor, 2) AS volume_traded,
  round(vwap * split_factor / pending_factor, 2) AS vwap_traded,
  split_factor,
  ${partition_columns}
FROM factored
