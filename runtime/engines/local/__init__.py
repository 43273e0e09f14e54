"""LocalEngine: Athena-dialect SQL on a DuckDB file, with Athena's table semantics.

sqlglot parses the statement (`read="athena"`) and transpiles it to DuckDB; what sqlglot drops
or gets wrong is implemented here:

- CTAS `WITH (external_location, format, write_compression, partitioned_by)` writes Hive-layout
  Parquet with DuckDB's `COPY ... PARTITION_BY` and registers the table; INSERT INTO appends new
  files; DROP TABLE forgets the table and keeps its files.
- `CREATE EXTERNAL TABLE ... ROW FORMAT SERDE '<json serde>' LOCATION '<prefix>'` reads a
  Firehose-layout prefix (`YYYY/MM/DD/HH/<object>`) with the folder levels as partition_0..n.
- Athena's rules are enforced so a local run fails where the cloud would: the CTAS location must
  be empty, at most 100 partitions per CTAS/INSERT, partition columns last, no
  `timestamp with time zone` column in a table, no unnamed CTAS column.
- Trino semantics that DuckDB lacks: integer `/` (DuckDB's `integer_division` setting), Joda
  `format_datetime`, `AT TIME ZONE`, `CAST(timestamp AS varchar)` with milliseconds, and
  `round(x, n)`, computed as Trino's Math.round(x * 10^n) / 10^n (DuckDB's own round differs
  where the binary product lands on .5).

Every table is a DuckDB view over its files (read at query time) plus a row in
`main.__stockpipe_catalog`, both stored in the DuckDB file, so another process sees them.
duckdb and sqlglot are imported lazily: this package is never imported on the Lambda/Glue path.

The parts, each given the one connection by the engine (docs/architecture.md, "Engines"):
`engine` the facade and dispatch; `connection` DuckDB set up as Athena; `catalog` tables, views
and locations; `cache` the scan cache; `writes` CTAS and INSERT; `statements` the other
statements; `dialect` the Trino-to-DuckDB rewrites; `rules` Athena's rules and error names;
`guard` what DuckDB would run but Athena refuses (table functions, locations outside the lake).
"""

from .cache import CACHE_PREFIX, KEPT_STAGES, SCAN_CACHE_MAX_BYTES, CacheStats
from .catalog import TableEntry
from .dialect import joda_to_strftime
from .engine import LocalEngine

__all__ = [
    "CACHE_PREFIX",
    "KEPT_STAGES",
    "SCAN_CACHE_MAX_BYTES",
    "CacheStats",
    "LocalEngine",
    "TableEntry",
    "joda_to_strftime",
]
