"""Glue Python-shell entry script: run ONE workflow step against Athena and S3.

Glue passes job arguments as `--name value` pairs; this script reads them with
awsglue.utils.getResolvedOptions when it runs inside Glue, else with argparse (local tests):

  --step   one of reset, transform, dedup, quality, publish (runtime/dag.py); `crawl` is the
           Glue crawler's job in the cloud and is refused here

and one argument per setting with a Glue column in runtime/settings.py (GLUE_ARGUMENTS, e.g.
--database, --raw_uri, --partition_granularity, --tickers), each validated there as the same
setting is when it comes from the environment or the stack config.

Exit status: 0 on success; 3 when a blocking quality check failed (the quality job itself fails,
so the workflow's conditional trigger never starts publish); 1 on any other error. The reason is
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
CLOUD_STEPS = ("reset", "transform", "dedup", "quality", "publish")

log = logging.getLogger("stockpipe.glue")


def parse_args(argv: Sequence[str]) -> Dict[str, str]:
    """Glue job arguments -> {name: value}. `argv` includes the script name, as sys.argv does."""
    try:
        from awsglue.utils import getResolvedOptions  # only present inside Glue
    except ImportError:
        getResolvedOptions = None  # noqa: N806
    if getResolvedOptions is not None:
        return dict(getResolvedOptions(list(argv), list(ARG_NAMES)))
    parser = argparse.ArgumentParser(prog="glue_entry", description="run one stockpipe step")
    for name in ARG_NAMES:
        parser.add_argument(f"--{name}", required=True)
    # Glue adds its own arguments (--job-bookmark-option, --JOB_NAME, ...): ignore them.
    known, _unknown = parser.parse_known_args(list(argv)[1:])
    return vars(known)


def settings_from_args(args: Dict[str, str]) -> Settings:
    """The Settings of a Glue job: cloud locations and workgroup from its arguments."""
    # Glue's scratch space; nothing is kept there.
    return Settings.from_glue_args(args, home="/tmp/stockpipe")  # noqa: S108


def run_step(
    args: Dict[str, str],
    make_engine: Optional[Callable[[Any], Any]] = None,
    make_storage: Optional[Callable[[Any], Any]] = None,
) -> Any:
    """Run the named step once; raises the step's error. The factories are for tests."""
    from runtime.dag import node
    from runtime.errors import ConfigError, QualityCheckFailed

    step = args["step"]
    if step not in CLOUD_STEPS:
        raise ConfigError(
            f"--step {step!r} cannot run in a Glue job; use one of {', '.join(CLOUD_STEPS)} "
            "(crawl is the Glue crawler's job)"
        )
    settings = settings_from_args(args)
    if make_engine is None or make_storage is None:
        from runtime.engines import make_engine as default_engine
        from runtime.engines import make_storage as default_storage

        make_engine = make_engine or default_engine
        make_storage = make_storage or default_storage
    engine = make_engine(settings)
    try:
        result = node(step).function(settings, engine, make_storage(settings))
    finally:
        engine.close()
    if step == "quality" and not result.passed:
        names = ", ".join(f"{c.name} ({c.failing_rows} rows)" for c in result.failed_errors)
        raise QualityCheckFailed(
            f"blocking quality checks failed in run {result.run_id}: {names}; "
            "publish will not run"
        )
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
