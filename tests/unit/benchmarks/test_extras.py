"""The ingestion figure counts real FirehoseSink calls against the one-call-per-bar original."""

from __future__ import annotations

import math

from benchmarks import extras


def test_firehose_sink_sends_up_to_500_bars_per_call_while_the_original_sends_one():
    res = extras.ingest_with_counting_firehose(tickers=7, days=7)
    bars = res["bars"]
    batched, per_bar = res["batched"], res["per_bar"]
    # 7 demo tickers over a 7-day window: more than one batch's worth of bars.
    assert bars > 500
    assert batched.records == per_bar.records == bars
    assert batched.calls == math.ceil(bars / 500)
    assert max(batched.batch_sizes) == 500
    assert per_bar.calls == bars
    assert batched.bytes == per_bar.bytes


def test_counting_client_answers_like_firehose_with_one_response_per_record():
    client = extras.CountingFirehose()
    resp = client.put_record_batch(DeliveryStreamName="s", Records=[{"Data": b"ab\n"}] * 3)
    assert resp["FailedPutCount"] == 0
    assert len(resp["RequestResponses"]) == 3
    assert (client.calls, client.records, client.bytes) == (1, 3, 9)
