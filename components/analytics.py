"""Athena workgroups and the least-privilege identity Grafana's Athena data source uses.

The readers' workgroup (Grafana, notebooks) enforces its encrypted result location and a
bytes-scanned cutoff; the pipeline's workgroup (`<prefix>-etl`) has the same cutoff and engine but
lets its CTAS statements name their table location, which an enforced workgroup refuses. Grafana
gets a role, and optionally an IAM user with an access key for a Grafana running outside AWS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import pulumi
import pulumi_aws as aws

from runtime.errors import IdentifierError, validate_identifier

from . import iam
from .ingestion import validate_name_prefix

ENGINE_VERSION = "Athena engine version 3"
RESULTS_PREFIX = "athena/"
# The pipeline's own workgroup writes its query results apart from the readers', so Grafana's
# grant on RESULTS_PREFIX never covers the ETL's results.
ETL_RESULTS_PREFIX = "etl/"
MIN_BYTES_SCANNED_CUTOFF = 10_000_000  # Athena's documented minimum
# Grafana's Athena actions by resource type: together exactly the plugin's documented minimum.
GRAFANA_WORKGROUP_ACTIONS = (
    "athena:GetWorkGroup", "athena:StartQueryExecution", "athena:StopQueryExecution",
    "athena:GetQueryExecution", "athena:GetQueryResults",
)
GRAFANA_CATALOG_ACTIONS = (
    "athena:GetDataCatalog", "athena:ListDatabases", "athena:GetDatabase",
    "athena:ListTableMetadata", "athena:GetTableMetadata",
)
GRAFANA_LIST_ACTIONS = ("athena:ListDataCatalogs", "athena:ListWorkGroups")


@dataclass
class AnalyticsArgs:
    name_prefix: str
    results_bucket_name: pulumi.Input[str]
    results_bucket_arn: pulumi.Input[str]
    data_bucket_arns: List[pulumi.Input[str]]
    """Buckets Grafana may read (curated and archive: the tables and production copies)."""
    database: str
    bytes_scanned_cutoff: int = 1_000_000_000
    grafana_principal_arn: Optional[str] = None
    """Who may assume the Grafana role; default this account's root (i.e. IAM decides)."""
    grafana_external_id: Optional[str] = None
    grafana_external_user: bool = False
    force_destroy: bool = False


def _validate(args: AnalyticsArgs) -> None:
    validate_name_prefix(args.name_prefix)
    try:
        validate_identifier(args.database, "AnalyticsArgs.database")
    except IdentifierError as exc:
        raise ValueError(str(exc)) from None
    cutoff = args.bytes_scanned_cutoff
    if not isinstance(cutoff, int) or isinstance(cutoff, bool) or cutoff < MIN_BYTES_SCANNED_CUTOFF:
        raise ValueError(
            f"AnalyticsArgs.bytes_scanned_cutoff must be a whole number >= "
            f"{MIN_BYTES_SCANNED_CUTOFF} (Athena's minimum), got {cutoff!r}"
        )
    if not args.data_bucket_arns:
        raise ValueError("AnalyticsArgs.data_bucket_arns is empty; Grafana would read nothing")
    p = args.grafana_principal_arn
    if p is not None and not (isinstance(p, str) and p.startswith("arn:") and ":iam::" in p):
        raise ValueError(f"AnalyticsArgs.grafana_principal_arn must be an IAM ARN, got {p!r}")


