-- Written for Athena (Trino). The local engine must give exactly Trino's answers; the expected
-- values are worked out by hand in test_trino_semantics.py.
WITH bars AS (
    SELECT *
    FROM (
        VALUES
            ('AAPL', BIGINT '1577941200000', 74.6099E0, BIGINT '135647456'),
            ('AAPL', BIGINT '1578027600000', 1.005E0, BIGINT '146535512'),
            ('AAPL', BIGINT '1593655200000', 2.345E0, BIGINT '7')
    ) AS v (ticker, t, vw, volume)
)
SELECT
    ticker,
    from_unixtime(t / 1000) AS bar_time_tz,
    CAST(from_unixtime(t / 1000) AS timestamp) AS bar_time,
    CAST(CAST(from_unixtime(t / 1000) AS timestamp) AS varchar) AS bar_time_text,
    date_format(from_unixtime(t / 1000), '%Y-%m-%d %H:%i:%s') AS utc_text,
    format_datetime(
        from_unixtime(t / 1000) AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH'
    ) AS day_hour_partition,
    round(vw, 2) AS vwap,
    round(2.345, 2) AS decimal_round,
    round(75.145E0, 2) AS double_round_binary_half,
    round(-75.145E0, 2) AS negative_double_round_binary_half,
    round(-2.5E0) AS negative_half,
    volume / 2 AS half_volume,
    7 / 2 AS seven_halves,
    -7 / 2 AS minus_seven_halves,
    CAST(volume AS varchar) AS volume_text,
    row_number() OVER (PARTITION BY ticker ORDER BY t DESC) AS recency,
    lag(t) OVER (PARTITION BY ticker ORDER BY t) AS previous_t
FROM bars
ORDER BY t
