"""Lambda entry point: Polygon -> validated raw records -> Firehose; rejects straight to S3.

Thin on purpose: settings from the environment, the key from Secrets Manager (cached per
container), then `run_ingest`. The event may override `tickers`, `end_date`, `days`, and
`data_source` ("demo" for a smoke test without a key).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, Optional

from .errors import AuthError, ConfigError
from .ingest import run_ingest
from .polygon import PolygonClient
from .settings import (
    ENV_API_KEY_SECRET_ARN,
    ENV_DATABASE,
    ENV_FIREHOSE_STREAM,
    ENV_RAW_URI,
    ENV_TABLE_PREFIX,
    Settings,
)
from .sinks import FirehoseSink
from .storage import S3Storage
from .window import parse_date

log = logging.getLogger(__name__)
# Lambda's root logger passes WARNING and up; the ingest's INFO lines (bars per ticker, empty
# windows) are the run's record, so let the package's loggers through unless set otherwise.
# Only inside Lambda: elsewhere logging belongs to the caller.
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and logging.getLogger("runtime").level == 0:
    logging.getLogger("runtime").setLevel(logging.INFO)


class _SecretStringFilter(logging.Filter):
    """Blank SecretString values in botocore's DEBUG response-body lines.

    botocore logs every response body at DEBUG, GetSecretValue's included, so turning DEBUG on
    for botocore would otherwise print the Polygon key.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to judge
            return True
        if "SecretString" in message:
            # Drop the whole line: escaping inside repr'd JSON makes partial redaction fragile.
            record.msg = "[a log line holding a SecretString was redacted by stockpipe]"
            record.args = None
        return True


_secret_filter = _SecretStringFilter()
for _name in ("botocore.parsers", "botocore.endpoint", "botocore.hooks"):
    if _secret_filter not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_secret_filter)

# Created on first use and kept for the container's life (warm invocations reuse them).
_clients: Dict[str, Any] = {}
_key_cache: Dict[str, str] = {}
SECRET_JSON_FIELD = "POLYGON_API_KEY"  # noqa: S105 - a field name, not a secret


def _client(service: str, region: Optional[str] = None) -> Any:
    if service not in _clients:
        import boto3

        _clients[service] = boto3.client(service, region_name=region)
    return _clients[service]


def reset_caches() -> None:
    """Forget cached clients and keys (a new container; used by tests)."""
    _clients.clear()
    _key_cache.clear()


def api_key_from_secret(secret_arn: str, client: Optional[Any] = None) -> str:
    """The Polygon key stored in the secret: the raw string or JSON {"POLYGON_API_KEY": ...}."""
    if secret_arn in _key_cache:
        return _key_cache[secret_arn]
    sm = client or _client("secretsmanager")
    try:
        resp = sm.get_secret_value(SecretId=secret_arn)
    except Exception as exc:  # ClientError: not found, access denied, KMS
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        raise AuthError(
            f"cannot read the Polygon key from secret {secret_arn} ({code}); check "
            f"{ENV_API_KEY_SECRET_ARN} and the Lambda role's secretsmanager:GetSecretValue"
        ) from None
    raw = (resp.get("SecretString") or "").strip()
    key = raw
    if raw.startswith("{"):
        try:
            doc = json.loads(raw)
        except ValueError:
            raise AuthError(f"secret {secret_arn} starts with '{{' but is not valid JSON") from None
        key = str(doc.get(SECRET_JSON_FIELD) or "").strip() if isinstance(doc, dict) else ""
        if not key:
            raise AuthError(f"secret {secret_arn} is JSON without a {SECRET_JSON_FIELD!r} field")
    if not key:
        raise AuthError(f"secret {secret_arn} is empty; store the Polygon API key in it")
    _key_cache[secret_arn] = key
    return key


def _settings_for(event: Dict[str, Any]) -> Settings:
    overrides: Dict[str, Any] = {}
    if event.get("tickers"):
        overrides["tickers"] = event["tickers"]
    if event.get("days") is not None:
        overrides["window_days"] = event["days"]
    settings = Settings.from_env(**overrides)
    if not settings.raw_uri.startswith("s3://"):
        raise ConfigError(
            f"{ENV_RAW_URI} must be an s3:// prefix in Lambda (rejects are written beside raw/), "
            f"got {settings.raw_uri!r}"
        )
    if not settings.firehose_stream_name:
        raise ConfigError(
            f"{ENV_FIREHOSE_STREAM} is not set; the handler delivers raw records to it"
        )
    return settings


def lambda_handler(event: Optional[Dict[str, Any]], context: Any) -> Dict[str, Any]:
    """Ingest the configured (or event-given) tickers; returns the run summary as a dict."""
    event = event if isinstance(event, dict) else {}
    request_id = getattr(context, "aws_request_id", None)
    settings = _settings_for(event)
    end_date = parse_date(event["end_date"]) if event.get("end_date") else None
    # Not "source": EventBridge events carry their own `source` ("aws.scheduler").
    source = str(event.get("data_source") or "polygon")
    if source == "polygon" and not settings.polygon_api_key:
        if not settings.api_key_secret_arn:
            raise ConfigError(
                f"{ENV_API_KEY_SECRET_ARN} is not set; the handler reads the key from it"
            )
        secrets = _client("secretsmanager", settings.aws_region)
        settings = settings.replace(
            polygon_api_key=api_key_from_secret(settings.api_key_secret_arn, secrets)
        )
    log.info(
        "ingest start",
        extra={"aws_request_id": request_id, "tickers": list(settings.tickers), "source": source},
    )
    client = None
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if source == "polygon":
        # Stop with time to spare rather than be killed with records still buffered.
        time_left = (lambda: remaining() / 1000.0) if callable(remaining) else None
        client = PolygonClient.from_settings(settings, time_left=time_left)
    sink = FirehoseSink(
        settings.firehose_stream_name, client=_client("firehose", settings.aws_region)
    )
    storage = S3Storage(client=_client("s3", settings.aws_region))
    try:
        summary = run_ingest(
            settings, source=source, end_date=end_date, sink=sink, storage=storage, client=client
        )
    finally:
        if client is not None:
            client.close()
    result = summary.to_dict()
    result["aws_request_id"] = request_id
    log.info(
        "ingest done: %d bars, %d rejects",
        summary.bars,
        summary.rejects,
        extra={"aws_request_id": request_id, "bars": summary.bars, "rejects": summary.rejects},
    )
    return result


def publication_check_handler(event: Optional[Dict[str, Any]], context: Any) -> Dict[str, Any]:
    """The daily deadline check (runtime.publication): raises, so the function's Errors alarm
    fires, when no production copy was published on a trading day."""
    from .publication import check_publication

    # Both must be set (the stack's database is not the local default); the settings table
    # validates them like every other value.
    if not all(os.environ.get(n, "").strip() for n in (ENV_DATABASE, ENV_TABLE_PREFIX)):
        raise ConfigError(f"{ENV_DATABASE} and {ENV_TABLE_PREFIX} must name the tables to watch")
    settings = Settings.from_env()
    status = check_publication(_client("glue", settings.aws_region), settings.database,
                               settings.table_prefix)
    log.info("publication check: %s", status.to_dict())
    return status.to_dict()
