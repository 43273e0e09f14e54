"""FirehoseSink against moto: batches of <= 500 land in S3 through the delivery stream."""

from __future__ import annotations

import json
import re

from runtime.records import encode
from runtime.sinks import FirehoseSink


def test_1234_bars_take_three_calls_and_land_in_s3(delivery_stream, s3_lines):
    firehose, s3, names = delivery_stream
    calls = []
    firehose.meta.events.register(
        "before-parameter-build.firehose.PutRecordBatch",
        lambda params, **kw: calls.append(len(params["Records"])),
    )
    records = [
        encode({"ticker": "AAPL", "t": 1795165200000 + i * 3_600_000, "o": 1.0 + i})
        for i in range(1234)
    ]

    with FirehoseSink(names["stream"], client=firehose, sleep=lambda s: None) as sink:
        sink.put(records)

    assert calls == [500, 500, 234]
    assert (sink.calls, sink.records) == (3, 1234)
    rows = s3_lines(s3, names["bucket"], "raw/")
    assert len(rows) == 1234
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=names["bucket"], Prefix="raw/")["Contents"]]
    assert len(keys) == 3  # moto writes one object per call
    pattern = r"raw/\d{4}/\d{2}/\d{2}/\d{2}/stockpipe-raw-stream-1-\d{4}(-\d{2}){5}-[0-9a-f-]{36}"
    assert all(re.fullmatch(pattern, k) for k in keys), keys
    # every record arrived whole and exactly once (objects may list in any order)
    assert sorted(rows, key=lambda r: r["t"]) == [json.loads(r) for r in records]
