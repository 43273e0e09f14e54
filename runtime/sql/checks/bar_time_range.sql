-- severity: error
-- scope: partition
-- Bars that start before 1990 (a seconds-for-milliseconds mix-up, or a default date such as
-- 1969-12-31) or after ${checked_at}, when quality ran (UTC): a bar exists only once trades
-- happened in it, so a future bar is wrong data, and it would make freshness pass.
SELECT count(*) AS failing_rows
FROM ${sans_dup_table}
WHERE bar_time < TIMESTAMP '1990-01-01 00:00:00.000'
   OR bar_time > TIMESTAMP '${checked_at}'
