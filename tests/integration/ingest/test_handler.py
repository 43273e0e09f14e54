"""lambda_handler with moto Secrets Manager + Firehose + S3 and a loopback Polygon server."""

from __future__ import annotations

import json

import pytest

from runtime import handler
from runtime.errors import AuthError, ConfigError

KEY = "test-key-not-real"


@pytest.fixture
def lambda_env(delivery_stream, polygon, monkeypatch, tmp_path):
    """Environment as the Ingestion component sets it; yields (firehose, s3, names, sm)."""
    import boto3

    firehose, s3, names = delivery_stream
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    arn = sm.create_secret(Name="stockpipe/polygon", SecretString=KEY)["ARN"]
    names = dict(names, secret_arn=arn)
    env = {
        "FIREHOSE_STREAM_NAME": names["stream"],
        "POLYGON_API_KEY_SECRET_ARN": arn,
        "STOCKPIPE_RAW_URI": "s3://stockpipe-raw/raw/",
        "POLYGON_BASE_URL": polygon.url,
        "STOCKPIPE_RATE_LIMIT_PER_MIN": "600",
        "STOCKPIPE_HOME": str(tmp_path / "home"),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    handler.reset_caches()
    yield firehose, s3, names, sm
    handler.reset_caches()


def test_handler_ingests_event_window_and_returns_summary(
    lambda_env, polygon, example_body, load_event, lambda_context, s3_lines
):
    _firehose, s3, names, _sm = lambda_env
    polygon.script("AAPL", polygon.Reply(200, example_body))

    result = handler.lambda_handler(load_event("override.json"), lambda_context)

    assert result["source"] == "polygon"
    assert (result["window_from"], result["window_to"]) == ("2020-01-01", "2020-01-03")
    assert (result["bars"], result["rejects"], result["sink_calls"]) == (2, 0, 1)
    assert result["aws_request_id"] == lambda_context.aws_request_id
    assert json.loads(json.dumps(result)) == result  # JSON-ready for Lambda
    rows = s3_lines(s3, names["bucket"], "raw/")
    assert [(r["ticker"], r["t"], r["c"], r["request_id"]) for r in rows] == [
        ("AAPL", 1577941200000, 75.0875, "6a7e466379af0a71039d60cc78e72282"),
        ("AAPL", 1578027600000, 74.3575, "6a7e466379af0a71039d60cc78e72282"),
    ]
    (req,) = polygon.seen
    assert req.path == "/v2/aggs/ticker/AAPL/range/1/hour/2020-01-01/2020-01-03"
    assert req.headers["Authorization"] == f"Bearer {KEY}"


def test_key_is_cached_per_container(lambda_env, polygon, example_body, lambda_context):
    _f, _s3, names, sm = lambda_env
    polygon.script("AAPL", polygon.Reply(200, example_body))
    event = {"tickers": "AAPL", "end_date": "2020-01-03", "days": 1}
    handler.lambda_handler(event, lambda_context)
    # the secret disappears; a warm container still has the key
    sm.delete_secret(SecretId=names["secret_arn"], ForceDeleteWithoutRecovery=True)
    result = handler.lambda_handler(event, lambda_context)
    assert result["bars"] == 2
    assert all(s.headers["Authorization"] == f"Bearer {KEY}" for s in polygon.seen)
    handler.reset_caches()  # a cold container cannot read it any more
    with pytest.raises(
        AuthError, match="cannot read the Polygon key from secret .*ResourceNotFound"
    ):
        handler.lambda_handler(event, lambda_context)


def test_json_secret_and_event_tickers(
    lambda_env, polygon, example_body, lambda_context, monkeypatch, s3_lines
):
    _f, s3, names, sm = lambda_env
    arn = sm.create_secret(
        Name="stockpipe/json", SecretString=json.dumps({"POLYGON_API_KEY": KEY})
    )["ARN"]
    monkeypatch.setenv("POLYGON_API_KEY_SECRET_ARN", arn)
    broken = {"h": 1.0, "l": 1.0, "o": 1.0, "t": 1577941200000, "v": 5}
    polygon.script("MSFT", polygon.Reply(200, dict(example_body, results=[broken])))
    polygon.script("BRK.B", polygon.Reply(200, example_body))

    result = handler.lambda_handler(
        {"tickers": ["msft", "brk.b"], "end_date": "2020-01-03", "days": 2}, lambda_context
    )

    assert result["tickers"] == ["MSFT", "BRK.B"]
    assert (result["bars"], result["rejects"]) == (2, 1)
    assert polygon.seen[0].headers["Authorization"] == f"Bearer {KEY}"
    (reject,) = s3_lines(s3, names["bucket"], "rejects/")
    assert (reject["ticker"], reject["reason"]) == ("MSFT", "missing required field 'c'")
    assert [r["ticker"] for r in s3_lines(s3, names["bucket"], "raw/")] == ["BRK.B", "BRK.B"]


def test_scheduled_event_uses_environment_defaults(
    lambda_env, polygon, example_body, load_event, lambda_context, monkeypatch
):
    from datetime import date, datetime, timezone

    from runtime.window import exchange_tz, ingest_window

    monkeypatch.setenv("STOCKPIPE_TICKERS", "IBM")
    # The example's bars moved to 10:00 and 11:00 New York on the last date of today's window
    # (bars outside the window asked for are rejected).
    last = ingest_window(datetime.now(timezone.utc), 7).end
    ten = int(datetime(last.year, last.month, last.day, 10, tzinfo=exchange_tz()).timestamp())
    results = [dict(b, t=(ten + 3600 * i) * 1000) for i, b in enumerate(example_body["results"])]
    polygon.script("IBM", polygon.Reply(200, dict(example_body, ticker="IBM", results=results)))
    result = handler.lambda_handler(load_event("scheduled.json"), lambda_context)
    assert result["tickers"] == ["IBM"] and result["bars"] == 2

    start, end = date.fromisoformat(result["window_from"]), date.fromisoformat(result["window_to"])
    assert (end - start).days == 7


@pytest.mark.parametrize(
    "missing, message",
    [
        ("FIREHOSE_STREAM_NAME", "FIREHOSE_STREAM_NAME is not set"),
        ("STOCKPIPE_RAW_URI", "STOCKPIPE_RAW_URI must be an s3:// prefix"),
        ("POLYGON_API_KEY_SECRET_ARN", "POLYGON_API_KEY_SECRET_ARN is not set"),
    ],
)
def test_missing_configuration_is_named(lambda_env, monkeypatch, lambda_context, missing, message):
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigError, match=message):
        handler.lambda_handler({}, lambda_context)


