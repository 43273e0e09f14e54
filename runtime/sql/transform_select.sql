-- Raw JSON -> typed rows (the `columns` slot), plus the raw object each row came from (source_object,
-- Athena's "$$path" pseudo-column), which the lineage table records and the typed table omits.
-- The `objects` slot limits the scan to the raw objects this run reads: TRUE on a full refresh, else
-- "$$path" IN (...) AND the objects' arrival partitions (partition_0..3), so Athena lists and
-- reads only those objects.
-- Prices, volume and VWAP are rounded to 2 places (Trino rounds half away from zero). Every
-- numeric column is CAST because the crawler may type the same field bigint in one crawl and
-- double in another.
-- bar_time: the bar's start in UTC without a time zone (AT TIME ZONE 'UTC' pins the wall
-- clock to UTC whatever the session time zone is).
-- day_hour_partition: the bar's start in exchange time (America/New_York) as YYYY-MM-DD-HH,
-- whatever the partition granularity; day_partition: the same day as YYYY-MM-DD (selected
-- only when the table is partitioned by day). Sortable, and unlike day-of-month + hour they
-- never collide across months.
-- adjusted_as_of: the exchange date whose executed splits the source's bar already reflects
-- (the aggregates API adjusts for the splits executed by the day it answers, so the ingest date
-- in New York; the demo source plays the API as seen at the end of its window). The adjusted view
-- (adjusted_view.sql) applies only the splits executed after it.
-- The division is by the double 1000.0 so Trino and DuckDB agree (no integer division).
SELECT ${columns}, source_object
FROM (
  SELECT
    CAST(ticker AS varchar) AS ticker,
    CAST(from_unixtime(CAST(t AS double) / 1000.0) AT TIME ZONE 'UTC' AS timestamp) AS bar_time,
    CAST(t AS bigint) AS bar_time_ms,
    round(CAST(o AS double), 2) AS open,
    round(CAST(h AS double), 2) AS high,
    round(CAST(l AS double), 2) AS low,
    round(CAST(c AS double), 2) AS close,
    round(CAST(v AS double), 2) AS volume,
    round(CAST(vw AS double), 2) AS vwap,
    CAST(n AS bigint) AS transactions,
    CAST(from_iso8601_timestamp(ingested_at) AT TIME ZONE 'UTC' AS timestamp) AS ingested_at,
    CAST(
      CASE
        WHEN source = 'demo' THEN window_to
        ELSE date_format(
          from_iso8601_timestamp(ingested_at) AT TIME ZONE 'America/New_York', '%Y-%m-%d'
        )
      END AS date
    ) AS adjusted_as_of,
    date_format(
      from_unixtime(CAST(t AS double) / 1000.0) AT TIME ZONE 'America/New_York',
      '%Y-%m-%d-%H'
    ) AS day_hour_partition,
    date_format(
      from_unixtime(CAST(t AS double) / 1000.0) AT TIME ZONE 'America/New_York',
      '%Y-%m-%d'
    ) AS day_partition,
    "$$path" AS source_object
  FROM ${raw_table}
  WHERE ${objects}
) typed
