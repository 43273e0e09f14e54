-- The known splits: one row per (ticker, execution_date), the most recently landed version of
-- each event (every ingest lands the tickers' whole split list, so the raw table holds one
-- snapshot per run). ratio = split_to / split_from: 2 for a 2-for-1 split, 0.1 for a 1-for-10
-- reverse split. as_of is the exchange date the snapshot describes (the same rule as the bars'
-- adjusted_as_of in transform_select.sql): an announced split that has not executed by then is
-- left out until a snapshot taken on or after its execution date lists it.
-- first_seen is when the event first landed, newest_landing the newest snapshot of all: the
-- warning check splits_applied counts the splits first seen in it.
SELECT ticker, execution_date, ratio, first_seen, newest_landing
FROM (
  SELECT
    CAST(ticker AS varchar) AS ticker,
    CAST(execution_date AS date) AS execution_date,
    CAST(split_to AS double) / CAST(split_from AS double) AS ratio,
    CAST(
      CASE
        WHEN source = 'demo' THEN window_to
        ELSE date_format(
          from_iso8601_timestamp(ingested_at) AT TIME ZONE 'America/New_York', '%Y-%m-%d'
        )
      END AS date
    ) AS as_of,
    min(ingested_at) OVER (PARTITION BY ticker, execution_date) AS first_seen,
    max(ingested_at) OVER () AS newest_landing,
    row_number() OVER (
      PARTITION BY ticker, execution_date ORDER BY ingested_at DESC, request_id DESC
    ) AS version_rank
  FROM ${splits_table}
  WHERE CAST(split_from AS double) > 0 AND CAST(split_to AS double) > 0
) versions
WHERE version_rank = 1 AND execution_date <= as_of
