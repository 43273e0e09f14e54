"""A loopback HTTP server that plays the Polygon aggregates API, a fake clock, helpers."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from runtime.polygon import PolygonClient
from runtime.settings import Settings
from runtime.storage import LocalStorage

FIXTURES = Path(__file__).parent / "fixtures"
FAKE_KEY = "test-key-not-real"


@dataclass
class Reply:
    """One scripted response; `delay` holds the response back (to provoke a read timeout)."""

    status: int = 200
    body: Union[Dict[str, Any], bytes, str, None] = None
    headers: Dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    raw_path: str


class FakePolygon:
    """Scripted replies keyed by (ticker, cursor); the last reply of a script repeats."""

    Reply = Reply  # tests reach the reply type through the fixture (importlib import mode)

    def __init__(self) -> None:
        self.scripts: Dict[Tuple[str, Optional[str]], List[Reply]] = {}
        self.seen: List[Seen] = []
        # The splits endpoint has its own script and log, so tests about the bars see only
        # the bars' requests; by default it knows no split.
        self.splits_script: List[Reply] = [
            Reply(200, {"status": "OK", "request_id": "splits-none", "results": []})
        ]
        self.splits_seen: List[Seen] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                fake._serve(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def path_for(self, ticker: str, start: str, end: str) -> str:
        return f"/v2/aggs/ticker/{ticker}/range/1/hour/{start}/{end}"

    def script(self, ticker: str, *replies: Reply, cursor: Optional[str] = None) -> None:
        self.scripts[(ticker, cursor)] = list(replies)

    def requests_for(self, ticker: str) -> List[Seen]:
        return [s for s in self.seen if unquote(s.path.split("/")[4]) == ticker]

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = parse_qs(parts.query)
        seen = Seen(parts.path, query, dict(h.headers.items()), h.path)
        if parts.path == "/stocks/v1/splits":
            with self._lock:
                self.splits_seen.append(seen)
                script = self.splits_script
                reply = script.pop(0) if len(script) > 1 else script[0]
            self._send(h, reply)
            return
        with self._lock:
            self.seen.append(seen)
        segs = parts.path.split("/")
        ticker = unquote(segs[4]) if len(segs) > 4 else ""
        cursor = query.get("cursor", [None])[0]
        with self._lock:
            script = self.scripts.get((ticker, cursor))
            if not script:
                reply = Reply(
                    404, {"status": "NOT_FOUND", "request_id": "nf", "message": "no script"}
                )
            else:
                reply = script.pop(0) if len(script) > 1 else script[0]
        self._send(h, reply)

    def _send(self, h: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.delay:
            self.release.wait(reply.delay)
        body = reply.body
        if isinstance(body, dict):
            data = json.dumps(body).encode()
            ctype = "application/json"
        elif isinstance(body, str):
            data = body.encode()
            ctype = "text/plain"
        else:
            data = body or b""
            ctype = "application/octet-stream"
        try:
            h.send_response(reply.status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(data)))
            for k, v in reply.headers.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (read timeout): expected in those tests

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class FakeClock:
    """Monotonic seconds that move only when something sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: List[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def polygon(monkeypatch):
    # requests honours proxy variables; loopback traffic must never go through one
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    fake = FakePolygon()
    yield fake
    fake.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(polygon: FakePolygon, clock: FakeClock):
    """PolygonClient against the loopback server; sleeps go to the fake clock."""

    def make(**kw: Any) -> PolygonClient:
        kw.setdefault("rate_limit_per_min", 5)
        kw.setdefault("timeout", (2.0, 2.0))
        return PolygonClient(FAKE_KEY, polygon.url, clock=clock, sleep=clock.sleep, **kw)

    return make


@pytest.fixture
def settings(tmp_path: Path, polygon: FakePolygon) -> Settings:
    return Settings(
        home=tmp_path / "home",
        tickers=("AAPL",),
        polygon_api_key=FAKE_KEY,
        polygon_base_url=polygon.url,
    )


def _read_lines(prefix: str) -> List[Dict[str, Any]]:
    """Every JSON line of every object under `prefix`, in key order."""
    storage = LocalStorage()
    out = []
    for uri in storage.list(prefix):
        data = storage.read(uri)
        assert data.endswith(b"\n"), f"{uri} does not end with a newline"
        out.extend(json.loads(line) for line in data.decode().splitlines())
    return out


@pytest.fixture
def read_lines():
    return _read_lines


@pytest.fixture
def example_body() -> Dict[str, Any]:
    """The documented response (the aggregates API's documented example), verbatim."""
    return json.loads((FIXTURES / "aggs_example.json").read_text())


@pytest.fixture
def load_event():
    return lambda name: json.loads((FIXTURES / "events" / name).read_text())


class FakeLambdaContext:
    """The attributes handlers read from Lambda's context object."""

    function_name = "stockpipe-ingest"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stockpipe-ingest"
    aws_request_id = "52fdfc07-2182-454f-963f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def aws_env(monkeypatch):
    """Fake credentials and region so boto3 never looks for real ones."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "POLYGON_API_KEY", "STOCKPIPE_TICKERS", "STOCKPIPE_WINDOW_DAYS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def delivery_stream(aws_env):
    """moto S3 bucket + Firehose DirectPut stream into raw/; yields (firehose, s3, names)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="stockpipe-raw")
        firehose = boto3.client("firehose", region_name="us-east-1")
        firehose.create_delivery_stream(
            DeliveryStreamName="stockpipe-raw-stream",
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/stockpipe-firehose",
                "BucketARN": "arn:aws:s3:::stockpipe-raw",
                "Prefix": "raw/",
                "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60},
            },
        )
        yield firehose, s3, {"bucket": "stockpipe-raw", "stream": "stockpipe-raw-stream"}


@pytest.fixture
def s3_lines():
    """Every JSON line under s3://bucket/prefix, in key order."""

    def read(s3, bucket: str, prefix: str) -> List[Dict[str, Any]]:
        out: List[Dict[str, Any]] = []
        keys = sorted(
            o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
        )
        for key in keys:
            data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert data.endswith(b"\n"), key
            out.extend(json.loads(x) for x in data.decode().splitlines())
        return out

    return read
