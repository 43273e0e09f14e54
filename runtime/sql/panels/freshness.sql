-- How fresh one ticker's data is: its latest bar start in the range and the hours from it to
-- the end of the range (the dashboard's "now"). Bars arrive once a day and none exist on
-- weekends or holidays, so an age of up to about three days can be normal.
SELECT
  max(bar_time) AS latest_bar,
  date_diff('hour', max(bar_time), $__timeTo()) AS hours_since_latest_bar
FROM {{prod_latest_view}}
WHERE ticker = '$ticker'
  AND $__timeFilter(bar_time)
  AND {{partition_column}} BETWEEN
    format_datetime($__timeFrom() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd')
    AND format_datetime($__timeTo() AT TIME ZONE 'UTC' AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')
