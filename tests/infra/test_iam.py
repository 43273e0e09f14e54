"""Least privilege, checked on every policy document the program generates."""

from __future__ import annotations

import json
import re

import parliament
import pytest

from components.iam import STAR_RESOURCE_ACTIONS, statement

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
# A whole service's resources, e.g. arn:aws:s3:::* or arn:aws:glue:us-east-1:123:*
SERVICE_WIDE = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[^:]*:[^:]*:\*$|^arn:aws:s3:::\*$")
# Trust policies name a Principal and no Resource; parliament lints identity and resource
# policies, and reports every trust policy as MALFORMED for lacking a Resource. They are
# checked separately below (one service principal each).
PARLIAMENT_SKIPS = ("assumeRolePolicy",)
SEVERITY_RANK = {"LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}


@pytest.fixture
def full(full_program):
    return full_program


def _allow_statements(program):
    for name, doc in program.policies().items():
        if name.endswith(":assumeRolePolicy"):
            continue
        for stmt in doc["Statement"]:
            if stmt["Effect"] == "Allow":
                yield name, stmt


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_no_statement_allows_wildcard_actions_or_star_resources_beyond_the_allow_list(full):
    checked = 0
    for name, stmt in _allow_statements(full):
        actions = _as_list(stmt["Action"])
        for action in actions:
            assert "*" not in action, f"{name} allows wildcard action {action}"
        for resource in _as_list(stmt["Resource"]):
            assert not SERVICE_WIDE.match(resource), f"{name} allows service-wide {resource}"
            if resource == "*":
                unjustified = set(actions) - set(STAR_RESOURCE_ACTIONS)
                assert not unjustified, f"{name} grants {unjustified} on '*'"
        checked += 1
    assert checked > 20  # the walk really saw the program's policies


def test_star_allow_list_gives_a_reason_for_each_action():
    assert all(len(reason) > 10 for reason in STAR_RESOURCE_ACTIONS.values())
    assert all(a.startswith("athena:List") for a in STAR_RESOURCE_ACTIONS)


def test_statement_helper_refuses_wildcard_actions():
    with pytest.raises(ValueError, match=r"s3:Get\*"):
        statement(["s3:Get*"], "arn:aws:s3:::b")


def _grafana_policies(program):
    docs = {}
    for name, doc in program.policies().items():
        if "grafana" in name and not name.endswith(":assumeRolePolicy"):
            docs[name] = doc
    return docs


WRITE_DATA = re.compile(r"^s3:(Put|Delete|Restore|Replicate)|^s3:AbortMultipartUpload$")
CATALOG_CHANGE = re.compile(r"^glue:(Create|Update|Delete|Batch(Create|Update|Delete))")
ATHENA_ADMIN = re.compile(r"^athena:(Delete|Create|Update|Tag|Untag)")


def test_grafana_identities_cannot_change_data_catalog_or_workgroup(full):
    docs = _grafana_policies(full)
    assert set(docs) == {"analytics-grafana-role-policy:policy",
                         "analytics-grafana-user-policy:policy"}
    results_prefix = f"arn:aws:s3:::{full.exports['results_bucket']}/athena/*"
    role_doc, user_doc = docs.values()
    assert role_doc == user_doc  # the external user gets exactly the role's policy
    for stmt in role_doc["Statement"]:
        for action in stmt["Action"]:
            assert not CATALOG_CHANGE.match(action), action
            assert not ATHENA_ADMIN.match(action), action
            if WRITE_DATA.match(action):
                assert stmt["Resource"] == [results_prefix], (action, stmt["Resource"])


def test_grafana_reads_only_curated_and_archive_data(full):
    doc = full.policies()["analytics-grafana-role-policy:policy"]
    read = next(s for s in doc["Statement"] if s.get("Sid") == "ReadData")
    assert read["Action"] == ["s3:GetObject"]
    assert read["Resource"] == [f"arn:aws:s3:::{full.exports['curated_bucket']}/*",
                                f"arn:aws:s3:::{full.exports['archive_bucket']}/*"]


def test_grafana_queries_only_in_the_stack_workgroup(full):
    doc = full.policies()["analytics-grafana-role-policy:policy"]
    query = next(s for s in doc["Statement"] if "athena:StartQueryExecution" in s["Action"])
    assert query["Resource"] == [
        f"arn:aws:athena:{full.region}:{full.account}:workgroup/{full.exports['athena_workgroup']}"
    ]


def test_grafana_secret_key_is_exported_only_as_a_secret(full, program):
    assert {"grafana_access_key_id", "grafana_secret_access_key"} <= set(full.exports)
    assert "grafana_secret_access_key" in full.secret_exports
    assert "grafana_access_key_id" not in full.secret_exports
    # Off by default: no long-lived key unless asked for by name.
    assert program.of_type("aws:iam/accessKey:AccessKey") == []
    assert "grafana_secret_access_key" not in program.exports


def test_grafana_role_is_assumable_by_the_account_or_the_configured_principal(program, run):
    trust = program.policies()["analytics-grafana-role:assumeRolePolicy"]["Statement"]
    assert trust == [{"Effect": "Allow", "Action": "sts:AssumeRole",
                      "Principal": {"AWS": f"arn:aws:iam::{program.account}:root"}}]
    prog = run({"grafanaPrincipalArn": "arn:aws:iam::999999999999:role/grafana-cloud",
                "grafanaExternalId": "tenant-42"})
    (stmt,) = prog.policies()["analytics-grafana-role:assumeRolePolicy"]["Statement"]
    assert stmt["Principal"] == {"AWS": "arn:aws:iam::999999999999:role/grafana-cloud"}
    assert stmt["Condition"] == {"StringEquals": {"sts:ExternalId": "tenant-42"}}


def test_each_service_role_trusts_exactly_one_service(program):
    services = {}
    for name, doc in program.policies().items():
        if not name.endswith(":assumeRolePolicy") or "grafana" in name:
            continue
        (stmt,) = doc["Statement"]
        services[name.split(":")[0]] = stmt["Principal"]["Service"]
        if stmt["Principal"]["Service"] == "scheduler.amazonaws.com":
            assert stmt["Condition"] == {"StringEquals": {"aws:SourceAccount": program.account}}
    assert services == {
        "ingest-firehose-role": "firehose.amazonaws.com",
        "ingest-lambda-role": "lambda.amazonaws.com",
        "ingest-schedule-role": "scheduler.amazonaws.com",
        "workflow-crawler-role": "glue.amazonaws.com",
        "workflow-job-role": "glue.amazonaws.com",
        "workflow-schedule-role": "scheduler.amazonaws.com",
        "publication-role": "lambda.amazonaws.com",
        "publication-schedule-role": "scheduler.amazonaws.com",
    }


def test_lambda_role_reaches_only_its_secret_stream_rejects_and_logs(program):
    doc = program.policies()["ingest-lambda-role-policy:policy"]
    grants = {s["Sid"]: (s["Action"], s["Resource"]) for s in doc["Statement"]}
    a, r = program.account, program.region
    assert grants == {
        "OwnLogs": (["logs:CreateLogStream", "logs:PutLogEvents"],
                    [f"arn:aws:logs:{r}:{a}:log-group:/aws/lambda/stockpipe-dev-ingest"
                     ":log-stream:*"]),
        "ApiKey": (["secretsmanager:GetSecretValue"], [program.exports["api_key_secret_arn"]]),
        "Deliver": (["firehose:PutRecordBatch"],
                    [f"arn:aws:firehose:{r}:{a}:deliverystream/stockpipe-dev-raw"]),
        "Rejects": (["s3:PutObject"], [f"arn:aws:s3:::{program.exports['raw_bucket']}/rejects/*"]),
        # the split events, written straight to S3 (no second Firehose stream)
        "Splits": (["s3:PutObject"], [f"arn:aws:s3:::{program.exports['raw_bucket']}/splits/*"]),
        # Lambda's on-failure destination for an ingest that failed (no async retry).
        "FailedInvocations": (["sqs:SendMessage"],
                              [f"arn:aws:sqs:{r}:{a}:ingest-failed-invocations-physical"]),
    }


def test_glue_jobs_read_raw_move_to_quarantine_and_run_athena_in_the_pipeline_workgroup(program):
    doc = program.policies()["workflow-job-role-policy:policy"]
    raw = f"arn:aws:s3:::{program.exports['raw_bucket']}"
    object_grants = {}
    for stmt in doc["Statement"]:
        for res in stmt["Resource"]:
            if res.startswith(raw + "/"):
                object_grants.setdefault(res, set()).update(stmt["Action"])
        if any(a.startswith("athena:") for a in stmt["Action"]):
            assert stmt["Resource"] == [
                f"arn:aws:athena:{program.region}:{program.account}:workgroup/stockpipe-dev-etl"]
            assert set(stmt["Action"]) == {
                "athena:StartQueryExecution", "athena:GetQueryExecution",
                "athena:GetQueryResults", "athena:StopQueryExecution"}
    # Transform moves an unreadable raw object (CopyObject = read the source, put the copy;
    # then delete the source): nothing else in the raw bucket is writable, rejects/ included;
    # split events are only read.
    assert object_grants == {
        f"{raw}/raw/*": {"s3:GetObject", "s3:DeleteObject"},
        f"{raw}/splits/*": {"s3:GetObject"},
        f"{raw}/raw-quarantine/*": {"s3:PutObject"},
    }


def test_the_quarantine_prefix_is_where_the_runtime_moves_objects(program):
    from components.ingestion import QUARANTINE_PREFIX, RAW_PREFIX
    from runtime.quarantine import quarantine_uri
    from runtime.settings import Settings

    bucket = program.exports["raw_bucket"]
    settings = Settings(raw_uri_override=f"s3://{bucket}/{RAW_PREFIX}")
    assert quarantine_uri(settings) == f"s3://{bucket}/{QUARANTINE_PREFIX}"


def test_every_generated_policy_passes_parliament_without_findings_above_low(full):
    checked = []
    for name, doc in full.policies().items():
        if name.endswith(PARLIAMENT_SKIPS):
            continue
        serious = _serious(doc)
        assert serious == [], f"{name}: {serious}"
        checked.append(name)
    # Role and user policies, bucket policies and the topic policy were all linted.
    assert sum(n.endswith("-policy:policy") for n in checked) >= 8
    assert sum("tls-only" in n for n in checked) == 5


def _serious(doc) -> list:
    findings = parliament.analyze_policy_string(json.dumps(doc)).findings
    return [f.issue for f in findings
            if SEVERITY_RANK.get(parliament.config.get(f.issue, {}).get("severity", "HIGH"), 4) > 1]


def test_parliament_check_would_catch_an_object_action_on_a_bucket_arn():
    # The same filter as above, on a policy that is wrong the way a typo would make it.
    bad = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::bucket"]}]}
    assert _serious(bad) == ["RESOURCE_MISMATCH"]


def test_glue_jobs_write_query_results_only_under_their_workgroups_prefix(program):
    doc = program.policies()["workflow-job-role-policy:policy"]
    results = f"arn:aws:s3:::{program.exports['results_bucket']}"
    object_grants = [res for stmt in doc["Statement"] for res in stmt["Resource"]
                     if res.startswith(results + "/")]
    assert object_grants == [f"{results}/etl/*"]


# The minimal policy in grafana/athena-datasource docs/sources/configure.md ("IAM policies").
GRAFANA_PLUGIN_ATHENA_ACTIONS = {
    "athena:ListDatabases", "athena:ListDataCatalogs", "athena:ListWorkGroups",
    "athena:GetDatabase", "athena:GetDataCatalog", "athena:GetQueryExecution",
    "athena:GetQueryResults", "athena:GetTableMetadata", "athena:GetWorkGroup",
    "athena:ListTableMetadata", "athena:StartQueryExecution", "athena:StopQueryExecution",
}


def test_grafana_gets_exactly_the_plugins_documented_athena_actions(full):
    doc = full.policies()["analytics-grafana-role-policy:policy"]
    athena = {a for s in doc["Statement"] for a in s["Action"] if a.startswith("athena:")}
    assert athena == GRAFANA_PLUGIN_ATHENA_ACTIONS
    # Only the two account-wide list calls are granted on "*".
    star = [s for s in doc["Statement"] if s["Resource"] == ["*"]]
    assert [s["Action"] for s in star] == [["athena:ListDataCatalogs", "athena:ListWorkGroups"]]


def test_glue_jobs_may_copy_curated_files_into_the_archive(program):
    # Publish copies the sans-dup table's files with S3 CopyObject, which needs s3:GetObject on
    # the source object and s3:PutObject on the target; and it lists both to check the copy.
    doc = program.policies()["workflow-job-role-policy:policy"]

    def allowed(action, resource):
        return any(action in stmt["Action"] and resource in stmt["Resource"]
                   for stmt in doc["Statement"] if stmt.get("Effect", "Allow") == "Allow")

    curated = f"arn:aws:s3:::{program.exports['curated_bucket']}"
    archive = f"arn:aws:s3:::{program.exports['archive_bucket']}"
    assert allowed("s3:GetObject", f"{curated}/*")
    assert allowed("s3:PutObject", f"{archive}/*")
    assert allowed("s3:DeleteObject", f"{archive}/*")  # a failed copy is removed
    assert allowed("s3:ListBucket", curated) and allowed("s3:ListBucket", archive)
