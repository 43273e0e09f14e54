-- One row per ticker and exchange session in the range, for any number of tickers (the
-- dashboard's multi-value ticker variable, quoted and comma-separated): the session's OHLC,
-- volume, volume-weighted average price, bar count, and its intraday hourly log returns summed
-- and squared. A session is the exchange-time day of the bar start (the first 10 characters of
-- day_hour_partition); returns are taken only between bars of the same session, so overnight
-- and weekend gaps are left out. The report's overview, daily candles and session volatility
-- (sqrt(252 * sum of squared returns) in percent) are computed from these rows.
WITH bars AS (
  SELECT
    ticker,
    bar_time,
    open,
    high,
    low,
    close,
    volume,
    vwap,
    substr(day_hour_partition, 1, 10) AS session_day,
    ln(close / lag(close) OVER (
      PARTITION BY ticker, substr(day_hour_partition, 1, 10) ORDER BY bar_time)) AS log_return
  FROM {{prod_latest_view}}
  WHERE ticker IN (${ticker:singlequote})
    AND $__timeFilter(bar_time)
    AND {{partition_column}} BETWEEN
      format_datetime($__timeFrom() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd')
      AND format_datetime($__timeTo() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')
)
SELECT
  ticker,
  session_day,
  min(bar_time) AS first_bar,
  max(bar_time) AS last_bar,
  min_by(open, bar_time) AS open,
  max(high) AS high,
  min(low) AS low,
  max_by(close, bar_time) AS close,
  sum(volume) AS volume,
  sum(vwap * volume) / nullif(sum(volume), 0) AS vwap,
  count(*) AS bars,
  count(log_return) AS returns,
  coalesce(sum(log_return), 0.0) AS sum_return,
  coalesce(sum(log_return * log_return), 0.0) AS sum_sq_return
FROM bars
GROUP BY ticker, session_day
ORDER BY ticker, session_day