def test_bad_event_values_are_named(lambda_env, lambda_context):
    with pytest.raises(ConfigError, match="end date must be YYYY-MM-DD, got '2020/01/03'"):
        handler.lambda_handler({"end_date": "2020/01/03"}, lambda_context)
    with pytest.raises(ConfigError, match="not a valid symbol"):
        handler.lambda_handler({"tickers": ["AAPL;DROP"]}, lambda_context)


def test_empty_secret_is_an_auth_error(lambda_env, monkeypatch, lambda_context):
    _f, _s3, _names, sm = lambda_env
    arn = sm.create_secret(Name="stockpipe/empty", SecretString=json.dumps({"other": "x"}))["ARN"]
    monkeypatch.setenv("POLYGON_API_KEY_SECRET_ARN", arn)
    with pytest.raises(AuthError, match="is JSON without a 'POLYGON_API_KEY' field"):
        handler.lambda_handler({}, lambda_context)


def test_demo_data_source_needs_no_secret(lambda_env, monkeypatch, lambda_context, s3_lines):
    _f, s3, names, _sm = lambda_env
    monkeypatch.delenv("POLYGON_API_KEY_SECRET_ARN")
    result = handler.lambda_handler(
        {"data_source": "demo", "tickers": ["AAPL"], "end_date": "2026-11-27", "days": 1},
        lambda_context,
    )
    # 2026-11-26 is Thanksgiving, 2026-11-27 closes early: 13 bars
    assert (result["source"], result["bars"]) == ("demo", 13)
    assert len(s3_lines(s3, names["bucket"], "raw/")) == 13


def test_a_batch_schedules_comma_separated_tickers_are_ingested(
    lambda_env, monkeypatch, lambda_context, s3_lines
):
    # A split ingest's schedules send {"tickers": "A,B"} as the event (components.ingestion).
    _f, s3, names, _sm = lambda_env
    monkeypatch.delenv("POLYGON_API_KEY_SECRET_ARN")
    monkeypatch.setenv("STOCKPIPE_TICKERS", "AAPL,MSFT,IBM")
    result = handler.lambda_handler(
        {"data_source": "demo", "tickers": "MSFT,IBM", "end_date": "2026-11-27", "days": 1},
        lambda_context,
    )
    assert result["bars"] == 2 * 13
    rows = s3_lines(s3, names["bucket"], "raw/")
    assert sorted({r["ticker"] for r in rows}) == ["IBM", "MSFT"]


def test_handler_stops_in_time_and_delivers_what_it_fetched(
    lambda_env, polygon, example_body, lambda_context, monkeypatch, s3_lines
):
    from runtime.polygon import DeadlineExceeded

    _f, s3, names, _sm = lambda_env
    monkeypatch.setenv("STOCKPIPE_TICKERS", "AAPL,MSFT")
    polygon.script("AAPL", polygon.Reply(200, example_body))
    polygon.script(
        "MSFT", polygon.Reply(429, {"status": "ERROR", "request_id": "q"}, {"Retry-After": "30"})
    )
    lambda_context.get_remaining_time_in_millis = lambda: 9_000  # 9 s left on the clock

    with pytest.raises(DeadlineExceeded, match="MSFT: stopping early"):
        handler.lambda_handler({"end_date": "2020-01-03", "days": 1}, lambda_context)

    # AAPL's two records were sent to Firehose before the handler gave up
    assert [r["ticker"] for r in s3_lines(s3, names["bucket"], "raw/")] == ["AAPL", "AAPL"]
