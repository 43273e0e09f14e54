-- The newest bar of each ticker in production, for `stockpipe status` and the report's status
-- section: a ticker is current when its newest bar is on or after the last completed session.
SELECT ticker, max(bar_time) AS latest_bar, count(*) AS bars
FROM ${view}
GROUP BY ticker
ORDER BY ticker
