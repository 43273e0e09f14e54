"""Every bucket is private, encrypted, TLS-only, and expires what it should."""

from __future__ import annotations

import json

import pytest

from components.datalake import BUCKET_ROLES, DataLake, DataLakeArgs

BUCKET = "aws:s3/bucket:Bucket"


def _by_bucket(program, typ):
    """{bucket logical name: inputs} for the per-bucket child resources of type `typ`."""
    out = {}
    for r in program.of_type(typ):
        bucket_id = r.inputs["bucket"]
        assert bucket_id.endswith("-id"), bucket_id  # wired to the bucket resource's id
        out[bucket_id[: -len("-id")]] = r.inputs
    return out


def test_lake_has_the_five_buckets_and_none_force_destroys(program):
    buckets = {b.name: b.inputs for b in program.of_type(BUCKET)}
    assert set(buckets) == {f"lake-{role}" for role in BUCKET_ROLES}
    assert all(b["forceDestroy"] is False for b in buckets.values())


def test_every_bucket_blocks_all_public_access(program):
    blocks = _by_bucket(program, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert set(blocks) == {b.name for b in program.of_type(BUCKET)}
    for inputs in blocks.values():
        assert (inputs["blockPublicAcls"], inputs["blockPublicPolicy"],
                inputs["ignorePublicAcls"], inputs["restrictPublicBuckets"]) == (
            True, True, True, True)


def test_every_bucket_encrypts_by_default(program):
    sse = _by_bucket(program, "aws:s3/bucketServerSideEncryptionConfiguration:"
                              "BucketServerSideEncryptionConfiguration")
    assert set(sse) == {b.name for b in program.of_type(BUCKET)}
    for inputs in sse.values():
        (rule,) = inputs["rules"]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"


def test_every_bucket_policy_denies_requests_without_tls(program):
    policies = _by_bucket(program, "aws:s3/bucketPolicy:BucketPolicy")
    names = {b.name: b for b in program.of_type(BUCKET)}
    assert set(policies) == set(names)
    for logical, inputs in policies.items():
        bucket = f"{logical}-bucket"  # the mock's physical name
        (stmt,) = json.loads(inputs["policy"])["Statement"]
        assert stmt["Effect"] == "Deny"
        assert stmt["Principal"] == "*"
        assert stmt["Action"] == "s3:*"
        assert stmt["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert stmt["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def test_raw_and_archive_are_versioned_and_others_are_not(program):
    versioning = _by_bucket(program, "aws:s3/bucketVersioning:BucketVersioning")
    assert set(versioning) == {"lake-raw", "lake-archive"}
    assert all(v["versioningConfiguration"] == {"status": "Enabled"}
               for v in versioning.values())


def test_acls_are_disabled_on_every_bucket(program):
    owners = _by_bucket(program, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert len(owners) == len(BUCKET_ROLES)
    assert all(o["rule"] == {"objectOwnership": "BucketOwnerEnforced"} for o in owners.values())


def test_lifecycle_expires_results_and_old_archive_versions(run):
    prog = run({"queryResultsRetentionDays": 7, "archiveRetentionDays": 45})
    rules = {k: v["rules"] for k, v in _by_bucket(
        prog, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").items()}
    (results,) = rules["lake-results"]
    assert results["expiration"] == {"days": 7}
    (archive,) = rules["lake-archive"]
    assert archive["noncurrentVersionExpiration"] == {"noncurrentDays": 45}
    # Current production copies are never expired; only the delete markers left once their
    # noncurrent versions are gone (S3 allows no Days beside ExpiredObjectDeleteMarker).
    assert archive["expiration"] == {"expiredObjectDeleteMarker": True}
    (raw,) = rules["lake-raw"]
    assert raw["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert raw["expiration"] == {"expiredObjectDeleteMarker": True}
    for unversioned in ("lake-curated", "lake-artifacts"):
        assert "expiration" not in rules[unversioned][0]
    for (rule,) in rules.values():
        assert rule["status"] == "Enabled"
        assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}


def test_force_destroy_only_when_asked_for_by_name(run):
    prog = run({"forceDestroy": True})
    assert all(b.inputs["forceDestroy"] is True for b in prog.of_type(BUCKET))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (DataLakeArgs(query_results_retention_days=0), "query_results_retention_days"),
        (DataLakeArgs(archive_noncurrent_retention_days=-3), "archive_noncurrent_retention_days"),
        (DataLakeArgs(sse_algorithm="DES"), "sse_algorithm"),
        (DataLakeArgs(kms_key_arn="arn:aws:kms:us-east-1:1:key/x"), "kms_key_arn"),
    ],
)
def test_invalid_datalake_args_are_refused_naming_the_field(args, message, build_component):
    with pytest.raises(ValueError, match=message):
        build_component(lambda: DataLake("lake", args))
