-- The request window of the most recent ingest (for the missing-session-hours check).
SELECT window_from, window_to
FROM ${raw_table}
WHERE window_from IS NOT NULL AND window_to IS NOT NULL
ORDER BY ingested_at DESC
LIMIT 1
