"""The adjusted view and the two split checks on a hand-written lake: one basis for the whole
history (forward, reverse, two splits, mixed source bases), the execution-date boundary in New
York time, splits that touch no stored bar, and each clause of the checks at its boundary."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from runtime import steps
from runtime.errors import QualityCheckFailed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
COLS = "open, high, low, close, volume, vwap"
TRADED = "open_traded, high_traded, low_traded, close_traded, volume_traded, vwap_traded"


def land_splits(lake, events, *, window_to="2026-11-20", ingested_at="2026-11-21T12:00:00.000Z",
                source="demo", n=1):
    """One splits/ object holding `events` as the ingest lands them."""
    lines = []
    for e in events:
        when, ticker, split_from, split_to = e
        lines.append(json.dumps({
            "id": f"{ticker}-{when}", "ticker": ticker, "execution_date": when,
            "adjustment_type": "forward_split" if split_to > split_from else "reverse_split",
            "split_from": split_from, "split_to": split_to,
            "historical_adjustment_factor": None, "ingested_at": ingested_at,
            "request_id": f"rs{n}", "window_from": "2026-11-01", "window_to": window_to,
            "source": source,
        }) + "\n")
    uri = f"{lake.settings.splits_uri}2026/11/21/12/splits-1-2026-11-21-12-00-00-{n:08d}"
    lake.storage.write(uri, "".join(lines).encode())


def workflow(lake, now=NOW):
    s = lake.settings
    for name in ("crawl", "transform", "dedup"):
        getattr(steps, name)(s, lake.engine, lake.storage)
    return steps.quality(s, lake.engine, lake.storage, now=now)


def failing(result, name):
    return {c.name: c.failing_rows for c in result.checks}[name]


def view(lake, cols, where=""):
    return lake.rows(
        f"SELECT {cols} FROM {lake.settings.adjusted_view} {where} ORDER BY bar_time_ms"
    )


def traded_bar(helpers, t, price, volume=1000):
    """As-traded bar at `price` (o=l=price, h=+2, c=+1, vw=+0.5), whole cents."""
    return helpers.bar(t, o=price, h=price + 2, l=price, c=price + 1, v=volume, vw=price + 0.5)


def test_a_split_puts_the_bars_before_it_on_the_new_basis_and_keeps_the_traded_values(
    mini, helpers
):
    day12 = helpers.ms(2026, 11, 12, 15)  # 10:00 EST
    day17 = helpers.ms(2026, 11, 17, 15)
    # the demo source plays the API at its window's end: before the split, then after it
    mini.raw([{**traded_bar(helpers, day12, 100), "window_to": "2026-11-13"}])
    mini.raw([{**traded_bar(helpers, day17, 51), "window_to": "2026-11-17"}])
    land_splits(mini, [("2026-11-16", "AAPL", 1, 2)], window_to="2026-11-17")

    result = workflow(mini)

    assert view(mini, COLS) == [
        (50.0, 51.0, 50.0, 50.5, 2000.0, 50.25),
        (51.0, 53.0, 51.0, 52.0, 1000.0, 51.5),
    ]
    assert view(mini, TRADED + ", split_factor") == [
        (100.0, 102.0, 100.0, 101.0, 1000.0, 100.5, 2.0),
        (51.0, 53.0, 51.0, 52.0, 1000.0, 51.5, 1.0),
    ]
    assert failing(result, "splits_applied") == 1
    assert failing(result, "unexplained_split_jump") == 0
    published = steps.publish(mini.settings, mini.engine, mini.storage, now=NOW)
    prod_view = mini.settings.prod_latest_view  # over the archive `published.table`
    assert mini.rows(f"SELECT close, close_traded FROM {prod_view} ORDER BY bar_time_ms") \
        == [(50.5, 101.0), (52.0, 52.0)]
    assert mini.rows(f"SELECT close FROM {published.table} ORDER BY bar_time_ms") \
        == [(101.0,), (52.0,)]  # the archive holds the bars as stored


def test_the_execution_date_starts_at_midnight_in_new_york(mini, helpers):
    post_market = helpers.ms(2026, 11, 14, 0)  # 2026-11-13 19:00 EST: the old basis still
    pre_market = helpers.ms(2026, 11, 16, 9)  # 2026-11-16 04:00 EST: already the new basis
    mini.raw([
        {**traded_bar(helpers, post_market, 100), "window_to": "2026-11-13"},
        {**traded_bar(helpers, pre_market, 50), "window_to": "2026-11-16"},
    ])
    land_splits(mini, [("2026-11-16", "AAPL", 1, 2)])
    workflow(mini)
    assert view(mini, "open, split_factor") == [(50.0, 2.0), (50.0, 1.0)]


def test_a_bar_the_source_already_adjusted_is_not_adjusted_again(mini, helpers):
    # Landed by a run after the split: the API gave it on the new basis.
    day12 = helpers.ms(2026, 11, 12, 15)
    mini.raw([{**traded_bar(helpers, day12, 50), "window_to": "2026-11-17"}])
    land_splits(mini, [("2026-11-16", "AAPL", 1, 2)])
    result = workflow(mini)
    assert view(mini, "open, volume, open_traded, volume_traded, split_factor") == [
        (50.0, 1000.0, 100.0, 500.0, 2.0)
    ]
    # nothing stored was on the old basis: the run restated nothing
    assert failing(result, "splits_applied") == 0


def test_a_reverse_split_multiplies_the_earlier_prices_and_divides_the_volume(mini, helpers):
    day12 = helpers.ms(2026, 11, 12, 15)
    day17 = helpers.ms(2026, 11, 17, 15)
    mini.raw([
        {**traded_bar(helpers, day12, 1.2, volume=50000), "window_to": "2026-11-13"},
        {**traded_bar(helpers, day17, 12.5, volume=5000), "window_to": "2026-11-17"},
    ])
    land_splits(mini, [("2026-11-16", "AAPL", 10, 1)])  # 1-for-10
    result = workflow(mini)
    assert view(mini, COLS + ", split_factor") == [
        (12.0, 32.0, 12.0, 22.0, 5000.0, 17.0, 0.1),
        (12.5, 14.5, 12.5, 13.5, 5000.0, 13.0, 1.0),
    ]
    assert failing(result, "unexplained_split_jump") == 0


def test_two_splits_in_one_history_and_bars_landed_between_them(mini, helpers, caplog):
    day06, day12, day17 = (helpers.ms(2026, 11, d, 15) for d in (6, 12, 17))
    mini.raw([
        {**traded_bar(helpers, day06, 120), "window_to": "2026-11-06"},  # before both
        {**traded_bar(helpers, day12, 60), "window_to": "2026-11-12"},  # after the first
        {**traded_bar(helpers, day17, 20), "window_to": "2026-11-17"},  # after both
    ])
    land_splits(mini, [("2026-11-10", "AAPL", 1, 2)], window_to="2026-11-12", n=1,
                ingested_at="2026-11-13T12:00:00.000Z")
    land_splits(mini, [("2026-11-10", "AAPL", 1, 2), ("2026-11-16", "AAPL", 1, 3)],
                window_to="2026-11-17", n=2)
    result = workflow(mini)
    assert view(mini, "open, volume, open_traded, split_factor") == [
        (20.0, 6000.0, 120.0, 6.0),
        (20.0, 3000.0, 60.0, 3.0),
        (20.0, 1000.0, 20.0, 1.0),
    ]
    # Only the 3-for-1 is new in the newest snapshot; the 2-for-1 was applied by an earlier run.
    assert failing(result, "splits_applied") == 1
    listed = [r.getMessage() for r in caplog.records if r.name == "runtime.adjustments"]
    assert listed == ["splits applied in this run, the history before them is on the new "
                      "basis: AAPL 2026-11-16 (ratio 3)"]


def test_the_newest_version_of_an_event_wins(mini, helpers):
    mini.raw([{**traded_bar(helpers, helpers.ms(2026, 11, 12, 15), 100),
               "window_to": "2026-11-13"}])
    land_splits(mini, [("2026-11-16", "AAPL", 1, 2)], n=1, ingested_at="2026-11-17T12:00:00.000Z")
    land_splits(mini, [("2026-11-16", "AAPL", 1, 4)], n=2, ingested_at="2026-11-18T12:00:00.000Z")
    workflow(mini)
    assert view(mini, "open") == [(25.0,)]


def test_splits_that_touch_no_stored_bar_change_nothing(make_mini, helpers):
    lake = make_mini(tickers=("AAPL", "MSFT"))
    day17 = helpers.ms(2026, 11, 17, 15)
    lake.raw([{**traded_bar(helpers, day17, 50), "window_to": "2026-11-17"}])
    land_splits(lake, [
        ("2026-11-16", "MSFT", 1, 2),  # a ticker with no stored history
        ("2026-11-10", "AAPL", 1, 2),  # before every stored AAPL bar
        ("2026-11-17", "AAPL", 1, 3),  # on the first stored day: that bar is already after it
        ("2026-11-25", "AAPL", 1, 5),  # announced: not executed by the snapshot's date
    ])
    result = workflow(lake)
    assert view(lake, "ticker, open, split_factor") == [("AAPL", 50.0, 1.0)]
    assert failing(result, "splits_applied") == 0
    assert failing(result, "unexplained_split_jump") == 0


def test_no_splits_table_yet_leaves_the_bars_as_they_are(mini, helpers):
    mini.raw([traded_bar(helpers, helpers.ms(2026, 11, 12, 15), 100)])
    s = mini.settings
    from runtime.sql_files import render, sql_uri

    # the raw table only: crawl would create the splits table too
    mini.engine.execute(render("crawl_raw_table.sql", raw_table=s.raw_table,
                               raw_uri=sql_uri(s.raw_uri)))
    for name in ("transform", "dedup"):
        getattr(steps, name)(s, mini.engine, mini.storage)
    assert not mini.engine.table_exists(s.splits_table)
    result = steps.quality(s, mini.engine, mini.storage, now=NOW)
    assert view(mini, "open, split_factor") == [(100.0, 1.0)]
    assert failing(result, "splits_applied") == 0


# ---- unexplained_split_jump, clause by clause ------------------------------------------------
@pytest.mark.parametrize(
    "previous_close, next_open, next_day, failing_rows",
    [
        (100.0, 50.0, 13, 1),  # exactly 1/2, overnight
        (100.0, 200.0, 13, 1),  # exactly 2
        (100.0, 196.5, 13, 1),  # 1.75% under 2: still a split ratio
        (100.0, 195.5, 13, 0),  # 2.25% under 2: an ordinary move
        (100.0, 203.9, 13, 1),  # 1.95% over 2
        (100.0, 204.1, 13, 0),  # 2.05% over 2
        (100.0, 10.1, 13, 1),  # 1/10 within 2%
        (10.0, 1000.0, 13, 1),  # 100
        (100.0, 33.6, 13, 1),  # 1/3 (ratio 2.976)
        (100.0, 50.0, 16, 1),  # over a weekend is overnight too
        (100.0, 150.0, 13, 0),  # 3/2 is not in the list
    ],
)
def test_jump_check_flags_an_overnight_split_ratio(
    mini, helpers, previous_close, next_open, next_day, failing_rows
):
    last_of_day = helpers.ms(2026, 11, 13, 0)  # 2026-11-12 19:00 EST
    first_next = helpers.ms(2026, 11, next_day, 9)  # 04:00 EST
    mini.raw([
        helpers.bar(last_of_day, o=previous_close, h=previous_close, l=previous_close,
                    c=previous_close, vw=previous_close),
        helpers.bar(first_next, o=next_open, h=next_open, l=next_open, c=next_open,
                    vw=next_open),
    ])
    result = workflow(mini)
    assert failing(result, "unexplained_split_jump") == failing_rows


def test_jump_check_ignores_a_jump_within_one_day_and_the_first_bar(mini, helpers):
    first = helpers.ms(2026, 11, 12, 15)
    second = helpers.ms(2026, 11, 12, 16)
    mini.raw([
        helpers.bar(first, o=100, h=100, l=100, c=100, vw=100),
        helpers.bar(second, o=50, h=50, l=50, c=50, vw=50),
    ])
    assert failing(workflow(mini), "unexplained_split_jump") == 0


def test_jump_check_compares_a_day_s_first_open_with_the_previous_day_s_last_close(
    mini, helpers
):
    # 2026-11-12 closes at 200 then 100; 2026-11-13 opens at 100 (no jump), then falls to 50
    # within the day. Halves and doubles are there, but not between a last close and the next
    # day's first open: nothing to count.
    def flat(ms, price):
        return helpers.bar(ms, o=price, h=price, l=price, c=price, vw=price)

    mini.raw([
        flat(helpers.ms(2026, 11, 12, 14), 200),  # 09:00 EST
        flat(helpers.ms(2026, 11, 12, 20), 100),  # 15:00 EST
        flat(helpers.ms(2026, 11, 13, 14), 100),
        flat(helpers.ms(2026, 11, 13, 20), 50),
    ])
    assert failing(workflow(mini), "unexplained_split_jump") == 0


def test_a_split_without_its_adjustment_blocks_publish(mini, helpers):
    mini.raw([
        {**traded_bar(helpers, helpers.ms(2026, 11, 13, 0), 99), "window_to": "2026-11-13"},
        {**traded_bar(helpers, helpers.ms(2026, 11, 16, 9), 50), "window_to": "2026-11-16"},
    ])
    result = workflow(mini)  # the split event never landed
    assert failing(result, "unexplained_split_jump") == 1 and not result.passed
    with pytest.raises(QualityCheckFailed, match="unexplained_split_jump"):
        steps.publish(mini.settings, mini.engine, mini.storage, now=NOW)
    land_splits(mini, [("2026-11-16", "AAPL", 1, 2)])
    assert failing(workflow(mini, NOW.replace(minute=5)), "unexplained_split_jump") == 0
