"""Glue Python-shell entry script: run ONE workflow step against Athena and S3.

Glue passes job arguments as `--name value` pairs; this script reads them with
awsglue.utils.getResolvedOptions when it runs inside Glue, else with argparse (local tests):

  --step   a job step of runtime/dag.py (transform, dedup, quality, publish); `crawl` is the
           Glue crawler's job in the cloud and is refused here

and one argument per setting with a Glue column in runtime/settings.py (GLUE_ARGUMENTS, e.g.
--database, --raw_uri, --partition_granularity, --tickers, --archive_keep), each validated there
as the same setting is when it comes from the environment or the stack config.

Glue adds --WORKFLOW_NAME and --WORKFLOW_RUN_ID when a workflow starts the job; the run's
properties are read from them (`full_refresh=true` rebuilds every table from all raw data:
`aws glue start-workflow-run --name <workflow> --run-properties full_refresh=true`). Steps hand
state to each other only through the catalog and S3 (the lineage table), never through this
process.

Exit status: 0 on success; 3 when the step that gates publish (quality) found a failed blocking
check (the job itself fails, so the workflow's conditional trigger never starts publish); 1 on
any other error. The reason is
printed as one line on stderr (Glue's error log).

Glue runs this file as a script (not as a module), so imports are absolute: the `runtime`
package comes from the wheel in --extra-py-files. Python 3.9: no heavy imports at module level.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence

from runtime.settings import GLUE_ARGUMENTS, Settings

# The step, then every setting a Glue job reads (the Glue column of runtime/settings.py).
ARG_NAMES = ("step", *GLUE_ARGUMENTS)
# Set by Glue on jobs a workflow starts; absent when the job is started on its own.
WORKFLOW_ARGS = ("WORKFLOW_NAME", "WORKFLOW_RUN_ID")
FULL_REFRESH_PROPERTY = "full_refresh"

log = logging.getLogger("stockpipe.glue")


def parse_args(argv: Sequence[str]) -> Dict[str, str]:
    """Glue job arguments -> {name: value}. `argv` includes the script name, as sys.argv does."""
    try:
        from awsglue.utils import getResolvedOptions  # only present inside Glue
    except ImportError:
        getResolvedOptions = None  # noqa: N806
    present = [n for n in WORKFLOW_ARGS if f"--{n}" in argv]
    if getResolvedOptions is not None:
        return dict(getResolvedOptions(list(argv), list(ARG_NAMES) + present))
    parser = argparse.ArgumentParser(prog="glue_entry", description="run one stockpipe step")
    for name in ARG_NAMES:
        parser.add_argument(f"--{name}", required=True)
    for name in WORKFLOW_ARGS:
        parser.add_argument(f"--{name}", default=None)
    # Glue adds its own arguments (--job-bookmark-option, --JOB_NAME, ...): ignore them.
    known, _unknown = parser.parse_known_args(list(argv)[1:])
    return {k: v for k, v in vars(known).items() if v is not None}


def settings_from_args(args: Dict[str, str]) -> Settings:
    """The Settings of a Glue job: cloud locations and workgroup from its arguments."""
    # Glue's scratch space; nothing is kept there.
    return Settings.from_glue_args(args, home="/tmp/stockpipe")  # noqa: S108


def full_refresh_requested(args: Dict[str, str], glue: Any = None) -> bool:
    """The workflow run property `full_refresh` (true/false; absent = false)."""
    name, run_id = args.get("WORKFLOW_NAME"), args.get("WORKFLOW_RUN_ID")
    if not name or not run_id:
        return False
    if glue is None:
        import boto3

        glue = boto3.client("glue", region_name=args.get("region"))
    props = glue.get_workflow_run_properties(Name=name, RunId=run_id).get("RunProperties") or {}
    value = str(props.get(FULL_REFRESH_PROPERTY, "false")).strip().lower()
    if value not in ("true", "false", ""):
        from runtime.errors import ConfigError

        raise ConfigError(
            f"workflow run property {FULL_REFRESH_PROPERTY}={value!r}: use true or false"
        )
    return value == "true"


def run_step(
    args: Dict[str, str],
    make_engine: Optional[Callable[[Any], Any]] = None,
    make_storage: Optional[Callable[[Any], Any]] = None,
    glue: Any = None,
) -> Any:
    """Run the named step once, through `Node.run` as the local runner does; raises the step's
    error. The factories and the Glue client are for tests."""
    from runtime.dag import DAG, node
    from runtime.errors import ConfigError, QualityCheckFailed

    jobs = [n.name for n in DAG if n.kind == "job"]
    step = args["step"]
    if step not in jobs:
        raise ConfigError(
            f"--step {step!r} cannot run in a Glue job; use one of {', '.join(jobs)} "
            "(crawl is the Glue crawler's job)"
        )
    target = node(step)
    settings = settings_from_args(args)
    given: Dict[str, Any] = {}
    if "full_refresh" in target.needs:
        given["full_refresh"] = full_refresh_requested(args, glue)
    if make_engine is None or make_storage is None:
        from runtime.engines import make_engine as default_engine
        from runtime.engines import make_storage as default_storage

        make_engine = make_engine or default_engine
        make_storage = make_storage or default_storage
    engine = make_engine(settings)
    try:
        result = target.run(settings, engine, make_storage(settings), **given)
    finally:
        engine.close()
    refused = target.refused(result)
    if refused:
        raise QualityCheckFailed(f"{refused}; publish will not run")
    return result


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from runtime.errors import StockpipeError

    try:
        args = parse_args(sys.argv if argv is None else argv)
    except SystemExit as exc:  # argparse already printed the usage line
        return int(exc.code or 1)
    try:
        result = run_step(args)
    except StockpipeError as exc:
        print(f"stockpipe {args.get('step')}: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - Glue shows stderr; one line is the contract
        print(f"stockpipe {args.get('step')}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    log.info("step %s done: %s", args["step"], result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
