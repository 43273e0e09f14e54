"""The production copy as readers see it: the archive table behind the stable view, and the
statements that would take it away from them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from .errors import StockpipeError
from .storage import local_path


class ProductionProtected(StockpipeError):
    """A statement would break the production view."""


def view_target(settings: Any, engine: Any) -> Optional[str]:
    """The table the production view selects from (None: no view, or an engine that cannot
    show a view's definition)."""
    import sqlglot
    from sqlglot import exp

    describe = getattr(engine, "describe_table", None)
    entry = describe(settings.prod_latest_view) if describe is not None else None
    sql = (entry.properties or {}).get("sql") if entry is not None else None
    if not sql:
        return None
    node = sqlglot.parse_one(sql, read="athena")
    ctes = {c.alias_or_name.lower() for c in node.find_all(exp.CTE)}
    tables = {t.name.lower() for t in node.find_all(exp.Table)} - ctes
    # The view reads an archive and its `_splits` copy (runtime/steps/archive.py): the archive
    # is the table whose name has the archive pattern.
    pattern = re.compile(rf"^{re.escape(settings.table_prefix)}_prod_\d{{8}}_\d{{6}}$")
    named = sorted(t for t in tables if pattern.match(t))
    if len(named) == 1:
        return named[0]
    return next(iter(tables)) if len(tables) == 1 else None


def dropped_tables(sql: str) -> List[str]:
    """The tables a DROP TABLE statement names (lower case); [] for any other statement."""
    import sqlglot
    from sqlglot import exp

    try:
        node = sqlglot.parse_one(sql, read="athena")
    except sqlglot.errors.ParseError:
        return []  # the engine reports the statement's own error
    if not isinstance(node, exp.Drop) or (node.args.get("kind") or "").upper() != "TABLE":
        return []
    return [t.name.lower() for t in node.args.get("tables") or [node.this]]


def refuse_dropping_the_view_target(settings: Any, engine: Any, sql: str) -> None:
    """Raise if `sql` drops the table behind the production view (the view would break while
    every reader still queries it)."""
    names = dropped_tables(sql)
    if not names:
        return
    target = view_target(settings, engine)
    if target is not None and f"{target}_splits" in names:
        target = f"{target}_splits"
    if target in names:
        view = settings.prod_latest_view
        raise ProductionProtected(
            f"{target} is the table behind the view {view}, which production's readers query; "
            f"move the view first (CREATE OR REPLACE VIEW {view} AS SELECT * FROM <another "
            f"stock_aggregate_prod_... table>), then drop {target}"
        )


# ---- is the production copy readable in full? ------------------------------------------------
# Publish records what it wrote (each file's rows and bytes, from the files' own footers) in a
# manifest inside the copy's folder; readers compare what is on storage now with it. The name
# starts with '_': Athena, the local engine and Glue skip such files, and it goes with the
# folder when the copy is pruned.
MANIFEST_NAME = "_stockpipe_manifest.json"
# An archive's companion copy of the split events (runtime/steps/archive.py).
SPLITS_SUFFIX = "_splits"
_MAX_NAMED = 3
_FOOTER_THREADS = 16


class ProductionUnreadable(StockpipeError):
    """The production view's table is gone, or its files are missing, damaged or changed."""


@dataclass
class ProductionCheck:
    """What verify_production found: the view's table, its rows and files now, the problems."""

    view: str
    table: Optional[str] = None
    rows: Optional[int] = None
    files: int = 0
    manifest: bool = False
    problems: List[str] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return not self.problems

    def to_dict(self) -> Dict[str, Any]:
        return {"view": self.view, "table": self.table, "rows": self.rows, "files": self.files,
                "manifest": self.manifest, "readable": self.readable,
                "problems": list(self.problems)}

    def message(self) -> str:
        return (
            f"the production copy behind {self.view} cannot be read in full: "
            f"{'; '.join(self.problems)}. Readers get errors or miss rows: publish a new copy "
            "with `stockpipe workflow --from publish` (the next run does it too), or restore "
            "the files"
        )


def _is_data(uri: str) -> bool:
    return not uri.rsplit("/", 1)[-1].startswith(("_", "."))


def footer_rows(storage: Any, uri: str) -> int:
    """Rows a Parquet file holds, from its footer (raises on a file that is not Parquet). On S3
    two ranged reads (the length, then the footer), never the whole object."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if "://" not in uri or uri.startswith("file://"):
        return int(pq.read_metadata(str(local_path(uri))).num_rows)
    tail = storage.read_tail(uri, 8)
    if len(tail) < 8 or tail[4:] != b"PAR1":
        raise ValueError(f"{uri} does not end in a Parquet footer")
    footer = storage.read_tail(uri, int.from_bytes(tail[:4], "little") + 8)
    # The footer alone, behind the leading magic, reads as a file whose pages are not there:
    # enough for the metadata, which is all this needs.
    return int(pq.read_metadata(pa.BufferReader(b"PAR1" + footer)).num_rows)


def _footers(storage: Any, uris: List[str]) -> Dict[str, Any]:
    """uri -> rows, or the exception reading its footer raised. Several at a time: on S3 each
    footer is two requests of tens of milliseconds, and a copy has a file per partition."""
    from concurrent.futures import ThreadPoolExecutor

    def one(uri: str) -> Any:
        try:
            return footer_rows(storage, uri)
        except Exception as exc:  # noqa: BLE001 - any reader error means "cannot be read"
            return exc

    with ThreadPoolExecutor(max_workers=_FOOTER_THREADS) as pool:
        return dict(zip(uris, pool.map(one, uris)))


def _location(settings: Any, engine: Any, table: str) -> str:
    describe = getattr(engine, "describe_table", None)
    entry = describe(table) if describe is not None else None
    location = getattr(entry, "location", None) or settings.table_location(table)
    return location.rstrip("/") + "/"


def record_manifest(settings: Any, storage: Any, table: str, rows: int,
                    files: Iterable[Sequence[Any]],
                    splits: Optional[Iterable[Sequence[Any]]] = None) -> Dict[str, Any]:
    """Publish's record of a complete, verified copy: the files it copied (path below the
    copy's folder, bytes), the rows it read back, and the files of the `_splits` companion
    when there is one. Written before publish records the copy as complete."""
    location = settings.table_location(table).rstrip("/") + "/"
    manifest: Dict[str, Any] = {
        "table": table,
        "rows": int(rows),
        "files": {str(f[0]): int(f[1]) for f in files},
        "recorded_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if splits is not None:
        manifest["splits_table"] = table + SPLITS_SUFFIX
        manifest["splits_files"] = {str(f[0]): int(f[1]) for f in splits}
    storage.write(location + MANIFEST_NAME, json.dumps(manifest, indent=1).encode())
    return manifest


def _named(items: List[str]) -> str:
    shown = ", ".join(items[:_MAX_NAMED])
    return shown + (f" and {len(items) - _MAX_NAMED} more" if len(items) > _MAX_NAMED else "")


def _listing(storage: Any, location: str) -> Dict[str, Any]:
    """name below `location` -> (uri, bytes) of its data files, from one listing."""
    return {o.uri[len(location):]: (o.uri, int(o.size)) for o in storage.list_info(location)
            if o.uri.startswith(location) and _is_data(o.uri)}


def _compare(table: str, location: str, present: Dict[str, Any], recorded: Dict[str, int],
             problems: List[str]) -> None:
    """Files recorded but gone, added since, or of another size than recorded."""
    missing = sorted(set(recorded) - set(present))
    if missing:
        problems.append(f"{len(missing)} file(s) of {table} are gone from {location}: "
                        f"{_named(missing)}")
    added = sorted(set(present) - set(recorded))
    if added:
        problems.append(f"{table} has files publish did not write: {_named(added)}")
    resized = [f"{name} ({present[name][1]} bytes, {size} when published)"
               for name, size in sorted(recorded.items())
               if name in present and present[name][1] != size]
    if resized:
        problems.append(f"{len(resized)} file(s) of {table} changed since publish: "
                        f"{_named(resized)}")


def _manifest(storage: Any, location: str, check: ProductionCheck) -> Dict[str, Any]:
    if storage.size(location + MANIFEST_NAME) is None:
        return {}
    try:
        manifest = json.loads(storage.read(location + MANIFEST_NAME))
        dict(manifest["files"])
    except (ValueError, KeyError, TypeError, StockpipeError) as exc:
        check.problems.append(f"the manifest {location}{MANIFEST_NAME} is unreadable: {exc}")
        return {}
    check.manifest = True
    return manifest


def verify_production(settings: Any, engine: Any, storage: Any,
                      recorded: Optional[Callable[[], Optional[str]]] = None) -> ProductionCheck:
    """Compare the production view's table with what publish recorded: the table is in the
    catalog, every recorded file is there with its bytes, no file was added, every footer
    reads and the rows add up to what was published, every partition the catalog lists has
    files, and the `_splits` companion is there with its files. Without a manifest (a copy
    published before manifests, or a view moved by hand) every file is still read. `recorded`
    names the published table when the engine cannot show the view's SQL (Athena):
    runtime.steps.verify_production passes the lineage table's record."""
    view = settings.prod_latest_view
    check = ProductionCheck(view)
    if not engine.table_exists(view):
        return check  # nothing published: not this check's business
    target = view_target(settings, engine)
    if target is None and recorded is not None:
        target = recorded()
    check.table = target
    if target is None:
        return check
    if not engine.table_exists(target):
        check.problems.append(
            f"{view} selects from {target}, which is not in the catalog (dropped)")
        return check
    location = _location(settings, engine, target)
    present = _listing(storage, location)
    manifest = _manifest(storage, location, check)
    if check.manifest:
        _compare(target, location, present, dict(manifest["files"]), check.problems)
    if not present:
        check.problems.append(f"{target} has no data files in {location}")
    check.rows, check.files = _read_footers(storage, target, present, manifest, check.problems)
    empty = [p for p in _partitions(engine, target) if not any(
        name.startswith(p + "/") for name in present)]
    if empty:
        check.problems.append(f"{len(empty)} partition(s) of {target} registered without files: "
                              f"{_named(empty)}")
    splits = manifest.get("splits_table")
    if splits:
        if not engine.table_exists(splits):
            check.problems.append(f"{view} reads {splits}, which is not in the catalog (dropped)")
        else:
            where = _location(settings, engine, splits)
            _compare(splits, where, _listing(storage, where),
                     dict(manifest.get("splits_files") or {}), check.problems)
    return check


def _read_footers(storage: Any, table: str, present: Dict[str, Any], manifest: Dict[str, Any],
                  problems: List[str]) -> Tuple[int, int]:
    """(rows, files) from every file's footer; names the unreadable ones, and says when the
    recorded files' rows no longer add up to the rows published."""
    recorded = manifest.get("files") or {}
    footers = _footers(storage, [uri for uri, _size in present.values()])
    rows = in_recorded = 0
    bad = []
    for name, (uri, _size) in sorted(present.items()):
        n = footers[uri]
        if isinstance(n, Exception):
            bad.append(f"{name} ({type(n).__name__}: {' '.join(str(n).split())[:120]})")
            continue
        rows += n
        in_recorded += n if name in recorded else 0
    if bad:
        problems.append(f"{len(bad)} file(s) of {table} cannot be read: {_named(bad)}")
    elif manifest.get("rows") is not None and set(recorded) <= set(present) and (
            in_recorded != manifest["rows"]):
        problems.append(f"the files of {table} hold {in_recorded} rows, {manifest['rows']} "
                        "when published")
    return rows, len(present)


def _partitions(engine: Any, table: str) -> List[str]:
    """The partitions the catalog lists for `table` (`key=value` folders); [] when it cannot."""
    try:
        return [str(r[0]) for r in engine.execute(f"SHOW PARTITIONS {table}").rows]
    except StockpipeError:
        return []
