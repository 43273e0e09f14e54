-- The production archive is a plain copy of the deduplicated table, partition column last.
SELECT ${columns}
FROM ${sans_dup_table}
