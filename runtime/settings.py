"""Every setting stockpipe reads, declared once: the fields of `Settings` form the table.

Each field carries its type, default and validation (a `Kind`), and where it may come from:
an environment variable, a Pulumi config key (components/stack_config.py) and a Glue job
argument (runtime/jobs/glue_entry.py, components/workflow.py). Adding a setting is one field
here; docs/architecture.md "Configuration" lists them. Python 3.9, standard library only: this
module runs in the Lambda and in Glue's Python shell.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, Optional, Sequence, Tuple

from .errors import ConfigError, StockpipeError, validate_identifier, validate_ticker

# Environment variable names (documented in docs/architecture.md "Configuration").
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


# ---- kinds of value: parse text (or an already typed value), encode back to text -----------
class Kind:
    """A setting's type and validation. `parse` raises ValueError or StockpipeError whose
    message says what is wrong without naming the source (the caller adds that)."""

    pulumi_type = "string"

    def parse(self, raw: object) -> Any:
        text = str(raw).strip()
        if not text:
            raise ValueError(f"must not be empty, got {raw!r}")
        return text

    def encode(self, value: Any) -> str:
        return str(value)

    def stack_value(self, value: Any) -> Any:
        """`value` as Pulumi.yaml writes it (a YAML value of `pulumi_type`)."""
        return self.encode(value)


class Url(Kind):
    def parse(self, raw: object) -> str:
        return super().parse(raw).rstrip("/")


class Location(Kind):
    def parse(self, raw: object) -> Path:
        return Path(super().parse(raw))


def _number(raw: object, convert: Any, what: str) -> Any:
    """`raw` (text or a number, never a bool) through `convert`, or ValueError naming it."""
    try:
        if isinstance(raw, bool):
            raise ValueError
        return convert(str(raw).strip())
    except ValueError:
        raise ValueError(f"must be {what}, got {raw!r}") from None


class Integer(Kind):
    pulumi_type = "integer"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def parse(self, raw: object) -> int:
        value = _number(raw, int, "a whole number")
        if not self.low <= value <= self.high:
            raise ValueError(f"must be between {self.low} and {self.high}, got {value}")
        return value

    def stack_value(self, value: Any) -> Any:
        return int(value)


class Positive(Kind):
    # Pulumi project config has no decimal type; whole requests per minute are what the API's
    # plans sell, so the stack config documents it as an integer.
    pulumi_type = "integer"

    def parse(self, raw: object) -> float:
        value = _number(raw, float, "a number")
        if not value > 0:
            raise ValueError(f"must be greater than 0, got {value}")
        return value

    def encode(self, value: Any) -> str:
        return f"{value:g}"

    def stack_value(self, value: Any) -> Any:
        return int(value)


class Choice(Kind):
    def __init__(self, options: Sequence[str]) -> None:
        self.options = tuple(options)

    def parse(self, raw: object) -> str:
        text = str(raw).strip()
        if text not in self.options:
            raise ValueError(f"must be one of {', '.join(self.options)}, got {raw!r}")
        return text


class Identifier(Kind):
    """A Glue/Athena name part: lower-case letters, digits, underscores."""

    def __init__(self, what: str) -> None:
        self.what = what

    def parse(self, raw: object) -> str:
        return validate_identifier(str(raw).strip(), self.what)


class Tickers(Kind):
    def parse(self, raw: object) -> Tuple[str, ...]:
        return parse_tickers(raw)

    def encode(self, value: Any) -> str:
        return ",".join(value)


def parse_archive_keep(name: str, raw: object) -> int:
    """How many production archives to keep: a whole number from 1 (the copy readers use)."""
    return dict(sources())["archive_keep"].parse(raw, name)


@dataclass(frozen=True)
class Source:
    """Where one setting may come from, besides code (each None when it cannot)."""

    kind: Kind
    env: Optional[str] = None
    pulumi: Optional[str] = None
    """Stack config key (Pulumi.yaml documents it with the same default)."""
    pulumi_default: Any = None
    """The stack's default when it differs from the field's (e.g. "" = stack-scoped)."""
    glue: Optional[str] = None
    """Glue job argument name, without the leading `--`."""
    flag: Optional[str] = None
    """The command-line flag (and Lambda event key) that overrides it, for error messages."""
    doc: str = ""

    def convert(self, raw: object) -> Any:
        """The typed value of `raw`; ValueError/StockpipeError say what is wrong."""
        return self.kind.parse(raw)

    def parse(self, raw: object, label: str) -> Any:
        """The typed value of `raw`, or a ConfigError naming `label` (where it came from)."""
        try:
            return self.convert(raw)
        except (ValueError, StockpipeError) as exc:
            raise ConfigError(f"{label}: {exc}") from None


def setting(default: Any, kind: Optional[Kind] = None, *, secret: bool = False,
            **source: Any) -> Any:
    """One row of the table: a dataclass field whose metadata says where the value comes from
    (`kind` None: text)."""
    meta = {"source": Source(kind or Kind(), **source)}
    if isinstance(default, Path):
        return field(default_factory=lambda: default, repr=not secret, metadata=meta)
    return field(default=default, repr=not secret, metadata=meta)


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
    """Everything a run needs; build with `Settings.from_env()` and `.replace(...)`."""

    home: Path = setting(Path(".stockpipe"), Location(), env=ENV_HOME, flag="--home",
                         doc="local home: lake, catalog, reports, lock")
    tickers: Tuple[str, ...] = setting(
        DEFAULT_TICKERS, Tickers(), env=ENV_TICKERS, pulumi="tickers", glue="tickers",
        flag="--tickers", doc="comma-separated ticker symbols, e.g. AAPL,MSFT,BRK.B")
    window_days: int = setting(
        DEFAULT_WINDOW_DAYS, Integer(1, 3660), env=ENV_WINDOW_DAYS, pulumi="windowDays",
        flag="--days", doc="days of bars each ingest pulls, ending today")
    polygon_api_key: Optional[str] = setting(None, secret=True, env=ENV_API_KEY,
                                             doc="API key (locally; the Lambda reads a secret)")
    polygon_base_url: str = setting(DEFAULT_BASE_URL, Url(), env=ENV_BASE_URL,
                                    doc="API base URL")
    rate_limit_per_min: float = setting(
        DEFAULT_RATE_LIMIT_PER_MIN, Positive(), env=ENV_RATE_LIMIT, pulumi="rateLimitPerMin",
        doc="API requests per minute stockpipe allows itself (5 = the free tier)")
    firehose_stream_name: Optional[str] = setting(None, env=ENV_FIREHOSE_STREAM,
                                                  doc="delivery stream (cloud ingest)")
    api_key_secret_arn: Optional[str] = setting(None, env=ENV_API_KEY_SECRET_ARN,
                                                doc="secret holding the API key (cloud ingest)")
    database: str = setting(
        DEFAULT_DATABASE, Identifier("database"), env=ENV_DATABASE, pulumi="database",
        pulumi_default="", glue="database",
        doc="Glue/local catalog database; in a stack empty means stock_aggregates_<stack>")
    table_prefix: str = setting(
        DEFAULT_TABLE_PREFIX, Identifier("table prefix"), env=ENV_TABLE_PREFIX,
        pulumi="tablePrefix", glue="table_prefix", doc="table names are <prefix>_<role>")
    partition_granularity: str = setting(
        DEFAULT_GRANULARITY, Choice(GRANULARITIES), env=ENV_PARTITION_GRANULARITY,
        pulumi="partitionGranularity", glue="partition_granularity",
        doc="partition of the Parquet table by exchange-local hour or day")
    archive_keep: int = setting(
        DEFAULT_ARCHIVE_KEEP, Integer(1, 10000), env=ENV_ARCHIVE_KEEP, pulumi="archiveKeep",
        glue="archive_keep",
        doc="production archives publish keeps (the newest; older ones go with their files)")
    # Lake locations; None means "under home" (the local embedded default).
    raw_uri_override: Optional[str] = setting(None, env=ENV_RAW_URI, glue="raw_uri",
                                              doc="prefix of the Firehose-layout raw objects")
    curated_uri_override: Optional[str] = setting(
        None, env=ENV_CURATED_URI, glue="curated_uri",
        doc="prefix of the curated tables (one prefix per table under it)")
    archive_uri_override: Optional[str] = setting(
        None, env=ENV_ARCHIVE_URI, glue="archive_uri",
        doc="prefix of the timestamped production copies")
    athena_workgroup: Optional[str] = setting(None, env=ENV_WORKGROUP, glue="workgroup",
                                              doc="Athena workgroup (cloud engine)")
    aws_region: Optional[str] = setting(None, env=ENV_REGION, glue="region",
                                      doc="AWS region of the workgroup and buckets")

    def __post_init__(self) -> None:
        # The one validation of every field, whoever built the Settings.
        for name, source in sources():
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, source.parse(value, name))

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None, **overrides: object) -> Settings:
        """Read the environment; keyword overrides (command-line flags, event keys) win."""
        env = os.environ if environ is None else environ
        kw: Dict[str, Any] = {}
        for name, source in sources():
            if source.env and env.get(source.env, "").strip():
                kw[name] = source.parse(env[source.env], source.env)
        table = dict(sources())
        for name, value in overrides.items():
            if value is not None:
                kw[name] = table[name].parse(value, table[name].flag or name)
        return cls(**kw)

    @classmethod
    def from_glue_args(cls, args: Mapping[str, str], home: str) -> Settings:
        """The Settings of a Glue job from its `--name value` arguments (see glue_arguments)."""
        kw: Dict[str, Any] = {"home": home}
        for name, source in sources():
            if source.glue and args.get(source.glue) is not None:
                kw[name] = source.parse(args[source.glue], f"--{source.glue}")
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

    # ---- table names (docs/architecture.md "Tables") -----------------------------------------
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


def sources(table: Any = None) -> Iterator[Tuple[str, Source]]:
    """A table's rows: (attribute, where it comes from), in declaration order. `table` is a
    dataclass whose fields were built with `setting` (default: Settings); its other fields are
    not rows."""
    for f in dataclasses.fields(table or Settings):
        if "source" in f.metadata:
            yield f.name, f.metadata["source"]


GLUE_ARGUMENTS = tuple(s.glue for _, s in sources() if s.glue)
"""Every Glue job argument a step reads (besides `--step`)."""


def glue_arguments(settings: Settings, cloud: Mapping[str, Any]) -> Dict[str, Any]:
    """`--name` -> value for every Glue argument: `cloud` (e.g. deploy-time outputs, keyed by
    argument name) first, else the setting's own value encoded as text."""
    out: Dict[str, Any] = {}
    for name, source in sources():
        if not source.glue:
            continue
        value = cloud.get(source.glue)
        if value is None:
            typed = getattr(settings, name)
            if typed is None:
                raise ConfigError(f"Glue argument --{source.glue} has no value; pass it in cloud")
            value = source.kind.encode(typed)
        out[f"--{source.glue}"] = value
    return out


def environment(settings: Settings, names: Sequence[str]) -> Dict[str, str]:
    """Environment variable -> value that makes `Settings.from_env` read these attributes back
    (e.g. a Lambda's environment)."""
    table = dict(sources())
    out: Dict[str, str] = {}
    for name in names:
        env = table[name].env
        if not env:
            raise ConfigError(f"setting {name} is not read from the environment")
        out[env] = table[name].kind.encode(getattr(settings, name))
    return out
