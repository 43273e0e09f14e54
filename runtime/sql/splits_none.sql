-- No split table yet (in the cloud the crawler creates it only once a splits object exists):
-- no known splits, with the columns splits_latest.sql gives.
SELECT
  CAST(NULL AS varchar) AS ticker,
  CAST(NULL AS date) AS execution_date,
  CAST(NULL AS double) AS ratio,
  CAST(NULL AS varchar) AS first_seen,
  CAST(NULL AS varchar) AS newest_landing
WHERE false
