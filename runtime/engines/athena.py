"""AthenaEngine: one statement at a time through pyathena against a workgroup
(docs/architecture.md, "Engines").

Runs in Glue Python shell (3.9) too, so it needs only pyathena (imported when first used).
"""

from __future__ import annotations

import logging
import re
from typing import Any, List, Optional

from ..errors import AthenaQueryError, ConfigError, EngineError, validate_identifier
from .base import Engine, QueryResult

log = logging.getLogger(__name__)

# Athena workgroup names: 1-128 of letters, digits, '.', '_' and '-'.
_WORKGROUP = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
# Athena's reasons start with the error name, e.g. "HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded ...".
_ERROR_NAME = re.compile(r"^\s*([A-Z][A-Z0-9_]{2,}):")
_READ_ONLY = re.compile(r"^\s*\(?\s*(select|with)\b", re.I)
MAX_REUSE_MINUTES = 10080  # Athena's documented maximum age for result reuse


def strip_sql_comments(sql: str) -> str:
    """`sql` without `--` line and `/* */` block comments; quoted text is kept verbatim.

    Athena runs DDL (DROP TABLE, SHOW, CREATE EXTERNAL TABLE) with its Hive parser, which
    fails on comments: a leading `-- ...` line can comment out the whole statement, reported as
    `FAILED: ParseException line 1:... cannot recognize input near '<EOF>'` (seen with dbt-athena
    on engine v3: dbt-labs/dbt-external-tables#203, Tomme/dbt-athena#64). The SQL files start with
    explanatory comments, so they are removed before the statement is sent.
    """
    out: List[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"', "`"):
            # A quoted string or identifier; a doubled quote inside is an escaped quote.
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i : j + 1])
            i = j + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end  # keep the newline: it still separates tokens
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            out.append(" ")
            i = n if end < 0 else end + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out).strip()


def _head(sql: str, n: int = 160) -> str:
    one = " ".join(sql.split())
    return one if len(one) <= n else one[: n - 3] + "..."


class AthenaEngine(Engine):
    """Athena-dialect SQL on Amazon Athena; a FAILED/CANCELLED query raises AthenaQueryError."""

    def __init__(
        self,
        database: str,
        workgroup: str,
        region: Optional[str] = None,
        s3_staging_dir: Optional[str] = None,
        result_reuse_minutes: Optional[int] = None,
        connection: Any = None,
        cursor: Any = None,
        poll_interval: float = 1.0,
    ):
        self.database = validate_identifier(database, "database")
        if not isinstance(workgroup, str) or not _WORKGROUP.match(workgroup):
            raise ConfigError(
                f"Athena workgroup {workgroup!r} is not a valid name (1-128 letters, digits, "
                "'.', '_' or '-')"
            )
        if (
            result_reuse_minutes is not None
            and not 0 < int(result_reuse_minutes) <= MAX_REUSE_MINUTES
        ):
            raise ConfigError(
                f"result_reuse_minutes must be between 1 and {MAX_REUSE_MINUTES}, "
                f"got {result_reuse_minutes!r}"
            )
        self.workgroup = workgroup
        self.region = region
        self.s3_staging_dir = s3_staging_dir
        self.result_reuse_minutes = result_reuse_minutes
        self.poll_interval = poll_interval
        self._connection = connection
        self._cursor = cursor

    @property
    def cursor(self) -> Any:
        if self._cursor is None:
            if self._connection is None:
                from pyathena import connect

                kwargs = {
                    "schema_name": self.database,
                    "work_group": self.workgroup,
                    "poll_interval": self.poll_interval,
                }
                if self.region:
                    kwargs["region_name"] = self.region
                if self.s3_staging_dir:
                    kwargs["s3_staging_dir"] = self.s3_staging_dir
                self._connection = connect(**kwargs)
            self._cursor = self._connection.cursor()
        return self._cursor

    def execute(self, sql: str) -> QueryResult:
        from pyathena.error import Error as PyAthenaError

        text = strip_sql_comments(sql or "").rstrip(";").strip()
        if not text:
            raise EngineError("empty statement: give one Athena SQL statement")
        kwargs = {}
        # Athena reuses results for SELECT only: a reused CTAS/INSERT would write nothing.
        if self.result_reuse_minutes and _READ_ONLY.match(text):
            kwargs = {
                "result_reuse_enable": True,
                "result_reuse_minutes": int(self.result_reuse_minutes),
            }
        cur = self.cursor
        try:
            cur.execute(text, **kwargs)
        except PyAthenaError as exc:
            query_id = getattr(cur, "query_id", None)
            reason = str(exc) or type(exc).__name__
            m = _ERROR_NAME.match(reason)
            raise AthenaQueryError(
                f"Athena query {query_id or '(not started)'} failed: {reason} "
                f"[statement: {_head(text)}]",
                query_id=query_id,
                error_name=m.group(1) if m else None,
            ) from exc
        query_id = getattr(cur, "query_id", None)
        if not cur.description:
            # CTAS and INSERT report the rows written (as the LocalEngine does); DDL reports -1.
            count = getattr(cur, "rowcount", -1)
            rows = [(int(count),)] if isinstance(count, int) and count >= 0 else []
            return QueryResult(columns=["rows"] if rows else [], rows=rows, query_id=query_id)
        columns = [d[0] for d in cur.description]
        return QueryResult(
            columns=columns, rows=[tuple(r) for r in cur.fetchall()], query_id=query_id
        )

    def list_tables(self) -> List[str]:
        result = self.execute(f"SHOW TABLES IN {self.database}")
        return sorted(str(r[0]).strip() for r in result.rows)

    def close(self) -> None:
        cur, self._cursor = self._cursor, None
        conn, self._connection = self._connection, None
        for obj in (cur, conn):
            if obj is not None:
                try:
                    obj.close()
                except Exception as exc:  # closing twice or a dead connection is not an error
                    log.debug("ignored error while closing the Athena connection: %s", exc)
