SELECT count(*) AS row_count FROM ${table}
