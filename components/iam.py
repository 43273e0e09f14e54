"""IAM helpers shared by the components: policy JSON, service roles, and ARNs for this account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Union

import pulumi
import pulumi_aws as aws

POLICY_VERSION = "2012-10-17"

# Actions that have no resource-level permissions, so AWS accepts only "*" as their resource.
# Every Allow statement with Resource "*" must use only these; tests/infra enforce it.
STAR_RESOURCE_ACTIONS: Dict[str, str] = {
    "athena:ListWorkGroups": "lists workgroups; Athena has no resource-level control for it",
    "athena:ListDataCatalogs": "lists catalogs; Athena has no resource-level control for it",
}

Resources = Union[pulumi.Input[str], Sequence[pulumi.Input[str]]]


def statement(
    actions: Sequence[str],
    resources: Resources,
    sid: Optional[str] = None,
    condition: Optional[Dict[str, Any]] = None,
    effect: str = "Allow",
) -> Dict[str, Any]:
    """One policy statement; `actions` are explicit (no wildcards), resources may be Outputs."""
    for action in actions:
        if "*" in action:
            raise ValueError(f"IAM action {action!r} has a wildcard; name each action instead")
    out: Dict[str, Any] = {"Effect": effect, "Action": sorted(set(actions))}
    single = isinstance(resources, (str, pulumi.Output))
    out["Resource"] = [resources] if single else list(resources)
    if sid:
        out["Sid"] = sid
    if condition:
        out["Condition"] = condition
    return out


def policy_json(*statements: Dict[str, Any]) -> pulumi.Output[str]:
    """A policy document as a JSON string Output (resolves any Output inside)."""
    return pulumi.Output.json_dumps({"Version": POLICY_VERSION, "Statement": list(statements)})


@dataclass
class AwsContext:
    """Account, region and partition of the deploying provider, for building ARNs."""

    account_id: pulumi.Output[str]
    region: pulumi.Output[str]
    partition: pulumi.Output[str]

    def arn(self, service: str, resource: pulumi.Input[str], regional: bool = True):
        """`arn:<partition>:<service>:<region>:<account>:<resource>` as an Output."""
        region: pulumi.Input[str] = self.region if regional else ""
        return pulumi.Output.concat(
            "arn:", self.partition, ":", service, ":", region, ":", self.account_id, ":", resource
        )

    def s3_arn(self, bucket: pulumi.Input[str], key: str = ""):
        """`arn:<partition>:s3:::<bucket>[/<key>]` (S3 ARNs carry no region or account)."""
        return pulumi.Output.concat("arn:", self.partition, ":s3:::", bucket, key)


def aws_context(parent: pulumi.Resource) -> AwsContext:
    opts = pulumi.InvokeOutputOptions(parent=parent)
    identity = aws.get_caller_identity_output(opts=opts)
    return AwsContext(
        account_id=identity.account_id,
        region=aws.get_region_output(opts=opts).region,
        partition=aws.get_partition_output(opts=opts).partition,
    )


# Where a service documents a condition that ties its role to this account, use it
# (confused-deputy protection); the others (Lambda, Glue) document none for their roles.
_TRUST_CONDITIONS = {
    "scheduler.amazonaws.com": "aws:SourceAccount",
    "firehose.amazonaws.com": "sts:ExternalId",
}


def trust_policy(service: str, account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """Let one AWS service assume the role (on behalf of this account where it can say so)."""
    stmt: Dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if service in _TRUST_CONDITIONS:
        stmt["Condition"] = {"StringEquals": {_TRUST_CONDITIONS[service]: account_id}}
    return policy_json(stmt)


def service_role(
    name: str,
    service: str,
    policy: pulumi.Input[str],
    ctx: AwsContext,
    parent: pulumi.Resource,
    description: str,
) -> aws.iam.Role:
    """A role only `service` can assume, with one inline policy (child `<name>-policy`)."""
    opts = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        name,
        assume_role_policy=trust_policy(service, ctx.account_id),
        description=description,
        opts=opts,
    )
    aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=policy, opts=opts)
    return role