class Analytics(pulumi.ComponentResource):
    """Readers' workgroup (enforced) + the pipeline's workgroup + Grafana reader role."""

    workgroup_name: pulumi.Output[str]
    workgroup_arn: pulumi.Output[str]
    etl_workgroup_name: pulumi.Output[str]
    etl_workgroup_arn: pulumi.Output[str]
    grafana_role_arn: pulumi.Output[str]
    grafana_access_key_id: Optional[pulumi.Output[str]]
    grafana_secret_access_key: Optional[pulumi.Output[str]]

    def __init__(
        self, name: str, args: AnalyticsArgs, opts: Optional[pulumi.ResourceOptions] = None
    ):
        super().__init__("stockpipe:analytics:Analytics", name, None, opts)
        _validate(args)
        self._args = args
        ctx = iam.aws_context(self)
        child = pulumi.ResourceOptions(parent=self)

        # Readers (Grafana, notebooks): clients cannot override the result location,
        # encryption or cutoff.
        workgroup = self._workgroup(f"{name}-workgroup", args.name_prefix, None, True,
                                    RESULTS_PREFIX, child)
        # The Glue jobs' CTAS statements name their table's external_location, and Athena fails
        # every such CTAS in a workgroup that enforces its query-result location ("If the
        # workgroup in which a query will run is configured with an enforced query results
        # location, do not specify an external_location for the CTAS query": Athena user guide,
        # "Troubleshoot workgroup errors" and "CTAS considerations"). Without external_location
        # Athena would put the tables under the results bucket, which expires objects. So the
        # pipeline runs in its own workgroup that does not override client-side settings; it
        # still has a default result location, engine version 3 and the same bytes-scanned
        # cutoff (the cutoff applies whether or not the settings are enforced).
        etl_workgroup = self._workgroup(
            f"{name}-etl-workgroup", f"{args.name_prefix}-etl",
            "stockpipe Glue jobs: CTAS/INSERT into the lake (external_location)", False,
            ETL_RESULTS_PREFIX, child,
        )
        policy = self._reader_policy(ctx, workgroup.arn)

        trust: Dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": args.grafana_principal_arn
                          or pulumi.Output.concat("arn:", ctx.partition, ":iam::",
                                                  ctx.account_id, ":root")},
            "Action": "sts:AssumeRole",
        }
        if args.grafana_external_id:
            trust["Condition"] = {"StringEquals": {"sts:ExternalId": args.grafana_external_id}}
        role = aws.iam.Role(
            f"{name}-grafana-role",
            assume_role_policy=iam.policy_json(trust),
            description="Grafana Athena data source: read-only queries on the stockpipe lake",
            max_session_duration=3600,
            opts=child,
        )
        aws.iam.RolePolicy(f"{name}-grafana-role-policy", role=role.id, policy=policy, opts=child)

        self.grafana_access_key_id = None
        self.grafana_secret_access_key = None
        if args.grafana_external_user:
            # Long-lived keys only when asked for by name (a Grafana outside AWS cannot assume roles
            # without some credential); the secret leaves Pulumi only as a secret output.
            user = aws.iam.User(f"{name}-grafana-user", path="/stockpipe/", opts=child)
            aws.iam.UserPolicy(f"{name}-grafana-user-policy", user=user.name, policy=policy,
                               opts=child)
            key = aws.iam.AccessKey(f"{name}-grafana-key", user=user.name, opts=child)
            self.grafana_access_key_id = key.id
            self.grafana_secret_access_key = pulumi.Output.secret(key.secret)

        self.workgroup_name = workgroup.name
        self.workgroup_arn = workgroup.arn
        self.etl_workgroup_name = etl_workgroup.name
        self.etl_workgroup_arn = etl_workgroup.arn
        self.grafana_role_arn = role.arn
        self.register_outputs({
            "workgroup_name": self.workgroup_name,
            "etl_workgroup_name": self.etl_workgroup_name,
            "grafana_role_arn": self.grafana_role_arn,
        })

    def _workgroup(
        self, resource_name: str, wg_name: str, description: Optional[str], enforce: bool,
        results_prefix: str, opts: pulumi.ResourceOptions,
    ) -> aws.athena.Workgroup:
        """An engine-v3 workgroup with the stack's bytes-scanned cutoff and SSE-S3 results."""
        args = self._args
        return aws.athena.Workgroup(
            resource_name,
            name=wg_name,
            description=description,
            state="ENABLED",
            force_destroy=args.force_destroy,
            configuration={
                "enforce_workgroup_configuration": enforce,
                "publish_cloudwatch_metrics_enabled": True,
                "bytes_scanned_cutoff_per_query": args.bytes_scanned_cutoff,
                "engine_version": {"selected_engine_version": ENGINE_VERSION},
                "result_configuration": {
                    "output_location": pulumi.Output.concat(
                        "s3://", args.results_bucket_name, "/", results_prefix),
                    "encryption_configuration": {"encryption_option": "SSE_S3"},
                },
            },
            opts=opts,
        )

    def _reader_policy(self, ctx: iam.AwsContext, workgroup_arn: pulumi.Output[str]):
        a = self._args
        db = a.database
        results_objects = pulumi.Output.concat(a.results_bucket_arn, "/", RESULTS_PREFIX, "*")
        # The Athena actions are exactly those of the minimal policy in the plugin's docs
        # (grafana/athena-datasource docs/sources/configure.md, "IAM policies"), each scoped to
        # its resource type. Not granted: ListQueryExecutions/BatchGetQueryExecution (reading
        # other users' query history) and the other read-only calls the plugin does not make.
        return iam.policy_json(
            iam.statement(
                list(GRAFANA_WORKGROUP_ACTIONS), workgroup_arn, sid="QueryInWorkgroup",
            ),
            iam.statement(
                list(GRAFANA_CATALOG_ACTIONS),
                ctx.arn("athena", "datacatalog/AwsDataCatalog"), sid="BrowseCatalog",
            ),
            # These list calls have no resource-level permissions (see iam.STAR_RESOURCE_ACTIONS).
            iam.statement(list(GRAFANA_LIST_ACTIONS), "*", sid="ListAthena"),
            iam.statement(
                ["glue:GetDatabase", "glue:GetTable", "glue:GetTables",
                 "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"],
                [ctx.arn("glue", "catalog"), ctx.arn("glue", f"database/{db}"),
                 ctx.arn("glue", f"table/{db}/*")],
                sid="ReadCatalog",
            ),
            # The data source's database dropdown (Athena ListDatabases) runs Glue GetDatabases
            # over the whole catalog, which IAM authorizes against every database it returns:
            # database names and descriptions only, no table or data access.
            iam.statement(["glue:GetDatabases"],
                          [ctx.arn("glue", "catalog"), ctx.arn("glue", "database/*")],
                          sid="ListDatabases"),
            iam.statement(["s3:GetBucketLocation", "s3:ListBucket"], list(a.data_bucket_arns),
                          sid="ListData"),
            iam.statement(["s3:GetObject"],
                          [pulumi.Output.concat(arn, "/*") for arn in a.data_bucket_arns],
                          sid="ReadData"),
            iam.statement(["s3:GetBucketLocation"], a.results_bucket_arn, sid="LocateResults"),
            # A ListBucket request carries s3:prefix (GetBucketLocation does not, so it is apart).
            iam.statement(["s3:ListBucket"], a.results_bucket_arn, sid="ListResults",
                          condition={"StringLike": {"s3:prefix": [f"{RESULTS_PREFIX}*"]}}),
            iam.statement(["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload",
                           "s3:ListMultipartUploadParts"],
                          results_objects, sid="QueryResults"),
        )
