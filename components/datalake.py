"""The lake's S3 buckets: raw, curated, archive, Athena results and artifacts, each private,
encrypted, TLS-only, with lifecycle rules that keep storage from growing without bound."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

import pulumi
import pulumi_aws as aws

from . import iam

BUCKET_ROLES = ("raw", "curated", "archive", "results", "artifacts")
# Raw keeps old versions (Firehose never overwrites, but a mistaken delete should be undoable);
# archive holds the published production copies, the one thing a user must never lose.
VERSIONED = ("raw", "archive")
SSE_ALGORITHMS = ("AES256", "aws:kms")


@dataclass
class DataLakeArgs:
    query_results_retention_days: int = 30
    archive_noncurrent_retention_days: int = 90
    raw_noncurrent_retention_days: int = 30
    sse_algorithm: str = "AES256"
    kms_key_arn: Optional[str] = None
    # Secure by default: deleting the stack must not delete data unless asked for by name.
    force_destroy: bool = False


def _check_days(field_name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 36500:
        raise ValueError(f"DataLakeArgs.{field_name} must be whole days in 1..36500, got {value!r}")


class DataLake(pulumi.ComponentResource):
    """Five private buckets; `names`/`arns` are keyed by role (raw, curated, ...)."""

    buckets: Dict[str, aws.s3.Bucket]
    names: Dict[str, pulumi.Output[str]]
    arns: Dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: Optional[DataLakeArgs] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__("stockpipe:datalake:DataLake", name, None, opts)
        args = args or DataLakeArgs()
        for f in ("query_results_retention_days", "archive_noncurrent_retention_days",
                  "raw_noncurrent_retention_days"):
            _check_days(f, getattr(args, f))
        if args.sse_algorithm not in SSE_ALGORITHMS:
            raise ValueError(
                f"DataLakeArgs.sse_algorithm must be one of {SSE_ALGORITHMS}, "
                f"got {args.sse_algorithm!r}"
            )
        if args.kms_key_arn and args.sse_algorithm != "aws:kms":
            raise ValueError("DataLakeArgs.kms_key_arn is only used with sse_algorithm 'aws:kms'")
        self._args = args
        self._name = name

        self.buckets = {role: self._bucket(role) for role in BUCKET_ROLES}
        self.names = {role: b.bucket for role, b in self.buckets.items()}
        self.arns = {role: b.arn for role, b in self.buckets.items()}
        self.register_outputs({f"{role}_bucket": n for role, n in self.names.items()})

    # ---- one bucket ------------------------------------------------------------------------
    def _bucket(self, role: str) -> aws.s3.Bucket:
        args, name = self._args, f"{self._name}-{role}"
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(name, force_destroy=args.force_destroy, opts=child)
        on_bucket = pulumi.ResourceOptions(parent=self, depends_on=[bucket])
        # ACLs off: only IAM and the bucket policy decide access.
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"}, opts=on_bucket,
        )
        block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block", bucket=bucket.id,
            block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=on_bucket,
        )
        default: Dict[str, object] = {"sse_algorithm": args.sse_algorithm}
        if args.kms_key_arn:
            default["kms_master_key_id"] = args.kms_key_arn
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=bucket.id,
            rules=[{
                "apply_server_side_encryption_by_default": default,
                # Bucket keys cut KMS request costs; harmless with AES256.
                "bucket_key_enabled": args.sse_algorithm == "aws:kms",
            }],
            opts=on_bucket,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only", bucket=bucket.id, policy=self._tls_only(bucket),
            # S3 rejects a policy while the public access block is being applied.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[block]),
        )
        depends: List[pulumi.Resource] = [bucket]
        if role in VERSIONED:
            depends.append(aws.s3.BucketVersioning(
                f"{name}-versioning", bucket=bucket.id,
                versioning_configuration={"status": "Enabled"}, opts=on_bucket,
            ))
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle", bucket=bucket.id, rules=self._lifecycle(role),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        return bucket

    @staticmethod
    def _tls_only(bucket: aws.s3.Bucket) -> pulumi.Output[str]:
        return iam.policy_json({
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        })

    def _lifecycle(self, role: str) -> List[Dict[str, object]]:
        args = self._args
        # Failed multipart uploads (an interrupted CTAS, a Firehose retry) are invisible but billed.
        rule: Dict[str, object] = {
            "id": f"{role}-housekeeping",
            "status": "Enabled",
            "filter": {},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
        }
        if role == "results":
            rule["expiration"] = {"days": args.query_results_retention_days}
        elif role in VERSIONED:
            days = (args.archive_noncurrent_retention_days if role == "archive"
                    else args.raw_noncurrent_retention_days)
            # A delete in a versioned bucket leaves a delete marker and a noncurrent version:
            # expire the version after `days`, then the marker once it is the only thing left
            # (S3's "expired object delete marker"; it cannot share an Expiration with Days).
            rule["noncurrent_version_expiration"] = {"noncurrent_days": days}
            rule["expiration"] = {"expired_object_delete_marker": True}
        return [rule]
