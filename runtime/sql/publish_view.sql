-- The stable production name readers (Grafana, notebooks, report) query.
CREATE OR REPLACE VIEW ${view} AS
SELECT * FROM ${prod_table}
