-- severity: error
-- An empty deduplicated table must never become the production copy: a run that brought no
-- bars at all (an API outage, a mistyped ticker list) fails here and the previous copy stays.
SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END AS failing_rows
FROM ${sans_dup_table}
