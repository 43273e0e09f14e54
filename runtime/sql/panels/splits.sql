-- Stock splits in the range, one row (a dashboard annotation, a marker in the report) each, for
-- the tickers of the ticker variable. Read from the production view, not from the raw splits
-- table: the dashboard's reader may read only the published tables, and a marker then shows
-- exactly where the published history changed basis. split_factor is the product of the ratios
-- of the splits after a bar's exchange day, so it changes between two consecutive bars of a
-- ticker exactly where a split executed; the ratio is the earlier factor over the later one (2
-- for a 2-for-1 split, 0.1 for a 1-for-10 reverse split). The marker is at the first bar on the
-- new basis. So that a split on the range's first day is marked too, the bars are read from a
-- week before the range (a long weekend with a holiday is 4 days without a bar; a ticker halted
-- longer than a week loses the marker of a split on the range's first day), and only markers
-- inside the range are returned.
-- Ratios are written in whole numbers (N-for-1, 1-for-N, N-for-2, 2-for-N, else N-for-100): a
-- double cast to varchar prints differently in Athena and DuckDB.
WITH bars AS (
  SELECT
    ticker,
    bar_time,
    substr(day_hour_partition, 1, 10) AS split_day,
    lag(split_factor) OVER (PARTITION BY ticker ORDER BY bar_time) / split_factor AS ratio
  FROM {{prod_latest_view}}
  WHERE ticker IN (${ticker:singlequote})
    AND bar_time BETWEEN $__timeFrom() - INTERVAL '7' DAY AND $__timeTo()
    AND {{partition_column}} BETWEEN
      format_datetime(($__timeFrom() - INTERVAL '7' DAY) AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd')
      AND format_datetime($__timeTo() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')
),
splits AS (
  SELECT
    ticker,
    bar_time,
    split_day,
    ratio,
    CASE
      WHEN abs(ratio - round(ratio)) < 1e-6
        THEN CAST(CAST(round(ratio) AS bigint) AS varchar) || '-for-1'
      WHEN abs(1e0 / ratio - round(1e0 / ratio)) < 1e-6
        THEN '1-for-' || CAST(CAST(round(1e0 / ratio) AS bigint) AS varchar)
      WHEN abs(2 * ratio - round(2 * ratio)) < 1e-6
        THEN CAST(CAST(round(2 * ratio) AS bigint) AS varchar) || '-for-2'
      WHEN abs(2e0 / ratio - round(2e0 / ratio)) < 1e-6
        THEN '2-for-' || CAST(CAST(round(2e0 / ratio) AS bigint) AS varchar)
      ELSE CAST(CAST(round(ratio * 100) AS bigint) AS varchar) || '-for-100'
    END AS ratio_text
  FROM bars
  WHERE ratio IS NOT NULL AND abs(ratio - 1) > 1e-6
    AND $__timeFilter(bar_time)
)
SELECT
  bar_time AS "time",
  ticker,
  split_day,
  ratio,
  ratio_text,
  ticker || ' ' || ratio_text || ' split on ' || split_day
    || ': the bars before it are on the new basis (prices divided by the ratio, volume '
    || 'multiplied)' AS text,
  'split' AS tags
FROM splits
ORDER BY ticker, bar_time
