"""FirehoseSink batching and partial-failure resends (stub client); LocalSink buffering."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from runtime.errors import DeliveryError
from runtime.sinks import MAX_BATCH_BYTES, FirehoseSink, LocalSink
from runtime.storage import LocalStorage


def recs(n, size=20):
    """n distinct newline-terminated records of exactly `size` bytes."""
    return [(f'{{"i":{i:0{size - 7}d}}}\n').encode() for i in range(n)]


class StubFirehose:
    """put_record_batch that fails chosen entries; records what was sent and delivered."""

    def __init__(self, fail=lambda data, attempt: False, raise_error=None):
        self.fail = fail
        self.raise_error = raise_error
        self.calls = []
        self.delivered = []
        self.attempts = {}

    def put_record_batch(self, DeliveryStreamName, Records):  # noqa: N803 - boto3's names
        self.calls.append([r["Data"] for r in Records])
        if self.raise_error is not None:
            raise self.raise_error
        responses, failed = [], 0
        for r in Records:
            n = self.attempts[r["Data"]] = self.attempts.get(r["Data"], 0) + 1
            if self.fail(r["Data"], n):
                failed += 1
                responses.append(
                    {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."}
                )
            else:
                self.delivered.append(r["Data"])
                responses.append({"RecordId": f"id-{len(self.delivered)}"})
        return {"FailedPutCount": failed, "Encrypted": False, "RequestResponses": responses}


def test_batches_hold_at_most_500_records():
    stub = StubFirehose()
    data = recs(1234)
    with FirehoseSink("s", client=stub, sleep=lambda s: None) as sink:
        sink.put(data)
    assert [len(c) for c in stub.calls] == [500, 500, 234]
    assert stub.delivered == data
    assert (sink.records, sink.calls, sink.bytes) == (1234, 3, 1234 * 20)


def test_batches_split_at_4_mib():
    stub = StubFirehose()
    size = 100_000  # 41 fit in 4 MiB (4,194,304 bytes), the 42nd would not
    data = recs(100, size=size)
    with FirehoseSink("s", client=stub, sleep=lambda s: None) as sink:
        sink.put(data)
    assert [len(c) for c in stub.calls] == [41, 41, 18]
    assert all(sum(map(len, c)) <= MAX_BATCH_BYTES for c in stub.calls)
    assert stub.delivered == data


def test_record_over_1000_kib_is_refused_before_sending():
    stub = StubFirehose()
    sink = FirehoseSink("s", client=stub)
    with pytest.raises(DeliveryError, match="1,024,001 bytes exceeds Firehose's 1,024,000-byte"):
        sink.put([b"x" * 1_024_001])
    assert stub.calls == []
    sink.put([b"x" * 1_024_000])  # exactly the limit is fine
    sink.flush()
    assert len(stub.calls) == 1


def test_twenty_percent_failing_once_are_resent_once_each():
    data = recs(1000)
    failing = set(data[::5])  # 200 of 1,000
    stub = StubFirehose(fail=lambda d, attempt: d in failing and attempt == 1)
    sleeps = []
    with FirehoseSink("s", client=stub, sleep=sleeps.append) as sink:
        sink.put(data)
    # two batches of 500, each followed by one resend of only its 100 failed entries
    assert [len(c) for c in stub.calls] == [500, 100, 500, 100]
    assert stub.calls[1] == [d for d in data[:500] if d in failing]  # request order kept
    assert sorted(stub.delivered) == sorted(data)
    assert len(stub.delivered) == len(set(stub.delivered)) == 1000  # exactly once
    assert sink.records == 1000 and sink.retried_records == 200
    assert sleeps == [0.2, 0.2]


def test_entries_failing_forever_raise_with_the_count():
    data = recs(10)
    stub = StubFirehose(fail=lambda d, attempt: d in (data[3], data[7]))
    sleeps = []
    sink = FirehoseSink("s", client=stub, max_attempts=4, sleep=sleeps.append)
    sink.put(data)
    with pytest.raises(
        DeliveryError, match=r"^2 records could not be delivered .* after 4 attempts"
    ):
        sink.flush()
    assert [len(c) for c in stub.calls] == [10, 2, 2, 2]
    assert sleeps == [0.2, 0.4, 0.8]
    assert sink.records == 8
    assert sorted(stub.delivered) == sorted(d for d in data if d not in (data[3], data[7]))


def test_missing_stream_is_not_retried():
    err = ClientError(
        {"Error": {"Code": "ResourceNotFoundException", "Message": "no stream"}}, "PutRecordBatch"
    )
    stub = StubFirehose(raise_error=err)
    sink = FirehoseSink("gone", client=stub, sleep=lambda s: None)
    sink.put(recs(3))
    with pytest.raises(
        DeliveryError, match=r"'gone' refused PutRecordBatch \(ResourceNotFoundException\)"
    ):
        sink.flush()
    assert len(stub.calls) == 1


def test_throttled_call_is_retried_whole():
    err = ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "PutRecordBatch"
    )

    class Flaky(StubFirehose):
        def put_record_batch(self, DeliveryStreamName, Records):  # noqa: N803
            if not self.calls:
                self.calls.append([r["Data"] for r in Records])
                raise err
            return super().put_record_batch(DeliveryStreamName, Records)

    stub = Flaky()
    with FirehoseSink("s", client=stub, sleep=lambda s: None) as sink:
        sink.put(recs(3))
    assert [len(c) for c in stub.calls] == [3, 3]
    assert len(stub.delivered) == 3 and sink.records == 3


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 29, 23, 59, 30, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


def test_local_sink_flushes_after_buffer_seconds_and_names_objects_by_arrival(tmp_path):
    clock = Clock()
    raw = str(tmp_path / "raw") + "/"
    sink = LocalSink(LocalStorage(), raw, stream_name="st", buffer_seconds=60, clock=clock)
    sink.put(recs(3))
    clock.now += timedelta(seconds=59)
    sink.put(recs(1))
    assert sink.objects == 0  # 59 s: still buffering
    clock.now += timedelta(seconds=1)
    sink.put([b'{"late":1}\n'])  # 60 s after the first record: the buffer goes out first
    assert sink.objects == 1
    sink.close()
    first, second = sink.written
    assert first.startswith(raw + "2026/11/29/23/st-1-2026-11-29-23-59-30-")
    assert second.startswith(raw + "2026/11/30/00/st-1-2026-11-30-00-00-30-")
    assert LocalStorage().read(first) == b"".join(recs(3) + recs(1))
    assert LocalStorage().read(second) == b'{"late":1}\n'
    assert (sink.records, sink.objects, sink.calls) == (5, 2, 2)


def test_local_sink_flushes_at_buffer_size(tmp_path):
    sink = LocalSink(LocalStorage(), str(tmp_path), buffer_mb=1000 / (1024 * 1024), clock=Clock())
    sink.put(recs(120, size=20))  # 50 records of 20 bytes fill 1,000 bytes
    sink.close()
    sizes = [len(LocalStorage().read(u)) for u in sink.written]
    assert sizes == [1000, 1000, 400]
    assert sink.bytes == 2400 and sink.records == 120


def test_local_sink_writes_nothing_when_empty(tmp_path):
    with LocalSink(LocalStorage(), str(tmp_path / "raw")) as sink:
        sink.put([])
    assert sink.written == [] and LocalStorage().list(str(tmp_path)) == []
