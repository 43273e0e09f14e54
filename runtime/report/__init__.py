"""The local report: report.html (an overview of every chosen ticker, the data-quality results
and the pipeline status) and, in the folder beside it, one page per ticker plus a single copy of
plotly.js (its finance bundle, vendored in assets/), so it works offline and no page carries the
library. Every number comes from the
dashboard's panel SQL, expanded the way Grafana's Athena plugin expands it."""

from __future__ import annotations

import contextlib
import logging
import os
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Optional, Sequence

from ..engines.base import Engine
from ..errors import StorageError
from ..settings import Settings
from . import collect as collect_module
from .collect import (
    PanelResult,
    ReportData,
    Splits,
    TickerSummary,
    collect,
    read_splits,
    status_section,
)
from .figures import closed_weekdays, daily_specs, panel_figure, panel_spec
from .pages import PLOTLY_JS, check_columns, overview_page, ticker_page
from .span import ReportRange, resolve_range

__all__ = [
    "REPORT_NAME", "PanelResult", "ReportData", "ReportRange", "TickerSummary", "assets_dir",
    "build_report", "check_columns", "check_writable", "closed_weekdays", "collect",
    "daily_specs", "panel_figure", "panel_spec", "read_splits", "report_target",
    "resolve_range", "collect_module", "Splits", "status_section",
]

log = logging.getLogger(__name__)

REPORT_NAME = "report.html"


def report_target(settings: Settings, out: Optional[Path] = None) -> Path:
    """Where the report goes: `out` (a folder gets report.html) or <home>/reports/report.html."""
    target = Path(out) if out is not None else settings.reports_dir / REPORT_NAME
    if target.is_dir():
        target = target / REPORT_NAME
    return target


def assets_dir(target: Path) -> Path:
    """The folder beside report.html holding plotly.js and the ticker pages (report_files/)."""
    return target.with_name(f"{target.stem}_files")


def check_writable(target: Path) -> None:
    """Raise StorageError now if `target` cannot be written, before a long run ends in vain."""
    for folder in target.parents:
        if folder.exists():
            if not folder.is_dir():
                raise StorageError(
                    _cannot_write(target, NotADirectoryError(20, f"{folder} is a file"))
                )
            break
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(_cannot_write(target, exc)) from None
    if not os.access(target.parent, os.W_OK | os.X_OK) or (
        target.exists() and not os.access(target, os.W_OK)
    ):
        raise StorageError(_cannot_write(target, PermissionError(13, "Permission denied")))


def _cannot_write(target: Path, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return (
        f"cannot write the report to {target}: {reason}; "
        "pass --out with a writable file or folder"
    )


def _write(path: Path, text: str, report: Path) -> None:
    # Written beside the target then renamed, so a reader never sees half a page.
    tmp = path.with_name(f".tmp-{path.name}-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StorageError(_cannot_write(report, exc)) from None


def _copy_plotly(folder: Path, report: Path) -> None:
    """The vendored plotly.js bundle, copied once (again only when it changed)."""
    from importlib import resources

    source = resources.files("runtime").joinpath("report", "assets", PLOTLY_JS)
    data = source.read_bytes()
    dest = folder / PLOTLY_JS
    if dest.exists() and dest.stat().st_size == len(data) and dest.read_bytes() == data:
        return
    try:
        tmp = dest.with_name(f".tmp-{PLOTLY_JS}-{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
    except OSError as exc:
        raise StorageError(_cannot_write(report, exc)) from None
    # A bundle from an older build of the report would never be read again.
    for old in folder.glob("*.js"):
        if old.name != PLOTLY_JS:
            with contextlib.suppress(OSError):
                old.unlink()


def build_report(
    settings: Settings,
    engine: Engine,
    out: Optional[Path] = None,
    *,
    tickers: Optional[Sequence[str]] = None,
    days: Optional[int] = None,
    date_from: Optional[date] = None,
    date_to: Optional[date] = None,
    progress: Optional[Callable[[str], None]] = None,
    now: Optional[datetime] = None,
) -> Path:
    """Write report.html and its folder (default under settings.reports_dir); return the path.

    The range is chosen here (`days`, or `date_from`/`date_to`; default all published data, at
    most a year), never taken from the window of the last ingest."""
    say = progress or (lambda message: None)
    target = report_target(settings, out)
    check_writable(target)
    data = collect(settings, engine, now, tickers=tickers, days=days, date_from=date_from,
                   date_to=date_to, progress=say)
    folder = assets_dir(target)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise StorageError(_cannot_write(target, exc)) from None
    pages = [t for t in data.tickers if t in data.summaries]

    def from_overview(t: str) -> str:
        return f"{folder.name}/{t}.html"

    def beside(t: str) -> str:
        return f"{t}.html"

    if pages:
        _copy_plotly(folder, target)
    for index, ticker in enumerate(pages):
        say(f"report: page {index + 1}/{len(pages)} {ticker}")
        neighbours = (pages[index - 1] if index else None,
                      pages[index + 1] if index + 1 < len(pages) else None)
        page = ticker_page(ticker, data, settings, f"../{target.name}", neighbours, PLOTLY_JS,
                           beside)
        _write(folder / f"{ticker}.html", page, target)
    # Pages of tickers no longer chosen would be reachable only by old links: remove them.
    for stale in folder.glob("*.html"):
        if stale.stem not in pages:
            with contextlib.suppress(OSError):
                stale.unlink()
    _write(target, overview_page(data, settings, from_overview), target)
    log.info("report written", extra={"report": str(target), "tickers": data.tickers})
    return target
