"""The quarantine on both storages (local folder, S3 under moto): what counts as unreadable, the
move with its reason, list and release; and transform's handling of a failed read."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from runtime.errors import EngineError, StorageError
from runtime.quarantine import (
    QuarantineError,
    find_unreadable,
    list_quarantined,
    quarantine,
    quarantine_uri,
    release,
    unreadable_reason,
)
from runtime.settings import Settings
from runtime.storage import LocalStorage, S3Storage

MOMENT = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
KEY = "2026/11/21/12/stream-1-2026-11-21-12-00-00-abc"


@pytest.fixture
def s3(s3_client):
    s3_client.create_bucket(Bucket="raw-bucket")
    return s3_client


@pytest.fixture(params=["local", "s3"])
def lake(request, tmp_path):
    if request.param == "local":
        settings = Settings(home=tmp_path / "home")
        return settings, LocalStorage()
    client = request.getfixturevalue("s3")
    settings = Settings(home=tmp_path / "home", raw_uri_override="s3://raw-bucket/raw/")
    return settings, S3Storage(client=client)


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"ticker": "AAPL", "t": 1}\n{"ticker": "AAPL", "t": 17',
     "line 2 is truncated: Expecting ',' delimiter at column 27"),
    (b'{"ticker": "AAPL"}\nnot json\n', "line 2 is not JSON: Expecting value at column 1"),
    (b"\xff\xfe\x00", "not UTF-8 text (byte 0 is 0xff)"),
    (b'[1, 2]\n', "line 1: a JSON list instead of an object"),
    (b'{"t": "12x"}\n', "line 1: field 't' = \"12x\" is not a whole number"),
    (b'{"t": 1.5}\n', "line 1: field 't' = 1.5 is not a whole number"),
    (b'{"t": 1e30}\n', "line 1: field 't' = 1e+30 is beyond a 64-bit integer"),
    (b'{"o": "cheap"}\n', "line 1: field 'o' = \"cheap\" is not a number"),
    (b'{"o": true}\n', "line 1: field 'o' = true is not a number"),
    (b'{"otc": "yes"}\n', "line 1: field 'otc' = \"yes\" is not true or false"),
])
def test_unreadable_content_gets_the_first_bad_line_and_why(body, reason):
    assert unreadable_reason(body) == reason


def test_what_the_engine_can_cast_is_not_unreadable():
    body = (b'{"ticker": "AAPL", "t": "1700000000000", "o": "10.5", "v": 3, "otc": null, '
            b'"n": 7.0, "extra": {"any": [1]}}\n\n{"ticker": 5}\n')
    assert unreadable_reason(body) is None


def test_quarantine_list_and_release_round_trip(lake):
    settings, storage = lake
    raw = settings.raw_uri
    storage.write(raw + KEY, b"garbage")
    storage.write(raw + KEY + "2", b'{"t": 1}\n')
    moved = quarantine(settings, storage, KEY, "not JSON", run_id="r1", moment=MOMENT)
    assert moved.uri == quarantine_uri(settings) + KEY
    assert storage.list(raw) == [raw + KEY + "2"]  # only the named object left raw/
    assert storage.read(moved.uri) == b"garbage"
    (item,) = list_quarantined(settings, storage)
    assert (item.key, item.reason, item.run_id, item.quarantined_at, item.size) == (
        KEY, "not JSON", "r1", "2026-11-21T12:00:00Z", 7)
    with pytest.raises(QuarantineError, match=f"not in the quarantine .*: {KEY}2; "
                                              f"quarantined keys: {KEY}$"):
        release(settings, storage, [KEY + "2"])
    assert release(settings, storage, [KEY]) == [KEY]
    assert storage.read(raw + KEY) == b"garbage"
    assert storage.list(quarantine_uri(settings)) == []  # the reason went with it


def test_release_refuses_to_overwrite_a_raw_object(lake):
    settings, storage = lake
    storage.write(settings.raw_uri + KEY, b"old")
    quarantine(settings, storage, KEY, "bad", run_id="r1", moment=MOMENT)
    storage.write(settings.raw_uri + KEY, b"new delivery")
    with pytest.raises(QuarantineError, match="raw/ already holds"):
        release(settings, storage, [KEY])
    assert storage.read(settings.raw_uri + KEY) == b"new delivery"
    assert storage.read(quarantine_uri(settings) + KEY) == b"old"


def test_the_quarantine_is_a_sibling_of_raw_in_the_same_bucket():
    settings = Settings(raw_uri_override="s3://raw-bucket/raw/")
    assert quarantine_uri(settings) == "s3://raw-bucket/raw-quarantine/"


def test_find_unreadable_blames_what_the_engine_names_only_as_a_whole_name(lake):
    settings, storage = lake
    raw = settings.raw_uri
    for key in (KEY, KEY + "2"):
        storage.write(raw + key, b'{"t": 1}\n')
    error = f'Invalid Input Error: in file "{raw}{KEY}2": too big\nhint [statement: CREATE ...]'
    assert find_unreadable(settings, storage, [KEY, KEY + "2"], error) == [
        (KEY + "2", f'the engine could not read it: Invalid Input Error: in file "{raw}{KEY}2": '
                    "too big hint")]
    assert find_unreadable(settings, storage, [KEY, KEY + "2"], "some other failure") == []


def test_a_failed_transform_none_of_whose_objects_is_bad_raises_as_it_was(mini, monkeypatch):
    from runtime.steps import crawl, transform

    from .conftest import bar, ms

    mini.raw([bar(ms(2026, 11, 20, 15))])
    crawl(mini.settings, mini.engine, mini.storage)
    real = mini.engine.execute

    def failing(sql, *a, **kw):
        if "CREATE TABLE stock_aggregate_parquet" in sql:
            raise EngineError("HIVE_CURSOR_ERROR: the disk went away")
        return real(sql, *a, **kw)

    monkeypatch.setattr(mini.engine, "execute", failing)
    with pytest.raises(EngineError, match="the disk went away"):
        transform(mini.settings, mini.engine, mini.storage)
    monkeypatch.undo()
    assert mini.storage.list(quarantine_uri(mini.settings)) == []
    assert len(mini.storage.list(mini.settings.raw_uri)) == 1
    assert not mini.engine.table_exists(mini.settings.dq_table)


def test_a_move_that_cannot_happen_names_both_paths(tmp_path):
    with pytest.raises(StorageError, match=f"cannot move {tmp_path}/a to {tmp_path}/b/c: "):
        LocalStorage().move(str(tmp_path / "a"), str(tmp_path / "b" / "c"))


def test_reason_file_is_json_beside_the_object(tmp_path):
    settings = Settings(home=tmp_path / "home")
    storage = LocalStorage()
    storage.write(settings.raw_uri + KEY, b"x")
    quarantine(settings, storage, KEY, "why", run_id="r9", moment=MOMENT)
    recorded = json.loads(storage.read(quarantine_uri(settings) + KEY + ".quarantine.json"))
    assert recorded["reason"] == "why" and recorded["run_id"] == "r9"
