"""The benchmark generator writes the exact Firehose raw layout
(docs/architecture.md, "Raw record")."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict

import pytest

from benchmarks import generate as gen
from benchmarks.generate import Size

KEY = re.compile(
    r"^(\d{4})/(\d{2})/(\d{2})/(\d{2})/stockpipe-bars-1-"
    r"(\d{4})-(\d{2})-(\d{2})-(\d{2})-\d{2}-\d{2}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
    r"a[0-9a-f]{3}-[0-9a-f]{12}$"
)
FIELDS = [
    "ticker", "t", "o", "h", "l", "c", "v", "vw", "n", "ingested_at", "request_id",
    "window_from", "window_to", "source",
]


def _objects(root):
    raw = root / "lake" / "raw"
    return sorted(p for p in raw.rglob("*") if p.is_file())


def _records(root):
    out = []
    for p in _objects(root):
        out.extend(json.loads(line) for line in p.read_text().splitlines())
    return out


def test_objects_sit_under_their_utc_arrival_hour_with_firehose_names(tiny_lake):
    root, manifest = tiny_lake
    objects = _objects(root)
    assert len(objects) == manifest.objects
    for p in objects:
        rel = p.relative_to(root / "lake" / "raw").as_posix()
        m = KEY.match(rel)
        assert m, rel
        # The folder is the arrival hour, and the object name repeats it.
        assert m.groups()[:4] == m.groups()[4:]


def test_every_record_is_a_newline_terminated_json_line_with_lineage(tiny_lake):
    root, _ = tiny_lake
    for p in _objects(root):
        data = p.read_bytes()
        assert data.endswith(b"\n")
        first = json.loads(data.split(b"\n", 1)[0])
        assert list(first) == FIELDS
        assert first["source"] == "demo"
        assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", first["ingested_at"])
        assert re.match(r"^[0-9a-f]{32}$", first["request_id"])


def test_raw_rows_are_tickers_times_sessions_times_16_bars_times_5_deliveries(tiny_lake):
    root, manifest = tiny_lake
    records = _records(root)
    # 2 tickers x 5 sessions x 16 hourly bars x 5 deliveries.
    assert len(records) == 800
    assert manifest.raw_rows == 800
    assert manifest.bars == 160
    assert manifest.sessions == ["2026-11-19", "2026-11-20", "2026-11-23", "2026-11-24",
                                 "2026-11-25"]
    assert manifest.tickers == ["AAA", "AAB"]


def test_each_bar_arrives_five_times_and_the_latest_delivery_holds_the_final_volume(tiny_lake):
    root, _ = tiny_lake
    versions = defaultdict(list)
    for r in _records(root):
        versions[(r["ticker"], r["t"])].append(r)
    assert len(versions) == 160
    for copies in versions.values():
        copies.sort(key=lambda r: r["ingested_at"])
        assert len({r["ingested_at"] for r in copies}) == 5
        final = copies[-1]
        # Each earlier delivery is one restatement further back: 37 shares, one trade and
        # 0.0007 of close fewer (close kept inside [low, high]); open/high/low/vwap unchanged.
        assert [r["v"] - copies[0]["v"] for r in copies] == [0, 37, 74, 111, 148]
        assert [final["n"] - r["n"] for r in copies] == [
            min(4 - j, final["n"] - 1) for j in range(5)
        ]
        for back, r in zip(range(4, -1, -1), copies):
            want = min(max(round(final["c"] - back * 0.0007, 4), final["l"]), final["h"])
            assert r["c"] == pytest.approx(want, abs=1e-9)
        assert len({(r["o"], r["h"], r["l"], r["vw"]) for r in copies}) == 1


def test_bars_are_the_16_extended_hours_in_new_york_time(tiny_lake):
    root, _ = tiny_lake
    times = sorted({r["t"] for r in _records(root) if r["ticker"] == "AAA"})
    assert len(times) == 80
    # 2026-11-19 04:00 EST is 09:00 UTC; the last bar of the day starts at 19:00 EST.
    assert times[0] == 1795078800000
    assert times[15] - times[0] == 15 * 3_600_000
    assert times[16] - times[15] == 9 * 3_600_000  # 19:00 -> next day 04:00


def test_bars_are_ohlc_consistent_in_every_delivery(tiny_lake):
    root, _ = tiny_lake
    for r in _records(root):
        assert 0 < r["l"] <= min(r["o"], r["c"]) <= max(r["o"], r["c"]) <= r["h"]
        assert r["l"] <= r["vw"] <= r["h"]
        assert r["v"] > 0 and r["n"] > 0


def test_ingest_window_is_the_seven_days_before_the_run(tiny_lake):
    root, _ = tiny_lake
    for r in _records(root):
        arrival = dt.date.fromisoformat(r["ingested_at"][:10])
        assert r["window_to"] == (arrival - dt.timedelta(days=1)).isoformat()
        assert r["window_from"] == (arrival - dt.timedelta(days=7)).isoformat()


def test_objects_are_split_at_the_firehose_buffer_size(tmp_path, monkeypatch):
    monkeypatch.setattr(gen, "FIREHOSE_MAX_OBJECT_BYTES", 20_000)
    manifest = gen.generate(tmp_path, Size(3, 7), dt.date(2026, 11, 25))
    sizes = [p.stat().st_size for p in _objects(tmp_path)]
    assert max(sizes) <= 20_000
    assert manifest.max_object_bytes == max(sizes)
    assert sum(len(p.read_text().splitlines()) for p in _objects(tmp_path)) == 3 * 5 * 16 * 5


def test_generation_is_reproducible(tmp_path):
    a = gen.generate(tmp_path / "a", Size(1, 3), dt.date(2026, 11, 25))
    b = gen.generate(tmp_path / "b", Size(1, 3), dt.date(2026, 11, 25))
    assert a.raw_bytes == b.raw_bytes
    assert _records(tmp_path / "a") == _records(tmp_path / "b")


def test_ensure_reuses_data_of_the_same_size_only(tmp_path):
    end = dt.date(2026, 11, 25)
    _, made = gen.ensure(tmp_path, Size(1, 3), end)
    _, again = gen.ensure(tmp_path, Size(1, 3), end)
    manifest, other = gen.ensure(tmp_path, Size(2, 3), end)
    assert (made, again, other) == (True, False, True)
    assert manifest.tickers == ["AAA", "AAB"]


@pytest.mark.parametrize("text", ["10", "x30", "10x", "0x5", "axb", "10x30x2"])
def test_size_parse_rejects_text_that_is_not_tickers_x_days(text):
    with pytest.raises(ValueError, match="TICKERSxDAYS|tickers"):
        Size.parse(text)


def test_size_parse_reads_tickers_and_days():
    assert Size.parse("500x365") == Size(500, 365)
    assert Size.parse("500x365").label == "500x365"
