-- The splits applied in this run: the split events first landed by the newest splits snapshot
-- that restate stored bars, i.e. their ticker has a bar before the execution date that its
-- source gave on an older basis (basis day as in adjusted_view.sql; bars the API already
-- adjusted are not restated). The warning check splits_applied counts these rows; quality
-- lists them in its log.
SELECT splits.ticker, splits.execution_date, splits.ratio
FROM (
${splits_source}
) splits
JOIN (
  SELECT
    ticker,
    min(greatest(CAST(substr(day_hour_partition, 1, 10) AS date), adjusted_as_of)) AS first_basis
  FROM ${sans_dup_table}
  GROUP BY ticker
) history
  ON history.ticker = splits.ticker
WHERE splits.first_seen = splits.newest_landing
  AND history.first_basis < splits.execution_date
