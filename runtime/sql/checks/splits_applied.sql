-- severity: warning
-- Splits applied in this run (splits_applied_list.sql; quality's log lists them). Not a defect:
-- the warning says the published history before these dates changed basis.
SELECT count(*) AS failing_rows
FROM (
${splits_applied_list}
) applied
