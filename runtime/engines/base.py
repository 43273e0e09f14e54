"""The one engine interface. Steps build Athena-dialect SQL and call it; they never branch on
which engine they hold (docs/architecture.md, "Engines")."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple


@dataclass
class QueryResult:
    """Rows of one statement (empty for DDL), column names in order, and the engine's query id."""

    columns: List[str] = field(default_factory=list)
    rows: List[Tuple[Any, ...]] = field(default_factory=list)
    query_id: Optional[str] = None

    def scalar(self) -> Any:
        """The first column of the first row (None when there is no row)."""
        return self.rows[0][0] if self.rows else None

    def records(self) -> List[Dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_pandas(self):  # pandas is local/notebook-only: import where used
        import pandas as pd

        return pd.DataFrame.from_records(self.rows, columns=self.columns)


class Engine(ABC):
    """Executes one Athena-dialect statement at a time against a catalog database."""

    database: str

    @abstractmethod
    def execute(self, sql: str) -> QueryResult:
        """Run one statement: SELECT, CTAS, INSERT INTO, CREATE [EXTERNAL] TABLE, DROP, VIEW, SHOW.

        CTAS and INSERT INTO return one row, column `rows`: the number of rows written."""

    @abstractmethod
    def list_tables(self) -> List[str]:
        """Names of the tables and views in the database, sorted."""

    def table_exists(self, name: str) -> bool:
        return name in self.list_tables()

    def create_stage(
        self,
        name: str,
        select_sql: str,
        location: str,
        *,
        compression: str = "SNAPPY",
        order_by: Optional[str] = None,
    ) -> None:
        """Evaluate `select_sql` once into the intermediate table `name`, which later statements
        on this engine read (write_partitioned's stage) until drop_stage.

        Here, as Athena needs: an unpartitioned Parquet CTAS at `location`. `order_by` is a hint
        that an engine may use to cluster the rows; Athena ignores it, because the ORDER BY of a
        CTAS runs on a single node and its batches prune anyway. Callers validate the names."""
        self.execute(
            f"CREATE TABLE {name} WITH (external_location = '{location}', "
            f"format = 'PARQUET', write_compression = '{compression}') AS {select_sql}"
        )

    def drop_stage(
        self, name: str, location: str, storage: Any, *, keep_as: Optional[str] = None
    ) -> None:
        """Forget the stage `name` and delete its files under `location` (safe when absent).

        `keep_as` names a table that now holds exactly the stage's rows; an engine may keep the
        stage as that table's cached copy (Athena has nothing to keep)."""
        self.execute(f"DROP TABLE IF EXISTS {name}")
        storage.delete_prefix(location)

    @contextmanager
    def consistent_reads(self) -> Iterator[None]:
        """A block of statements that should see each table as it was when the block first read
        it (quality's checks judge one state of the tables). An engine may use it to check a
        table for changes once per block instead of once per statement; its own writes inside
        the block are still seen. Athena reads whatever is current, as outside a block."""
        yield

    def close(self) -> None:  # noqa: B027 - optional hook: engines without connections skip it
        """Release connections; safe to call twice."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
