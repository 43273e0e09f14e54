-- The newest run id recorded so far (a new run's id must sort after it).
SELECT max(run_id) AS run_id FROM ${dq_table}
