-- What publish needs from the lineage table, in one scan of it: the fingerprint of
-- ${sans_dup_table} that quality run ${quality_run_id} recorded (digest in detail, rows,
-- files), and every archive a publish started (publish_start) or completed (publish).
SELECT event, table_name, detail, source_rows, written_rows
FROM ${lineage_table}
WHERE event IN ('publish_start', 'publish')
   OR (event = 'quality' AND run_id = '${quality_run_id}' AND table_name = '${sans_dup_table}')
