"""One frozen dataclass of settings. Every environment variable stockpipe reads is named here."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Tuple

from .errors import ConfigError, validate_identifier, validate_ticker

# Environment variable names, in one place (docs/architecture.md, "Environment").
ENV_API_KEY = "POLYGON_API_KEY"
ENV_BASE_URL = "POLYGON_BASE_URL"
ENV_TICKERS = "STOCKPIPE_TICKERS"
ENV_WINDOW_DAYS = "STOCKPIPE_WINDOW_DAYS"
ENV_HOME = "STOCKPIPE_HOME"
ENV_RATE_LIMIT = "STOCKPIPE_RATE_LIMIT_PER_MIN"
ENV_FIREHOSE_STREAM = "FIREHOSE_STREAM_NAME"
ENV_API_KEY_SECRET_ARN = "POLYGON_API_KEY_SECRET_ARN"  # noqa: S105 - a variable name, not a secret
ENV_DATABASE = "STOCKPIPE_DATABASE"
ENV_TABLE_PREFIX = "STOCKPIPE_TABLE_PREFIX"
ENV_PARTITION_GRANULARITY = "STOCKPIPE_PARTITION_GRANULARITY"
ENV_ARCHIVE_KEEP = "STOCKPIPE_ARCHIVE_KEEP"
# Cloud locations (set by the Glue job arguments / Lambda environment, never needed locally).
ENV_RAW_URI = "STOCKPIPE_RAW_URI"
ENV_CURATED_URI = "STOCKPIPE_CURATED_URI"
ENV_ARCHIVE_URI = "STOCKPIPE_ARCHIVE_URI"
ENV_WORKGROUP = "STOCKPIPE_ATHENA_WORKGROUP"
ENV_REGION = "AWS_REGION"

# The API's documented base since Polygon became Massive (same API and keys).
DEFAULT_BASE_URL = "https://api.massive.com"
DEFAULT_TICKERS = ("AAPL",)
DEFAULT_WINDOW_DAYS = 7
DEFAULT_RATE_LIMIT_PER_MIN = 5.0
DEFAULT_DATABASE = "stock_aggregates"
DEFAULT_TABLE_PREFIX = "stock_aggregate"
EXCHANGE_TZ = "America/New_York"
GRANULARITIES = ("hour", "day")
DEFAULT_GRANULARITY = "day"
DEFAULT_ARCHIVE_KEEP = 7
# The column each granularity partitions by. `day_hour_partition` is the bar's exchange-time hour
# (YYYY-MM-DD-HH) in both modes; with `day` the table gets one more column, the exchange-time day
# (YYYY-MM-DD), and partitions by it (see docs/architecture.md, "Tables").
HOUR_PARTITION_COLUMN = "day_hour_partition"
DAY_PARTITION_COLUMN = "day_partition"
PARTITION_COLUMNS = {"hour": HOUR_PARTITION_COLUMN, "day": DAY_PARTITION_COLUMN}


def parse_tickers(value: object) -> Tuple[str, ...]:
    """`"aapl, msft"` or a sequence -> ('AAPL', 'MSFT'); each validated, order kept, no repeats."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    out = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        t = validate_ticker(item)
        if t not in out:
            out.append(t)
    if not out:
        raise ConfigError(f"no tickers given in {value!r}; name at least one, e.g. AAPL")
    return tuple(out)


def _positive_int(name: str, raw: object, maximum: int = 3660) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of days, got {raw!r}") from None
    if not 1 <= value <= maximum:
        raise ConfigError(f"{name} must be between 1 and {maximum}, got {value}")
    return value


def parse_archive_keep(name: str, raw: object) -> int:
    """How many production archives to keep: a whole number from 1 (the copy readers use)."""
    if isinstance(raw, bool):
        raise ConfigError(f"{name} must be a whole number of archives, got {raw!r}")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of archives, got {raw!r}") from None
    if not 1 <= value <= 10000:
        raise ConfigError(
            f"{name} must be between 1 and 10000 (the published copy is always kept), got {value}"
        )
    return value


def _positive_float(name: str, raw: object) -> float:
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than 0, got {value}")
    return value


