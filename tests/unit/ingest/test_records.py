"""Bar validation, raw-record shaping (docs/architecture.md, "Raw record") and reject lines."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from runtime.records import (
    MAX_T_MS,
    MIN_T_MS,
    RejectWriter,
    arrival_key,
    encode,
    iso_utc_ms,
    raw_record,
    shape,
    validate_bar,
)

GOOD = {
    "c": 75.0875,
    "h": 75.15,
    "l": 73.7975,
    "n": 1,
    "o": 74.06,
    "t": 1577941200000,
    "v": 135647456,
    "vw": 74.6099,
}
# GOOD starts at 00:00 New York on 2020-01-02: inside this window.
LINEAGE = dict(
    ticker="AAPL",
    window_from=date(2020, 1, 2),
    window_to=date(2020, 1, 3),
    source="polygon",
    ingested_at="2026-11-29T12:00:00.000Z",
)


def with_(**changes):
    bar = dict(GOOD)
    for k, v in changes.items():
        if v is KeyError:
            bar.pop(k)
        else:
            bar[k] = v
    return bar


INVALID = [
    (with_(c=KeyError), "missing required field 'c'"),
    (with_(v=None), "missing required field 'v'"),
    (with_(o="74.06"), "field 'o' is not a number: '74.06'"),
    (with_(h=True), "field 'h' is not a number: True"),
    (with_(l=float("nan")), "field 'l' is not finite: nan"),
    (with_(c=float("inf")), "field 'c' is not finite: inf"),
    (with_(o=float("-inf")), "field 'o' is not finite: -inf"),
    (
        with_(t=1577941200000.0),
        "field 't' must be whole Unix milliseconds, got 1577941200000.0",
    ),
    (with_(t=1577941200), "field 't' 1577941200 is outside 1990..2100 in Unix milliseconds"),
    (
        with_(t=MIN_T_MS - 1),
        "field 't' 631151999999 is outside 1990..2100 in Unix milliseconds",
    ),
    (
        with_(t=4102444800000),
        "field 't' 4102444800000 is outside 1990..2100 in Unix milliseconds",
    ),
    (with_(vw="x"), "field 'vw' is not a number: 'x'"),
    (with_(n=False), "field 'n' is not a number: False"),
    (with_(vw=float("-inf")), "field 'vw' is not finite: -inf"),
    (with_(n=float("nan")), "field 'n' is not finite: nan"),
    (with_(otc="yes"), "field 'otc' must be true or false, got 'yes'"),
    (with_(otc=0), "field 'otc' must be true or false, got 0"),
]
VALID = [
    GOOD,
    with_(t=MIN_T_MS),
    with_(t=MAX_T_MS - 1),
    with_(vw=KeyError, n=KeyError),
    with_(vw=None, n=None, otc=None),
    with_(otc=True),
    with_(otc=False),
    with_(o=74, h=76, l=73, c=75, v=100, vw=75, n=3),
    with_(n=2.0),
]


@pytest.mark.parametrize(
    "bar, reason", INVALID + [([1, 2, 3], "bar is a list, not a JSON object"),
                              (None, "bar is a NoneType, not a JSON object")],
)
def test_invalid_bars_get_a_specific_reason(bar, reason) -> None:
    assert validate_bar(bar) == reason


@pytest.mark.parametrize("bar", VALID)
def test_valid_bars_on_the_limits_are_accepted(bar) -> None:
    assert validate_bar(bar) is None


class _NotPlainDict(dict):
    """A dict subclass: validate_bar's fast path takes plain dicts only, so this takes the
    detailed checks, which must reach the same verdict on their own."""


@pytest.mark.parametrize("bar, reason", INVALID + [(bar, None) for bar in VALID])
def test_the_detailed_checks_agree_with_the_fast_path(bar, reason) -> None:
    assert validate_bar(_NotPlainDict(bar)) == reason


def test_raw_record_keeps_fields_verbatim_then_lineage_in_order() -> None:
    bar = with_(otc=True, extra_field="not documented")
    rec = raw_record(bar, request_id="r1", **LINEAGE)
    assert list(rec) == [
        "ticker",
        "t",
        "o",
        "h",
        "l",
        "c",
        "v",
        "vw",
        "n",
        "otc",
        "ingested_at",
        "request_id",
        "window_from",
        "window_to",
        "source",
    ]
    assert rec["o"] == 74.06 and rec["v"] == 135647456 and rec["otc"] is True
    assert rec["window_from"] == "2020-01-02" and rec["window_to"] == "2020-01-03"


def test_encode_is_compact_and_newline_terminated() -> None:
    assert encode({"a": 1, "b": [1.5, None]}) == b'{"a":1,"b":[1.5,null]}\n'


def test_iso_utc_ms_has_milliseconds_and_z() -> None:
    t = datetime(2026, 11, 27, 16, 0, 0, 123456, tzinfo=timezone.utc)
    assert iso_utc_ms(t) == "2026-11-27T16:00:00.123Z"
    est = timezone(timedelta(hours=-5))
    assert iso_utc_ms(datetime(2026, 11, 27, 23, 30, tzinfo=est)) == "2026-11-28T04:30:00.000Z"
    assert iso_utc_ms(datetime(2026, 1, 1)) == "2026-01-01T00:00:00.000Z"


def test_shape_splits_records_and_rejects_keeping_request_ids() -> None:
    bad = with_(c=KeyError)
    nan_bar = with_(o=float("nan"))
    out = shape([("p1", [GOOD, bad]), ("p2", [nan_bar, with_(t=1577944800000)])], **LINEAGE)
    recs = [json.loads(r) for r in out.records]
    assert [(r["t"], r["request_id"]) for r in recs] == [
        (1577941200000, "p1"),
        (1577944800000, "p2"),
    ]
    rejects = [json.loads(r) for r in out.rejects]
    assert [(r["reason"], r["request_id"]) for r in rejects] == [
        ("missing required field 'c'", "p1"),
        ("field 'o' is not finite: nan", "p2"),
    ]
    assert rejects[0]["payload"] == bad
    # the NaN survives as text so the reject line stays strict JSON
    assert rejects[1]["payload"]["o"] == "nan"
    assert all(r.endswith(b"\n") for r in out.records + out.rejects)


def test_shape_refuses_unknown_source() -> None:
    with pytest.raises(ValueError, match="source must be one of"):
        shape([], **dict(LINEAGE, source="yahoo"))


def test_arrival_key_follows_firehose_layout() -> None:
    key = arrival_key("s3://b/raw/", "stream", datetime(2026, 3, 8, 7, 5, 9, tzinfo=timezone.utc))
    head, uid = key[: len("s3://b/raw/2026/03/08/07/stream-1-2026-03-08-07-05-09-")], key[-36:]
    assert head == "s3://b/raw/2026/03/08/07/stream-1-2026-03-08-07-05-09-"
    assert len(uid.split("-")) == 5
    # a non-UTC arrival time is converted: folders are UTC
    est = timezone(timedelta(hours=-5))
    assert arrival_key("/x/raw", "s", datetime(2026, 11, 27, 23, 0, tzinfo=est)).startswith(
        "/x/raw/2026/11/28/04/s-1-2026-11-28-04-00-00-"
    )


def test_reject_writer_writes_one_object_per_call(tmp_path) -> None:
    from runtime.storage import LocalStorage

    at = datetime(2026, 11, 29, 12, 1, 2, tzinfo=timezone.utc)
    writer = RejectWriter(LocalStorage(), str(tmp_path / "rejects") + "/", clock=lambda: at)
    assert writer.write([]) is None
    uri = writer.write([b'{"a":1}\n', b'{"a":2}\n'])
    assert uri.startswith(str(tmp_path / "rejects/2026/11/29/12/rejects-1-2026-11-29-12-01-02-"))
    assert LocalStorage().read(uri) == b'{"a":1}\n{"a":2}\n'
    assert writer.lines == 2 and writer.objects == [uri]


@pytest.mark.parametrize(
    "bar", [GOOD, with_(otc=True, vw=KeyError), with_(n=None, extra=1), with_(v=7, c=75)]
)
def test_shape_lines_equal_encoded_raw_records(bar) -> None:
    out = shape([("p9", [bar])], **LINEAGE)
    assert out.records == [encode(raw_record(bar, request_id="p9", **LINEAGE))]
    assert (
        out.records[0]
        == (
            json.dumps(raw_record(bar, request_id="p9", **LINEAGE), separators=(",", ":")) + "\n"
        ).encode()
    )


def _ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=timezone.utc).timestamp() * 1000)


# 2026-10-30 (Fri) .. 2026-11-01 (Sun): daylight saving time ends on the last day, so the window
# opens at 04:00 UTC (00:00 EDT) and closes at 05:00 UTC on 11-02 (00:00 EST).
DST_WINDOW = dict(LINEAGE, window_from=date(2026, 10, 30), window_to=date(2026, 11, 1))


@pytest.mark.parametrize(
    "t, kept",
    [
        (_ms(2026, 10, 30, 4), True),  # the first hour of the window
        (_ms(2026, 10, 30, 4) - 1, False),  # 23:59:59.999 New York the day before
        (_ms(2026, 11, 2, 5) - 3_600_000, True),  # 23:00 EST on the last date
        (_ms(2026, 11, 2, 5), False),  # 00:00 EST the day after
        (_ms(2026, 11, 2, 4), True),  # 23:00 EST too: 04:00 UTC is still 11-01 after the change
        (_ms(2026, 10, 30, 3), False),  # 23:00 EDT the evening before
        (_ms(2020, 1, 2, 5), False),  # a plausible bar from another year
    ],
)
def test_shape_rejects_a_bar_outside_the_requested_window(t, kept) -> None:
    bar = with_(t=t)
    out = shape([("p1", [bar])], **DST_WINDOW)
    assert (len(out.records), len(out.rejects)) == ((1, 0) if kept else (0, 1))
    if not kept:
        reject = json.loads(out.rejects[0])
        at = datetime.fromtimestamp(t / 1000, tz=timezone.utc)
        assert reject["reason"] == (
            f"bar time {iso_utc_ms(at)} (t {t}) is outside the requested window "
            "2026-10-30..2026-11-01 (exchange dates, America/New_York)"
        )
        assert reject["payload"] == bar
        assert out.reasons == [reject["reason"]]
