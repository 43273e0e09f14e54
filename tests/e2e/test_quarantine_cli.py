"""One unreadable raw object no longer blocks every run: the run that meets it quarantines it
(with a reason and a failed blocking check), the next run goes on, and a released object is
read exactly once, leaving the tables a full refresh would build."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from .conftest import END

pytestmark = pytest.mark.e2e

RESTATED_AT = "2099-01-01T00:00:00.000Z"


def _published(home, run_cli) -> str:
    result = run_cli("run", "--home", str(home), "--source", "demo", "--tickers", "AAPL",
                     "--end-date", END.isoformat(), "--days", "3", "--json")
    assert result.code == 0, result.err
    return result.json()["published_table"]


def _deliver(lake, body: bytes, minutes: int) -> str:
    """A raw object in the Firehose layout, arriving `minutes` after now; returns its key."""
    from runtime.records import arrival_key

    arrival = datetime.now(timezone.utc) + timedelta(minutes=minutes)
    uri = arrival_key(lake.settings.raw_uri, "test-stream", arrival)
    lake.storage.write(uri, body)
    return uri[len(lake.settings.raw_uri):]


def _lines(records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _sans_dup(lake):
    return lake.rows("SELECT ticker, bar_time_ms, volume FROM stock_aggregate_sans_dup "
                     "ORDER BY 1, 2")


def test_a_garbage_object_is_quarantined_and_the_next_run_publishes_the_rest(
    home, run_cli, make_lake
):
    first = _published(home, run_cli)
    lake = make_lake(home)
    good = [dict(r, v=r["v"] + 1, ingested_at=RESTATED_AT) for r in lake.raw_records()[:2]]
    good_key = _deliver(lake, _lines(good), 1)
    bad_key = _deliver(lake, b"\x00\x9f garbage, not JSON", 2)
    lake.close()

    blocked = run_cli("workflow", "--home", str(home), "--json")
    assert blocked.code == 3
    quarantined = blocked.json()["raw_quarantined"]
    assert [q["key"] for q in quarantined] == [bad_key]
    assert quarantined[0]["reason"] == "not UTF-8 text (byte 1 is 0x9f)"
    assert blocked.json()["published_table"] is None
    (line,) = [m for m in blocked.messages if "quarantined" in m]
    assert line.startswith(f"stockpipe: quarantined 1 raw object that cannot be read: {bad_key} "
                           "(not UTF-8 text (byte 1 is 0x9f)), moved to ")
    assert not (home / "lake" / "raw" / bad_key).exists()
    moved = home / "lake" / "raw-quarantine" / bad_key
    assert moved.read_bytes() == b"\x00\x9f garbage, not JSON"
    reason = json.loads(Path(f"{moved}.quarantine.json").read_text())
    assert (reason["key"], reason["reason"]) == (bad_key, "not UTF-8 text (byte 1 is 0x9f)")

    # the check history says why, and status and checks show it
    status = run_cli("status", "--home", str(home), "--json")
    assert status.code == 2
    data = status.json()
    assert (data["state"], data["checks"]["failed"]) == ("failed", ["raw_quarantine"])
    assert data["last_publish"]["table"] == first
    assert [q["key"] for q in data["quarantined"]] == [bad_key]
    assert any(w.startswith("1 raw object quarantined (not in production): ") for w in
               data["warnings"])

    listed = run_cli("quarantine", "list", "--home", str(home), "--json")
    assert listed.code == 0
    (item,) = listed.json()["objects"]
    assert (item["key"], item["reason"], item["run_id"]) == (
        bad_key, "not UTF-8 text (byte 1 is 0x9f)", reason["run_id"])
    assert item["quarantined_at"] == reason["quarantined_at"]
    text = run_cli("quarantine", "list", "--home", str(home))
    assert text.out.startswith(f"{bad_key}  quarantined {reason['quarantined_at']} (run ")

    # the next run reads the good object and publishes
    after = run_cli("workflow", "--home", str(home), "--json")
    assert after.code == 0, after.err
    assert after.json()["raw_objects_read"] == 1
    assert after.json()["published_table"] not in (None, first)
    lake = make_lake(home)
    volumes = dict(((r[0], r[1]), r[2]) for r in _sans_dup(lake))
    for record in good:
        assert volumes[(record["ticker"], record["t"])] == round(record["v"], 2)
    assert (home / "lake" / "raw" / good_key).exists()  # only the bad object was moved


def test_a_released_object_is_read_once_and_the_tables_equal_a_full_refresh(
    home, run_cli, make_lake
):
    _published(home, run_cli)
    lake = make_lake(home)
    restated = [dict(r, v=r["v"] + 7, ingested_at=RESTATED_AT) for r in lake.raw_records()[:3]]
    bad_line = b'{"ticker": "AAPL", "t": "oops", "o": 1}\n'
    key = _deliver(lake, _lines(restated) + bad_line, 1)
    lake.close()

    blocked = run_cli("workflow", "--home", str(home))
    assert blocked.code == 3
    assert any(f"{key} (line 4: field 't' = \"oops\" is not a whole number)" in m
               for m in blocked.messages), blocked.err
    assert run_cli("workflow", "--home", str(home)).code == 0

    # the operator fixes the object and releases it
    held = home / "lake" / "raw-quarantine" / key
    held.write_bytes(_lines(restated))
    released = run_cli("quarantine", "release", "--home", str(home), key)
    assert (released.code, released.out.split(";")[0]) == (
        0, f"released {key} into {home.resolve() / 'lake' / 'raw'}/")
    assert not held.exists() and not Path(f"{held}.quarantine.json").exists()
    assert run_cli("quarantine", "list", "--home", str(home)).out.startswith(
        "no quarantined objects")

    read = run_cli("workflow", "--home", str(home), "--json")
    assert read.code == 0, read.err
    assert read.json()["raw_objects_read"] == 1
    again = run_cli("workflow", "--home", str(home), "--json")
    assert again.json()["raw_objects_read"] == 0

    lake = make_lake(home)
    commits = lake.rows(
        "SELECT count(*) FROM stock_aggregate_lineage WHERE event = 'object' "
        f"AND object_key = '{key}'")
    assert commits == [(1,)]
    incremental = _sans_dup(lake)
    volumes = dict(((r[0], r[1]), r[2]) for r in incremental)
    for record in restated:
        assert volumes[(record["ticker"], record["t"])] == round(record["v"], 2)
    lake.close()
    assert run_cli("workflow", "--home", str(home), "--full-refresh").code == 0
    lake = make_lake(home)
    assert _sans_dup(lake) == incremental


def test_release_refuses_an_unknown_key_and_moves_nothing(home, run_cli, make_lake):
    _published(home, run_cli)
    lake = make_lake(home)
    key = _deliver(lake, b'{"ticker": "AAPL", "t": 1', 1)
    lake.close()
    assert run_cli("workflow", "--home", str(home)).code == 3
    result = run_cli("quarantine", "release", "--home", str(home), key, "2026/01/01/00/nope")
    assert result.code == 1
    assert result.messages == [
        f"stockpipe: error: not in the quarantine ({home.resolve() / 'lake' / 'raw-quarantine'}/)"
        f": 2026/01/01/00/nope; quarantined keys: {key}"
    ]
    assert (home / "lake" / "raw-quarantine" / key).exists()
    assert run_cli("quarantine", "release", "--home", str(home)).code == 1  # no KEY, no --all
    done = run_cli("quarantine", "release", "--all", "--home", str(home), "--json")
    assert (done.code, done.json()) == (0, {"released": [key]})
    assert (home / "lake" / "raw" / key).exists()


def test_a_raw_object_at_another_folder_depth_is_reported(home, run_cli):
    _published(home, run_cli)
    odd = home / "lake" / "raw" / "2026" / "11" / "stray.json"
    odd.parent.mkdir(parents=True, exist_ok=True)
    odd.write_text('{"ticker": "AAPL"}\n')
    result = run_cli("workflow", "--home", str(home), "--json")
    assert result.code == 0, result.err
    assert result.json()["raw_misplaced"] == ["2026/11/stray.json"]
    expected = (
        f"1 raw object in {home.resolve() / 'lake' / 'raw'}/ not at YYYY/MM/DD/HH/<name> and not "
        "read: 2026/11/stray.json; move it into that layout (or delete)"
    )
    assert f"stockpipe: warning: {expected}" in result.messages
    status = run_cli("status", "--home", str(home), "--json").json()
    assert status["raw_misplaced"] == ["2026/11/stray.json"]
    assert expected in status["warnings"]
    text = run_cli("status", "--home", str(home))
    assert f"  warning: {expected}" in text.out.splitlines()
