-- First and last bar of each ticker in the production view: the report's range and its choice
-- of tickers (those with bars in the range) come from this one scan.
SELECT
  ticker,
  min(bar_time) AS first_bar,
  max(bar_time) AS last_bar,
  count(*) AS bars
FROM {{prod_latest_view}}
GROUP BY ticker
ORDER BY ticker
