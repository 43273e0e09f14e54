-- The splits applied in this run: the split events first landed by the newest splits snapshot
-- that restate stored bars, i.e. their ticker has a bar before the execution date that its
-- source gave on an older basis (basis day as in adjusted_view.sql; bars the API already
-- adjusted are not restated). The warning check splits_applied counts these rows; quality
-- lists them in its log. Only the bars of those tickers are read: on most days no split is new,
-- and then no bar is.
WITH splits AS (
${splits_source}
),
new_splits AS (
  SELECT ticker, execution_date, ratio
  FROM splits
  WHERE splits.first_seen = splits.newest_landing
)
SELECT new_splits.ticker, new_splits.execution_date, new_splits.ratio
FROM new_splits
JOIN (
  SELECT
    ticker,
    min(greatest(CAST(substr(day_hour_partition, 1, 10) AS date), adjusted_as_of)) AS first_basis
  FROM ${sans_dup_table}
  WHERE ticker IN (SELECT ticker FROM new_splits)
  GROUP BY ticker
) history
  ON history.ticker = new_splits.ticker
WHERE history.first_basis < new_splits.execution_date
