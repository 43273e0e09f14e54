-- Metadata only, as in Athena: the step deletes the files under the table's location itself.
DROP TABLE IF EXISTS ${table}