HOME_DIRNAME = ".stockpipe"


def find_repo_root(start: Optional[Path] = None) -> Optional[Path]:
    """The nearest folder at or above `start` (default: the working directory) holding this
    project's pyproject.toml, or None outside a stockpipe checkout."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        marker = folder / "pyproject.toml"
        try:
            if marker.is_file() and 'name = "stockpipe"' in marker.read_text("utf-8"):
                return folder
        except OSError:
            continue
    return None


def repo_home(start: Optional[Path] = None, environ: Optional[Mapping[str, str]] = None) -> Path:
    """The home `stockpipe` uses when run from the repository root: $STOCKPIPE_HOME, else
    <repo>/.stockpipe for the checkout above `start` (a notebook's kernel starts in notebooks/,
    where ./.stockpipe would be a different, empty home)."""
    env = os.environ if environ is None else environ
    if env.get(ENV_HOME):
        return Path(env[ENV_HOME])
    root = find_repo_root(start)
    if root is None:
        raise ConfigError(
            f"no stockpipe checkout (a pyproject.toml naming stockpipe) at or above "
            f"{Path(start or Path.cwd()).resolve()}; set {ENV_HOME} to the home folder"
        )
    return root / HOME_DIRNAME


def _join(base: str, *parts: str) -> str:
    """Join URI or path parts with '/', keeping a trailing slash (a prefix)."""
    out = base.rstrip("/")
    for p in parts:
        out += "/" + p.strip("/")
    return out + "/"


@dataclass(frozen=True)
class Settings:
    """Everything a run needs; build with `Settings.from_env()` and `dataclasses.replace`."""

    home: Path = field(default_factory=lambda: Path(".stockpipe"))
    tickers: Tuple[str, ...] = DEFAULT_TICKERS
    window_days: int = DEFAULT_WINDOW_DAYS
    polygon_api_key: Optional[str] = field(default=None, repr=False)
    polygon_base_url: str = DEFAULT_BASE_URL
    rate_limit_per_min: float = DEFAULT_RATE_LIMIT_PER_MIN
    firehose_stream_name: Optional[str] = None
    api_key_secret_arn: Optional[str] = None
    database: str = DEFAULT_DATABASE
    table_prefix: str = DEFAULT_TABLE_PREFIX
    partition_granularity: str = DEFAULT_GRANULARITY
    # Production archives publish keeps (the newest ones; older ones are dropped with their files).
    archive_keep: int = DEFAULT_ARCHIVE_KEEP
    # Lake locations; None means "under home" (the local embedded default).
    raw_uri_override: Optional[str] = None
    curated_uri_override: Optional[str] = None
    archive_uri_override: Optional[str] = None
    athena_workgroup: Optional[str] = None
    aws_region: Optional[str] = None

    def __post_init__(self) -> None:
        validate_identifier(self.database, "database")
        validate_identifier(self.table_prefix, "table prefix")
        if self.partition_granularity not in GRANULARITIES:
            raise ConfigError(
                f"partition granularity must be one of {', '.join(GRANULARITIES)}, "
                f"got {self.partition_granularity!r}"
            )
        object.__setattr__(
            self, "archive_keep", parse_archive_keep("archive_keep", self.archive_keep)
        )
        object.__setattr__(self, "tickers", parse_tickers(self.tickers))
        object.__setattr__(self, "home", Path(self.home))

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None, **overrides: object) -> Settings:
        """Read the environment (docs/architecture.md); keyword overrides (from CLI flags) win."""
        env = os.environ if environ is None else environ
        kw: dict = {}
        if env.get(ENV_HOME):
            kw["home"] = Path(env[ENV_HOME])
        if env.get(ENV_TICKERS):
            kw["tickers"] = parse_tickers(env[ENV_TICKERS])
        if env.get(ENV_WINDOW_DAYS):
            kw["window_days"] = _positive_int(ENV_WINDOW_DAYS, env[ENV_WINDOW_DAYS])
        if env.get(ENV_API_KEY):
            kw["polygon_api_key"] = env[ENV_API_KEY].strip()
        if env.get(ENV_BASE_URL):
            kw["polygon_base_url"] = env[ENV_BASE_URL].rstrip("/")
        if env.get(ENV_ARCHIVE_KEEP):
            kw["archive_keep"] = parse_archive_keep(ENV_ARCHIVE_KEEP, env[ENV_ARCHIVE_KEEP])
        if env.get(ENV_RATE_LIMIT):
            kw["rate_limit_per_min"] = _positive_float(ENV_RATE_LIMIT, env[ENV_RATE_LIMIT])
        simple = {
            ENV_FIREHOSE_STREAM: "firehose_stream_name",
            ENV_API_KEY_SECRET_ARN: "api_key_secret_arn",
            ENV_DATABASE: "database",
            ENV_TABLE_PREFIX: "table_prefix",
            ENV_PARTITION_GRANULARITY: "partition_granularity",
            ENV_RAW_URI: "raw_uri_override",
            ENV_CURATED_URI: "curated_uri_override",
            ENV_ARCHIVE_URI: "archive_uri_override",
            ENV_WORKGROUP: "athena_workgroup",
            ENV_REGION: "aws_region",
        }
        for env_name, attr in simple.items():
            if env.get(env_name):
                kw[attr] = env[env_name].strip()
        for key, value in overrides.items():
            if value is None:
                continue
            if key == "tickers":
                value = parse_tickers(value)
            elif key == "window_days":
                value = _positive_int("--days", value)
            kw[key] = value
        return cls(**kw)

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def partition_column(self) -> str:
        """The column the typed, sans-dup and production tables are partitioned by."""
        return PARTITION_COLUMNS[self.partition_granularity]

    # ---- locations ---------------------------------------------------------------------
    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def raw_uri(self) -> str:
        """Prefix holding the Firehose-layout objects `raw/YYYY/MM/DD/HH/...`."""
        return self.raw_uri_override or _join(str(self.lake_dir.resolve()), "raw")

    @property
    def rejects_uri(self) -> str:
        """Prefix for bars that failed validation, each with its reason (sibling of raw/)."""
        return _join(self.raw_uri.rstrip("/").rsplit("/", 1)[0], "rejects")

    @property
    def splits_uri(self) -> str:
        """Prefix for the raw split events, Firehose key layout (sibling of raw/)."""
        return _join(self.raw_uri.rstrip("/").rsplit("/", 1)[0], "splits")

    @property
    def curated_uri(self) -> str:
        return self.curated_uri_override or _join(str(self.lake_dir.resolve()), "curated")

    @property
    def archive_uri(self) -> str:
        return self.archive_uri_override or _join(str(self.lake_dir.resolve()), "archive")

    @property
    def catalog_path(self) -> Path:
        """The local engine's DuckDB file (catalog + views)."""
        return self.home / "catalog.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    # ---- table names (docs/architecture.md) ------------------------------------------
    def table(self, role: str) -> str:
        return validate_identifier(f"{self.table_prefix}_{role}", f"{role} table name")

    @property
    def raw_table(self) -> str:
        return self.table("raw")

    @property
    def splits_table(self) -> str:
        """The raw split events over splits/ (the crawler names it after the folder)."""
        return self.table("splits")

    @property
    def adjusted_view(self) -> str:
        """The sans-dup rows on the latest split basis, with the as-traded values."""
        return self.table("adjusted")

    @property
    def parquet_table(self) -> str:
        return self.table("parquet")

    @property
    def sans_dup_table(self) -> str:
        return self.table("sans_dup")

    @property
    def dq_table(self) -> str:
        return self.table("dq_results")

    @property
    def lineage_table(self) -> str:
        return self.table("lineage")

    @property
    def prod_latest_view(self) -> str:
        return self.table("prod_latest")

    def prod_table(self, stamp: str) -> str:
        """`stamp` is `YYYYMMDD_HHMMSS` (UTC)."""
        return self.table(f"prod_{stamp}")

    def table_location(self, table: str) -> str:
        """Where a curated table's files live: one prefix per table, emptied by `reset`."""
        validate_identifier(table, "table name")
        base = self.archive_uri if "_prod_" in table else self.curated_uri
        return _join(base, table)
