-- title: Tickers
-- kind: variable
-- per_ticker: no
-- order: 70
-- description: Tickers in the production view (the dashboard's ticker variable).
-- Tickers in the production view: options of the dashboard's ticker variable and the report's
-- sections. Reads only the ticker column of the Parquet files.
SELECT DISTINCT ticker
FROM {{prod_latest_view}}
ORDER BY ticker
