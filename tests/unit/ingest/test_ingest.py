"""run_ingest orchestration: source choice, demo runs to the local lake, per-ticker failures."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from runtime.demo import demo_bars
from runtime.errors import AuthError, ConfigError, SourceError
from runtime.ingest import IngestFailed, resolve_source, run_ingest
from runtime.polygon import FetchResult, Page
from runtime.settings import Settings
from runtime.storage import LocalStorage

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def lines(prefix):
    out = []
    for uri in LocalStorage().list(prefix):
        out.extend(json.loads(x) for x in LocalStorage().read(uri).decode().splitlines())
    return out


@pytest.fixture
def settings(tmp_path):
    return Settings(home=tmp_path / "home", tickers=("AAPL", "MSFT", "IBM"))


def test_resolve_source_auto_depends_on_the_key(settings):
    assert resolve_source(settings, "auto") == "demo"
    keyed = settings.replace(polygon_api_key="test-key-not-real")
    assert resolve_source(keyed, "auto") == "polygon"
    assert resolve_source(keyed, "DEMO") == "demo"
    with pytest.raises(ConfigError, match="source must be one of auto, polygon, demo, got 'yahoo'"):
        resolve_source(settings, "yahoo")
    with pytest.raises(AuthError, match="--source polygon needs an API key"):
        resolve_source(settings, "polygon")


def test_demo_run_writes_every_bar_once_with_lineage(settings):
    seen = []
    summary = run_ingest(
        settings, end_date=date(2026, 11, 27), days=7, now=NOW, progress=lambda *a: seen.append(a)
    )
    # 2026-11-20..27: sessions Fri 20, Mon 23 - Wed 25 (16 bars each), Thanksgiving closed,
    # early close Fri 27 (13 bars)
    assert summary.source == "demo"
    assert (summary.window_from, summary.window_to) == ("2026-11-20", "2026-11-27")
    assert summary.bars == 3 * (4 * 16 + 13) == 231
    assert {t: v["bars"] for t, v in summary.per_ticker.items()} == {
        "AAPL": 77,
        "MSFT": 77,
        "IBM": 77,
    }
    assert seen == [("AAPL", 1, 3), ("MSFT", 2, 3), ("IBM", 3, 3)]
    rows = lines(settings.raw_uri)
    assert len(rows) == 231 and len({(r["ticker"], r["t"]) for r in rows}) == 231
    aapl = [r for r in rows if r["ticker"] == "AAPL"]
    expected = demo_bars("AAPL", date(2026, 11, 20), date(2026, 11, 27))
    assert [(r["t"], r["o"], r["c"], r["v"]) for r in aapl] == [
        (b["t"], b["o"], b["c"], b["v"]) for b in expected
    ]
    assert {r["source"] for r in rows} == {"demo"}
    assert {r["ingested_at"] for r in rows} == {"2026-11-29T12:00:00.000Z"}
    assert summary.objects == 1 and summary.sink_calls == 1
    assert summary.to_dict()["per_ticker"]["IBM"]["error"] is None


class ScriptedClient:
    """Stands in for PolygonClient: per-ticker results or exceptions."""

    base_url = "http://127.0.0.1:9"

    def __init__(self, script):
        self.script = script
        self.asked = []

    def get_pages(self, label, url):  # the splits request: none known
        return [Page("rid-" + label, [])]

    def fetch_aggregates(self, ticker, start, end):
        self.asked.append(ticker)
        out = self.script[ticker]
        if isinstance(out, Exception):
            raise out
        return FetchResult(ticker, start, end, pages=[Page("rid-" + ticker, out)])

    def close(self):
        self.closed = True


GOOD = {"c": 10.5, "h": 11.0, "l": 10.0, "o": 10.25, "t": 1795165200000, "v": 1000}


def test_one_failing_ticker_does_not_stop_the_others(settings):
    keyed = settings.replace(polygon_api_key="test-key-not-real")
    client = ScriptedClient(
        {
            "AAPL": [GOOD],
            "MSFT": SourceError("MSFT: boom (request_id r9)"),
            "IBM": [dict(GOOD, t=1795168800000)],
        }
    )
    with pytest.raises(IngestFailed, match=r"1 of 3 ticker\(s\) failed \(MSFT\).*boom") as err:
        run_ingest(keyed, source="polygon", end_date=date(2026, 11, 27), now=NOW, client=client)
    assert client.asked == ["AAPL", "MSFT", "IBM"]
    assert [(r["ticker"], r["t"]) for r in lines(keyed.raw_uri)] == [
        ("AAPL", 1795165200000),
        ("IBM", 1795168800000),
    ]
    assert err.value.summary.bars == 2
    assert err.value.summary.failed == ["MSFT"]


def test_auth_error_stops_the_run_but_keeps_what_was_fetched(settings):
    keyed = settings.replace(polygon_api_key="test-key-not-real")
    client = ScriptedClient({"AAPL": [GOOD], "MSFT": AuthError("key refused"), "IBM": [GOOD]})
    with pytest.raises(AuthError, match="key refused"):
        run_ingest(keyed, source="polygon", end_date=date(2026, 11, 27), now=NOW, client=client)
    assert client.asked == ["AAPL", "MSFT"]
    # AAPL's record was buffered in the sink; it is flushed, not lost
    assert [r["ticker"] for r in lines(keyed.raw_uri)] == ["AAPL"]


def test_rejects_are_counted_written_and_do_not_fail_the_run(settings):
    keyed = settings.replace(polygon_api_key="test-key-not-real", tickers=("AAPL",))
    client = ScriptedClient({"AAPL": [GOOD, dict(GOOD, v="many"), dict(GOOD, t=1795168800000)]})
    summary = run_ingest(
        keyed, source="polygon", end_date=date(2026, 11, 27), now=NOW, client=client
    )
    assert (summary.bars, summary.rejects) == (2, 1)
    (rej,) = lines(keyed.rejects_uri)
    assert rej["reason"] == "field 'v' is not a number: 'many'"
    assert rej["payload"]["v"] == "many" and rej["request_id"] == "rid-AAPL"


def test_days_defaults_to_settings_window(settings):
    s = settings.replace(window_days=2, tickers=("AAPL",))
    summary = run_ingest(s, source="demo", now=NOW)
    assert (summary.window_from, summary.window_to) == ("2026-11-26", "2026-11-28")
    assert summary.bars == 13  # only the early-close Friday in that window


def test_delivery_failure_is_the_error_raised_even_if_the_final_flush_fails(settings):
    from runtime.errors import DeliveryError

    class BrokenSink:
        calls = objects = 0

        def __init__(self):
            self.flushes = 0

        def put(self, records):
            raise DeliveryError("3 records could not be delivered (first failure)")

        def flush(self):
            self.flushes += 1
            raise DeliveryError("flush failed too")

    sink = BrokenSink()
    with pytest.raises(DeliveryError, match="first failure"):
        run_ingest(settings, source="demo", end_date=date(2026, 11, 27), now=NOW, sink=sink)
    assert sink.flushes == 1  # it still tried to deliver what was buffered


@pytest.mark.parametrize(
    "days, expected",
    [
        # 3 tickers x 1 page (8 dates of minute bars fit one 50,000-bar page) x (12 s + 30 s)
        (7, 600 + 3 * 42.0),
        # 401 dates: 577,440 minute bars at most, 12 pages per ticker
        (400, 600 + 3 * 12 * 42.0),
    ],
)
def test_a_polygon_run_gets_a_deadline_from_its_tickers_window_and_rate(
    settings, monkeypatch, days, expected
):
    from runtime import ingest
    from runtime.polygon import PolygonClient

    made = {}

    def capture(cls, settings, **kw):
        made.update(kw)
        return ScriptedClient({"AAPL": [], "MSFT": [], "IBM": []})

    monkeypatch.setattr(PolygonClient, "from_settings", classmethod(capture))
    keyed = settings.replace(polygon_api_key="test-key-not-real")
    run_ingest(keyed, source="polygon", end_date=date(2026, 11, 27), days=days, now=NOW)
    assert made == {"run_deadline": expected}
    assert ingest.run_deadline(3, days + 1, 5) == expected


def test_a_full_disk_stops_the_ingest_naming_the_file_and_leaves_no_temporary_files(
    settings, monkeypatch
):
    import errno
    import os
    from pathlib import Path

    from runtime.errors import StorageError

    def full(self, data):
        with open(self, "wb") as fh:
            fh.write(data[:10])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(StorageError) as err:
        run_ingest(settings, source="demo", end_date=date(2026, 11, 27), now=NOW)
    message = str(err.value)
    import re

    # the raw object, by its arrival time (now): raw/YYYY/MM/DD/HH/<stream>-1-...
    assert re.match(rf"cannot write {re.escape(settings.raw_uri)}\d{{4}}(/\d\d){{3}}/"
                    r"stockpipe-local-1-", message), message
    assert "No space left on device; the file system holding it is full" in message
    left = [p for p in Path(settings.home).rglob("*") if p.is_file()]
    assert left == []
