"""Run the whole Pulumi program (__main__.py) under recording mocks: no CLI, no AWS.

Pattern from stelviodev/stelvio tests/aws/pulumi_mocks.py: the mocks keep every
MockResourceArgs and build ARNs from a fixed account and region, so tests can assert on the
exact inputs (camelCase, as Pulumi sends them) of every resource the program creates.
"""

from __future__ import annotations

import json
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Set
from unittest import mock

import pulumi
import pytest
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "__main__.py"
ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK = "dev"

# type token -> output template ({name}: physical name, {account}, {region}, {in[x]}: input x)
ARNS: Dict[str, str] = {
    "aws:iam/role:Role": "arn:{partition}:iam::{account}:role/{name}",
    "aws:iam/user:User": "arn:{partition}:iam::{account}:user/{name}",
    "aws:lambda/function:Function": "arn:{partition}:lambda:{region}:{account}:function:{name}",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
        "arn:{partition}:firehose:{region}:{account}:deliverystream/{name}",
    "aws:secretsmanager/secret:Secret":
        "arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-AbCdEf",
    "aws:sqs/queue:Queue": "arn:{partition}:sqs:{region}:{account}:{name}",
    "aws:sns/topic:Topic": "arn:{partition}:sns:{region}:{account}:{name}",
    "aws:athena/workgroup:Workgroup": "arn:{partition}:athena:{region}:{account}:workgroup/{name}",
    "aws:cloudwatch/logGroup:LogGroup": "arn:{partition}:logs:{region}:{account}:log-group:{name}",
    "aws:cloudwatch/eventRule:EventRule": "arn:{partition}:events:{region}:{account}:rule/{name}",
    "aws:cloudwatch/metricAlarm:MetricAlarm":
        "arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}",
    "aws:glue/workflow:Workflow": "arn:{partition}:glue:{region}:{account}:workflow/{name}",
    "aws:glue/job:Job": "arn:{partition}:glue:{region}:{account}:job/{name}",
    "aws:glue/crawler:Crawler": "arn:{partition}:glue:{region}:{account}:crawler/{name}",
    "aws:glue/catalogDatabase:CatalogDatabase":
        "arn:{partition}:glue:{region}:{account}:database/{name}",
    "aws:scheduler/schedule:Schedule":
        "arn:{partition}:scheduler:{region}:{account}:schedule/default/{name}",
}


class RecordingMocks(Mocks):
    """Keeps every resource the program registers; answers the account/region look-ups."""

    def __init__(self, partition: str = "aws") -> None:
        super().__init__()
        self.resources: List[MockResourceArgs] = []
        self.partition = partition

    def new_resource(self, args: MockResourceArgs):
        self.resources.append(args)
        outputs: Dict[str, Any] = dict(args.inputs)
        name = args.inputs.get("name") or f"{args.name}-physical"
        outputs["name"] = name
        if args.typ == "aws:s3/bucket:Bucket":
            bucket = args.inputs.get("bucket") or f"{args.name}-bucket"
            outputs.update(bucket=bucket, arn=f"arn:{self.partition}:s3:::{bucket}")
        elif args.typ == "aws:iam/accessKey:AccessKey":
            outputs["secret"] = "mock-secret-not-a-key"
        elif args.typ in ARNS:
            outputs["arn"] = ARNS[args.typ].format(
                name=name, account=ACCOUNT, region=REGION, partition=self.partition)
        return f"{args.name}-id", outputs

    def call(self, args: MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:{self.partition}:iam::{ACCOUNT}:user/ci",
                    "userId": "AIDACI", "id": ACCOUNT}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": REGION, "region": REGION, "id": REGION,
                    "description": "US East (N. Virginia)",
                    "endpoint": f"ec2.{REGION}.amazonaws.com"}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": self.partition, "id": self.partition,
                    "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"}
        raise NotImplementedError(f"no mock for invoke {args.token}")


@dataclass
class Program:
    """What one run of __main__.py registered and exported."""

    resources: List[MockResourceArgs]
    exports: Dict[str, Any]
    secret_exports: Set[str] = field(default_factory=set)
    account: str = ACCOUNT
    region: str = REGION

    def of_type(self, typ: str) -> List[MockResourceArgs]:
        return [r for r in self.resources if r.typ == typ]

    def named(self, logical_name: str) -> MockResourceArgs:
        found = [r for r in self.resources if r.name == logical_name]
        assert len(found) == 1, f"{logical_name}: {len(found)} resources"
        return found[0]

    def policies(self) -> Dict[str, dict]:
        """Every IAM/resource policy document the program creates, by logical name."""
        keys = {
            "aws:iam/rolePolicy:RolePolicy": "policy",
            "aws:iam/userPolicy:UserPolicy": "policy",
            "aws:s3/bucketPolicy:BucketPolicy": "policy",
            "aws:sns/topicPolicy:TopicPolicy": "policy",
            "aws:iam/role:Role": "assumeRolePolicy",
        }
        out = {}
        for r in self.resources:
            if r.typ in keys:
                out[f"{r.name}:{keys[r.typ]}"] = json.loads(r.inputs[keys[r.typ]])
        return out


def run_program(
    config: Optional[Dict[str, Any]] = None, partition: str = "aws", stack: str = STACK
) -> Program:
    """Run __main__.py once with `config` (keys without the project prefix) in `stack`, with
    the provider answering `partition` (aws-us-gov, aws-cn... for the other partitions)."""
    mocks = RecordingMocks(partition)
    pulumi.runtime.set_mocks(mocks, project="stockpipe", stack=stack, preview=False)
    pulumi.runtime.set_all_config(
        {f"stockpipe:{k}": v if isinstance(v, str) else json.dumps(v)
         for k, v in (config or {}).items()}
    )
    exported: Dict[str, Any] = {}
    resolved: Dict[str, Any] = {}

    @pulumi.runtime.test
    def program():
        with mock.patch.object(pulumi, "export", lambda k, v: exported.__setitem__(k, v)):
            runpy.run_path(str(MAIN), run_name="__main__")
        async def resolve() -> None:
            for key, value in exported.items():
                out = pulumi.Output.from_input(value)
                resolved[key] = await out.future()
                if await out.is_secret():
                    secret.add(key)

        return resolve()

    secret: Set[str] = set()
    program()
    return Program(resources=list(mocks.resources), exports=resolved, secret_exports=secret)


@pytest.fixture(scope="module")
def program() -> Program:
    """The default stack (no config set: every key at its default)."""
    return run_program()


@pytest.fixture
def run() -> Callable[..., Program]:
    return run_program


@pytest.fixture
def build_component() -> Callable[[Callable[[], Any]], RecordingMocks]:
    """Run `make()` (which constructs components) under fresh mocks; return what it registered."""

    def _build(make: Callable[[], Any]) -> RecordingMocks:
        mocks = RecordingMocks()
        pulumi.runtime.set_mocks(mocks, project="stockpipe", stack=STACK, preview=False)
        pulumi.runtime.test(make)()
        return mocks

    return _build


@pytest.fixture(scope="module")
def full_program() -> Program:
    """The stack with every optional identity turned on (Grafana user and access key, e-mail)."""
    return run_program({"grafanaExternalUser": True, "alarmEmail": "ops@example.com"})
