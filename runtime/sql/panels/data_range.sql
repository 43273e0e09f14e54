-- title: Data range
-- kind: meta
-- per_ticker: no
-- order: 80
-- description: First and last bar in the production view.
-- First and last bar in the production view: the report's time range ends at the last bar.
SELECT
  min(bar_time) AS first_bar,
  max(bar_time) AS last_bar,
  count(*) AS bars
FROM {{prod_latest_view}}
