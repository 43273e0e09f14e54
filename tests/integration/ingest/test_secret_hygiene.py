"""The API key appears in no log line at any level and in no exception message, whatever
the server answers, including servers that echo the key back."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timezone

import pytest

from runtime import handler
from runtime.errors import StockpipeError
from runtime.ingest import run_ingest

KEY = "test-key-not-real"
LOGGERS = ("", "urllib3", "urllib3.connectionpool", "requests", "botocore", "boto3", "runtime")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def everything_logged(caplog) -> str:
    fmt = logging.Formatter("%(levelname)s %(name)s %(message)s")
    parts = []
    for rec in caplog.records:
        parts.append(fmt.format(rec))  # includes the formatted traceback, if any
        parts.append(repr(rec.__dict__))  # structured extras
    return "\n".join(parts)


def chain(exc: BaseException) -> str:
    out = []
    while exc is not None:
        out.append(f"{type(exc).__name__}: {exc!s} {exc!r} {exc.args!r}")
        exc = exc.__cause__ or exc.__context__
    return "\n".join(out)


@pytest.fixture
def debug_everywhere(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_key_never_logged_or_raised_by_the_client(
    polygon, make_client, settings, debug_everywhere, capsys, example_body
):
    echo = f"you sent Authorization: Bearer {KEY}"
    base = polygon.url + "/v2/aggs/ticker/PAGE/range/1/hour/2026-11-20/2026-11-27"
    # next_url carrying apiKey (as if the key had been sent as a parameter): it must be stripped
    polygon.script(
        "PAGE", polygon.Reply(200, dict(example_body, next_url=f"{base}?cursor=2&apiKey={KEY}"))
    )
    polygon.script("PAGE", polygon.Reply(200, example_body), cursor="2")
    polygon.script(
        "RL",
        polygon.Reply(
            429, {"status": "ERROR", "request_id": "r", "error": echo}, {"Retry-After": "1"}
        ),
        polygon.Reply(200, example_body),
    )
    polygon.script("FIVE", polygon.Reply(500, echo), polygon.Reply(200, example_body))
    polygon.script("ERR", polygon.Reply(200, {"status": "ERROR", "request_id": "e", "error": echo}))
    polygon.script("BAD", polygon.Reply(200, echo.encode()))
    polygon.script(
        "NF", polygon.Reply(404, {"status": "NOT_FOUND", "request_id": "n", "message": echo})
    )
    polygon.script("SLOW", polygon.Reply(200, example_body, delay=5))
    polygon.script(
        "AUTH", polygon.Reply(401, {"status": "ERROR", "request_id": "a", "error": echo})
    )
    s = settings.replace(tickers=("PAGE", "RL", "FIVE", "ERR", "BAD", "NF", "SLOW", "AUTH"))

    raised = []
    with pytest.raises(StockpipeError) as err:
        run_ingest(
            s,
            source="polygon",
            end_date=date(2026, 11, 27),
            now=NOW,
            client=make_client(timeout=(2.0, 0.3), max_attempts=2),
        )
    raised.append(err.value)
    # a second run where AUTH is not last, to collect the per-ticker failure summary too
    s2 = s.replace(tickers=("ERR", "BAD", "NF", "SLOW"))
    with pytest.raises(StockpipeError) as err2:
        run_ingest(
            s2,
            source="polygon",
            end_date=date(2026, 11, 27),
            now=NOW,
            client=make_client(timeout=(2.0, 0.3), max_attempts=2),
        )
    raised.append(err2.value)

    # the scenarios really happened: the key reached the server as a header on every request
    assert len(polygon.seen) >= 14
    assert all(r.headers["Authorization"] == f"Bearer {KEY}" for r in polygon.seen)
    assert all(KEY not in r.raw_path for r in polygon.seen)
    assert "HTTP 401" in str(raised[0]) and "4 of 4 ticker(s) failed" in str(raised[1])
    text = everything_logged(debug_everywhere)
    assert "urllib3.connectionpool" in text  # DEBUG really was captured
    assert KEY not in text
    assert all(KEY not in chain(e) for e in raised)
    out = capsys.readouterr()
    assert KEY not in out.out and KEY not in out.err
    assert json.dumps(err2.value.summary.to_dict()).find(KEY) == -1


def test_key_never_logged_by_the_handler_even_with_botocore_debug(
    delivery_stream,
    polygon,
    monkeypatch,
    tmp_path,
    debug_everywhere,
    capsys,
    example_body,
    lambda_context,
):
    import boto3

    _firehose, _s3, names = delivery_stream
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    arn = sm.create_secret(Name="p", SecretString=json.dumps({"POLYGON_API_KEY": KEY}))["ARN"]
    for k, v in {
        "FIREHOSE_STREAM_NAME": names["stream"],
        "POLYGON_API_KEY_SECRET_ARN": arn,
        "STOCKPIPE_RAW_URI": "s3://stockpipe-raw/raw/",
        "POLYGON_BASE_URL": polygon.url,
        "STOCKPIPE_RATE_LIMIT_PER_MIN": "600",
        "STOCKPIPE_HOME": str(tmp_path),
    }.items():
        monkeypatch.setenv(k, v)
    handler.reset_caches()
    polygon.script("AAPL", polygon.Reply(200, example_body))
    try:
        result = handler.lambda_handler({"end_date": "2020-01-03", "days": 1}, lambda_context)
    finally:
        handler.reset_caches()
    assert result["bars"] == 2
    assert polygon.seen[0].headers["Authorization"] == f"Bearer {KEY}"
    text = everything_logged(debug_everywhere)
    assert "Response body" in text  # botocore's body logging was on
    assert KEY not in text
    assert KEY not in json.dumps(result)
    out = capsys.readouterr()
    assert KEY not in out.out and KEY not in out.err
