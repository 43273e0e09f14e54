-- The splits applied in this run: the split events first landed by the newest splits snapshot
-- that restate stored bars (their ticker has bars on an exchange day before the execution
-- date). The warning check splits_applied counts these rows; quality lists them in its log.
SELECT splits.ticker, splits.execution_date, splits.ratio
FROM (
${splits_source}
) splits
JOIN (
  SELECT ticker, min(CAST(substr(day_hour_partition, 1, 10) AS date)) AS first_day
  FROM ${sans_dup_table}
  GROUP BY ticker
) history
  ON history.ticker = splits.ticker
WHERE splits.first_seen = splits.newest_landing
  AND history.first_day < splits.execution_date
