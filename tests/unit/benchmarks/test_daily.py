"""The daily-run benchmark on a tiny lake: each timed pair starts from the same saved state (the
second incremental run reads exactly the new objects again), both table sets end equal, and the
medians and every pair's ratio reach the results table."""

from __future__ import annotations

from benchmarks import daily
from benchmarks.generate import Size


def test_repeated_pairs_start_from_the_same_state_and_report_medians(tmp_path, monkeypatch):
    monkeypatch.setattr(daily, "DATA", tmp_path)
    monkeypatch.setattr(daily, "_median_run", _spy(daily._median_run))
    result = daily.scenario(Size(2, 12), "day", repeat=2)

    for kind in ("incremental", "full"):
        runs = _spy.seen[kind]
        assert len(runs) == 2 and len(result["repeats"][kind]) == 2
        # A restored state: the second run does the same work as the first.
        assert [daily._total(r, "statements") for r in runs] == [
            daily._total(runs[0], "statements")] * 2
    new = result["new"]["bytes"]
    assert [daily._total(r, "json_bytes") for r in _spy.seen["incremental"]] == [new, new]
    assert all(r["transform"]["mode"] == "incremental" for r in _spy.seen["incremental"])
    assert all(d[:2] == [0, 0] for d in result["difference"].values())
    assert result["incremental"] in _spy.seen["incremental"]
    assert not (tmp_path / "daily-2x12-day" / ".saved-state").exists()

    table = "\n".join(daily.targets([result | {"size": "500x365"}]))
    assert "median of 2 pairs, each: " in table


def _spy(median):
    _spy.seen = {}

    def wrapped(runs):
        kind = "full" if runs[0]["transform"]["mode"] == "full" else "incremental"
        _spy.seen[kind] = list(runs)
        return median(runs)

    return wrapped
