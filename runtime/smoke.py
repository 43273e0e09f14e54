"""`make cloud-smoke`: after `pulumi up`, prove the deployed pipeline works end to end.

Stages, each printed as PASS or FAIL, stopping at the first failure (the later ones need it):
  ingest    invoke the ingest Lambda once per ticker batch with a small window, synchronously
  land      wait for Firehose's buffer (60 s) so the objects are in S3
  workflow  start the Glue workflow and wait for it, with progress, until every step succeeded
  athena    query `<prefix>_prod_latest` for the expected tickers and the newest quality run
            for every check passed
then the console links to look further. Names come from `pulumi stack output --json` (or
--outputs FILE). Plain boto3; the workflow's own Athena queries run in the ETL workgroup, this
one's in the readers' workgroup, as Grafana's would.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .errors import StockpipeError, validate_identifier

TERMINAL_WORKFLOW = ("COMPLETED", "STOPPED", "ERROR")
TERMINAL_QUERY = ("SUCCEEDED", "FAILED", "CANCELLED")
NEEDED_OUTPUTS = ("lambda_function", "glue_workflow", "glue_database", "athena_workgroup",
                  "table_prefix", "ingest_batches")


class SmokeFailed(StockpipeError):
    """A stage failed; the message says which and why."""


@dataclass(frozen=True)
class StackNames:
    lambda_function: str
    glue_workflow: str
    database: str
    workgroup: str
    table_prefix: str
    batches: Tuple[str, ...]
    region: Optional[str] = None

    @classmethod
    def from_outputs(cls, outputs: Dict[str, Any]) -> StackNames:
        missing = [k for k in NEEDED_OUTPUTS if not outputs.get(k)]
        if missing:
            raise SmokeFailed(
                f"stack outputs lack {', '.join(missing)}: run `pulumi up` with this version of "
                "stockpipe first (or pass --outputs with them)")
        database = validate_identifier(str(outputs["glue_database"]), "glue_database")
        prefix = validate_identifier(str(outputs["table_prefix"]), "table_prefix")
        return cls(str(outputs["lambda_function"]), str(outputs["glue_workflow"]), database,
                   str(outputs["athena_workgroup"]), prefix,
                   tuple(str(b) for b in outputs["ingest_batches"]), outputs.get("region"))

    @property
    def tickers(self) -> List[str]:
        return [t for batch in self.batches for t in batch.split(",")]


def stack_outputs(stack: Optional[str] = None, run: Callable[..., Any] = subprocess.run) -> dict:
    """`pulumi stack output --json` of the current (or named) stack."""
    cmd = ["pulumi", "stack", "output", "--json"] + (["--stack", stack] if stack else [])
    try:
        out = run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SmokeFailed("the pulumi CLI is not on PATH (docs/deploy.md: installing it); or "
                          "pass --outputs FILE with the stack outputs as JSON") from None
    if out.returncode != 0:
        raise SmokeFailed(f"`{' '.join(cmd)}` failed: {out.stderr.strip()[-300:]}")
    return json.loads(out.stdout)


def console_links(names: StackNames, region: str) -> Dict[str, str]:
    domain = ("console.amazonaws.cn" if region.startswith("cn-") else
              "console.amazonaws-us-gov.com" if region.startswith("us-gov-") else
              "console.aws.amazon.com")
    home = f"https://{region}.{domain}"
    group = f"/aws/lambda/{names.lambda_function}".replace("/", "$252F")
    return {
        "ingest Lambda": f"{home}/lambda/home?region={region}#/functions/{names.lambda_function}",
        "ingest logs": f"{home}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/"
                       f"{group}",
        "Glue workflow": f"{home}/glue/home?region={region}#/v2/etl-configuration/workflows/"
                         f"view/{names.glue_workflow}",
        "Athena": f"{home}/athena/home?region={region}#/query-editor",
    }


class Smoke:
    """The stages against boto3 clients (`lambda`, `glue`, `athena`); `say` prints a line."""

    def __init__(self, names: StackNames, clients: Dict[str, Any], *, days: int = 5,
                 say: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, poll_seconds: float = 15.0,
                 land_seconds: float = 90.0, workflow_minutes: float = 45.0):
        self.names, self.clients, self.days = names, clients, days
        self.say, self.sleep, self.clock = say, sleep, clock
        self.poll_seconds, self.land_seconds = poll_seconds, land_seconds
        self.workflow_minutes = workflow_minutes

    # ---- stages ----------------------------------------------------------------------------
    def ingest(self) -> str:
        bars = rejects = 0
        for i, batch in enumerate(self.names.batches, 1):
            self.say(f"  ingest: invoking {self.names.lambda_function} for {batch} "
                     f"({i}/{len(self.names.batches)}; the free tier takes a minute per 5)")
            resp = self.clients["lambda"].invoke(
                FunctionName=self.names.lambda_function, InvocationType="RequestResponse",
                Payload=json.dumps({"tickers": batch, "days": self.days}).encode())
            body = resp["Payload"].read()
            result = json.loads(body or b"null")
            if resp.get("FunctionError") or not isinstance(result, dict):
                message = result.get("errorMessage") if isinstance(result, dict) else body
                raise SmokeFailed(f"the Lambda failed for {batch}: {message}")
            bars += int(result.get("bars", 0))
            rejects += int(result.get("rejects", 0))
        if bars == 0:
            raise SmokeFailed(f"the Lambda delivered no bars in {self.days} days; a key without "
                              "entitlement or a closed market (try --days 10)")
        return f"{len(self.names.batches)} invocation(s), {bars} bars, {rejects} rejects"

    def land(self) -> str:
        self.say(f"  land: waiting {self.land_seconds:.0f} s for Firehose's 60 s buffer")
        self.sleep(self.land_seconds)
        return "buffer flushed"

    def workflow(self) -> str:
        glue, name = self.clients["glue"], self.names.glue_workflow
        run_id = glue.start_workflow_run(Name=name)["RunId"]
        deadline = self.clock() + self.workflow_minutes * 60
        last = ""
        while True:
            run = glue.get_workflow_run(Name=name, RunId=run_id, IncludeGraph=False)["Run"]
            stats, status = run.get("Statistics", {}), run["Status"]
            line = (f"{status}: {stats.get('SucceededActions', 0)}/{stats.get('TotalActions', '?')}"
                    f" steps succeeded, {stats.get('RunningActions', 0)} running")
            if line != last:
                self.say(f"  workflow {run_id}: {line}")
                last = line
            if status in TERMINAL_WORKFLOW:
                break
            if self.clock() >= deadline:
                raise SmokeFailed(f"workflow run {run_id} still {status} after "
                                  f"{self.workflow_minutes:g} minutes")
            self.sleep(self.poll_seconds)
        bad = {k: stats.get(k, 0) for k in ("FailedActions", "StoppedActions", "TimeoutActions",
                                            "ErroredActions")}
        if status != "COMPLETED" or any(bad.values()) or (
                stats.get("SucceededActions") != stats.get("TotalActions")):
            raise SmokeFailed(f"workflow run {run_id} ended {status}: "
                              + ", ".join(f"{k} {v}" for k, v in bad.items() if v)
                              + f"; {self._failed_steps(run_id)}")
        return f"run {run_id}: all {stats.get('TotalActions')} steps succeeded"

    def athena(self) -> str:
        n = self.names
        view = f"{n.database}.{n.table_prefix}_prod_latest"
        found = {row[0] for row in self.query(f"SELECT DISTINCT ticker FROM {view}")}
        missing = sorted(set(n.tickers) - found)
        if missing:
            raise SmokeFailed(f"{view} lacks {', '.join(missing)} (has {sorted(found)})")
        dq = f"{n.database}.{n.table_prefix}_dq_results"
        checks = self.query(
            f"SELECT check_name, severity, passed FROM {dq} "
            f"WHERE run_id = (SELECT max(run_id) FROM {dq}) ORDER BY check_name")
        failed = [f"{c} ({s})" for c, s, passed in checks if str(passed).lower() != "true"]
        if not checks or failed:
            raise SmokeFailed(f"quality checks not all passed in the newest run of {dq}: "
                              + (", ".join(failed) or "no checks recorded"))
        return f"{view} has {len(found)} ticker(s); all {len(checks)} checks passed"

    # ---- helpers ---------------------------------------------------------------------------
    def query(self, sql: str) -> List[Tuple[Optional[str], ...]]:
        """Run one statement in the readers' workgroup; rows as strings, header dropped."""
        athena = self.clients["athena"]
        qid = athena.start_query_execution(
            QueryString=sql, QueryExecutionContext={"Database": self.names.database},
            WorkGroup=self.names.workgroup)["QueryExecutionId"]
        while True:
            status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
            if status["State"] in TERMINAL_QUERY:
                break
            self.sleep(1.0)
        if status["State"] != "SUCCEEDED":
            raise SmokeFailed(f"Athena query {qid} {status['State']}: "
                              f"{status.get('StateChangeReason', 'no reason given')} [{sql}]")
        rows: List[Tuple[Optional[str], ...]] = []
        kwargs: Dict[str, Any] = {"QueryExecutionId": qid}
        while True:
            page = athena.get_query_results(**kwargs)
            rows += [tuple(c.get("VarCharValue") for c in r["Data"])
                     for r in page["ResultSet"]["Rows"]]
            if not page.get("NextToken"):
                return rows[1:]  # the first row of a SELECT's results is its header
            kwargs["NextToken"] = page["NextToken"]

    def _failed_steps(self, run_id: str) -> str:
        run = self.clients["glue"].get_workflow_run(
            Name=self.names.glue_workflow, RunId=run_id, IncludeGraph=True)["Run"]
        out = []
        for node in run.get("Graph", {}).get("Nodes", []):
            for job_run in (node.get("JobDetails") or {}).get("JobRuns", []):
                if job_run.get("JobRunState") not in (None, "SUCCEEDED", "RUNNING"):
                    out.append(f"{node.get('Name')} {job_run['JobRunState']}: "
                               f"{job_run.get('ErrorMessage', '')}".strip())
            for crawl in (node.get("CrawlerDetails") or {}).get("Crawls", []):
                if crawl.get("State") == "FAILED":
                    out.append(f"{node.get('Name')} FAILED: {crawl.get('ErrorMessage', '')}")
        return "; ".join(out) or "see the Glue console"

    def run(self, stages: Sequence[str] = ("ingest", "land", "workflow", "athena")) -> int:
        for stage in stages:
            started = self.clock()
            try:
                detail = getattr(self, stage)()
            except SmokeFailed as exc:
                self.say(f"FAIL {stage}: {exc}")
                return 1
            except Exception as exc:  # noqa: BLE001 - AWS refused a call: say which and why
                error = getattr(exc, "response", {}).get("Error", {})
                if not error:
                    raise
                self.say(f"FAIL {stage}: {error.get('Code')}: {error.get('Message')}")
                return 1
            self.say(f"PASS {stage}: {detail} ({self.clock() - started:.0f} s)")
        return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="cloud-smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="Pulumi stack (default: the selected one)")
    parser.add_argument("--outputs", help="JSON file of stack outputs instead of asking pulumi")
    parser.add_argument("--days", type=int, default=5, help="ingest window in days (default 5)")
    parser.add_argument("--skip-ingest", action="store_true",
                        help="only run the workflow and the Athena checks")
    args = parser.parse_args(argv)
    import boto3

    try:
        if args.outputs:
            with open(args.outputs) as fh:
                outputs = json.load(fh)
        else:
            outputs = stack_outputs(args.stack)
        names = StackNames.from_outputs(outputs)
    except (SmokeFailed, StockpipeError, OSError, ValueError) as exc:
        print(f"FAIL setup: {exc}", file=sys.stderr)
        return 1
    session = boto3.session.Session(region_name=names.region)
    from botocore.config import Config

    # A synchronous invoke waits for the whole ingest (up to Lambda's 900 s).
    slow = Config(read_timeout=960, retries={"max_attempts": 0})
    clients = {"lambda": session.client("lambda", config=slow),
               "glue": session.client("glue"), "athena": session.client("athena")}
    stages = ("workflow", "athena") if args.skip_ingest else ("ingest", "land", "workflow",
                                                              "athena")
    code = Smoke(names, clients, days=args.days).run(stages)
    print("\nconsole:")
    for label, url in console_links(names, session.region_name or "us-east-1").items():
        print(f"  {label}: {url}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
