-- Tickers with bars in the chosen time range: options of the dashboard's ticker variable
-- (refreshed when the range changes) and the report's default selection. The predicate on the
-- partition column prunes the scan to the range's partitions, so listing tickers does not read
-- the whole history; it reads only the ticker column of those Parquet files.
SELECT DISTINCT ticker
FROM {{prod_latest_view}}
WHERE {{partition_column}} BETWEEN
    format_datetime($__timeFrom() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd')
    AND format_datetime($__timeTo() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')
ORDER BY ticker
