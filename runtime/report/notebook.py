"""What the notebooks share: open the same home the CLI uses from the repository root (or
Athena), stop at once with the command to run when there is nothing to read, re-check quality
without writing to a production history, and draw charts that survive an HTML export."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

from ..engines.base import Engine
from ..errors import ConfigError, StockpipeError
from ..settings import ENV_HOME, Settings, find_repo_root, repo_home

BACKENDS = ("local", "athena")
# Renderers for every figure `.show()`: the plotly mime type for JupyterLab, plus HTML with
# plotly.js included once (offline), which is what an nbconvert HTML export keeps.
RENDERERS = "plotly_mimetype+notebook"


class NoDataError(StockpipeError):
    """The notebook has nothing to read yet; the message says what to run."""


def _missing(engine: Engine, tables: Sequence[str]) -> list:
    present = set(engine.list_tables())
    return [t for t in tables if t not in present]


def open_backend(
    backend: str,
    *,
    home: Optional[str] = None,
    workgroup: Optional[str] = None,
    region: Optional[str] = None,
    database: Optional[str] = None,
    needs: Sequence[str] = ("prod_latest_view",),
) -> Tuple[Settings, Engine]:
    """(settings, engine) for `backend`, or NoDataError naming what is missing and the command
    that makes it. `needs` are Settings attributes naming the tables the notebook reads."""
    if backend == "local":
        # The CLI run from the repository root uses $STOCKPIPE_HOME, else <repo>/.stockpipe; the
        # kernel's working directory (usually notebooks/) must not change that.
        settings = Settings.from_env(home=home or repo_home()).replace(athena_workgroup=None)
        root = find_repo_root()
        where = f"from {root}" if root else "in your checkout"
        run = (f"run `make run` (or `stockpipe run`) {where} first"
               + ("" if home else f", or set {ENV_HOME} to the home that holds your data"))
        if not settings.catalog_path.exists():
            # Checked before opening: opening would create an empty catalog there.
            raise NoDataError(f"no stockpipe data in {settings.home.resolve()}: {run}")
        from ..engines import make_engine

        engine = make_engine(settings)
    elif backend == "athena":
        if not workgroup:
            raise ConfigError("set ATHENA_WORKGROUP (the `athena_workgroup` stack output) in the "
                              "parameters cell for the athena backend")
        settings = Settings.from_env(athena_workgroup=workgroup, aws_region=region,
                                     database=database)
        run = ("run the Glue workflow (`aws glue start-workflow-run --name <the workflow_name "
               "stack output>`) and wait for it to publish")
        from ..engines import make_engine

        engine = make_engine(settings)
    else:
        raise ConfigError(f"BACKEND must be one of {', '.join(BACKENDS)}, got {backend!r}")
    missing = _missing(engine, [getattr(settings, attr) for attr in needs])
    if missing:
        engine.close()
        place = (str(settings.home.resolve()) if backend == "local"
                 else f"database {settings.database}")
        raise NoDataError(f"nothing to read yet in {place}: missing {', '.join(missing)}; {run}")
    return settings, engine


def recheck_quality(settings: Settings, engine: Engine, backend: str):
    """(QualityResult or None, what was done). Locally the checks run again and are recorded, as
    `stockpipe checks` does; on Athena the check history is production's, so the notebook only
    reads its latest recorded run (the Glue workflow's quality step writes it)."""
    from .. import steps

    if backend == "athena":
        latest = steps.latest_quality(settings, engine)
        return latest, ("read the latest recorded run (read-only on Athena: the production "
                        "check history is written only by the workflow)")
    from ..engines import make_storage

    return (steps.quality(settings, engine, make_storage(settings)),
            "re-ran every check and recorded it in the local history")


def exportable_charts() -> str:
    """Make every plotly `.show()` render in JupyterLab and in an HTML export; returns the
    renderer names."""
    import plotly.io as pio

    pio.renderers.default = RENDERERS
    return RENDERERS
