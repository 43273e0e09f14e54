-- severity: error
-- scope: partition
-- Tickers that are not an upper-case symbol (AAPL, BRK.B, an optional market prefix such as
-- X:BTCUSD): 'aapl', '' or 'A;B' in raw data would otherwise reach production. The pattern is
-- the one every configured ticker is validated with. Null tickers are left to null_values.
SELECT count(*) AS failing_rows
FROM ${sans_dup_table}
WHERE NOT regexp_like(ticker, '^(?:[A-Z]{1,2}:)?[A-Z0-9][A-Z0-9.\-]{0,15}$$')
