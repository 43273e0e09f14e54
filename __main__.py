"""Pulumi program: read the stack config, compose the stockpipe components, export what a user
needs. Everything else lives in components/."""

import pulumi
import pulumi_aws as aws

from components.analytics import Analytics, AnalyticsArgs
from components.datalake import DataLake, DataLakeArgs
from components.ingestion import Ingestion, IngestionArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.packaging import Artifacts, ArtifactsArgs
from components.stack_config import load_stack_config, name_prefix
from components.watchdog import PublicationWatch, PublicationWatchArgs
from components.workflow import GlueWorkflow, GlueWorkflowArgs

# Named resources carry the stack (prefix, database), so stacks coexist in one account/region.
cfg = load_stack_config(pulumi.Config().get, pulumi.get_stack())
prefix = name_prefix(pulumi.get_stack())

lake = DataLake("lake", DataLakeArgs(
    query_results_retention_days=cfg.query_results_retention_days,
    archive_noncurrent_retention_days=cfg.archive_retention_days,
    force_destroy=cfg.force_destroy,
))
artifacts = Artifacts("artifacts", ArtifactsArgs(bucket=lake.names["artifacts"]))

ingestion = Ingestion("ingest", IngestionArgs(
    name_prefix=prefix,
    raw_bucket_name=lake.names["raw"],
    raw_bucket_arn=lake.arns["raw"],
    lambda_archive=artifacts.lambda_archive,
    lambda_code_hash=artifacts.lambda_code_hash,
    settings=cfg.settings,
    lambda_timeout=cfg.lambda_timeout,
    schedule=cfg.ingest_schedule,
    timezone=cfg.schedule_timezone,
    log_retention_days=cfg.log_retention_days,
    secret_recovery_window_days=cfg.secret_recovery_window_days,
))

analytics = Analytics("analytics", AnalyticsArgs(
    name_prefix=prefix,
    results_bucket_name=lake.names["results"],
    results_bucket_arn=lake.arns["results"],
    data_bucket_arns=[lake.arns["curated"], lake.arns["archive"]],
    database=cfg.settings.database,
    bytes_scanned_cutoff=cfg.athena_bytes_scanned_cutoff,
    grafana_principal_arn=cfg.grafana_principal_arn,
    grafana_external_id=cfg.grafana_external_id,
    grafana_external_user=cfg.grafana_external_user,
    force_destroy=cfg.force_destroy,
))

workflow = GlueWorkflow("workflow", GlueWorkflowArgs(
    name_prefix=prefix,
    buckets=lake.names,
    bucket_arns=lake.arns,
    # The jobs' CTAS name an external_location, which an enforced workgroup refuses.
    workgroup_name=analytics.etl_workgroup_name,
    workgroup_arn=analytics.etl_workgroup_arn,
    glue_script_uri=artifacts.glue_script_uri,
    glue_wheel_uri=artifacts.glue_wheel_uri,
    additional_python_modules=artifacts.glue_additional_modules,
    settings=cfg.settings,
    schedule=cfg.workflow_schedule,
    timezone=cfg.schedule_timezone,
))

watch = PublicationWatch("publication", PublicationWatchArgs(
    name_prefix=prefix,
    lambda_archive=artifacts.lambda_archive,
    lambda_code_hash=artifacts.lambda_code_hash,
    database=workflow.database_name,
    table_prefix=cfg.settings.table_prefix,
    deadline=cfg.publish_deadline,
    timezone=cfg.schedule_timezone,
    log_retention_days=cfg.log_retention_days,
))

hour, minute = cfg.publish_deadline
monitoring = Monitoring("monitoring", MonitoringArgs(
    function_name=ingestion.function_name,
    stream_name=ingestion.stream_name,
    job_names=list(workflow.job_names.values()),
    crawler_name=workflow.crawler_name,
    dead_letter_queues={
        "ingest-schedule": ingestion.schedule_dlq_name,
        "ingest-failed": ingestion.failure_queue_name,
        "workflow-schedule": workflow.schedule_dlq_name,
        "publication-check-schedule": watch.schedule_dlq_name,
    },
    publication_check_function=watch.function_name,
    publication_deadline=f"{hour:02d}:{minute:02d} {cfg.schedule_timezone}",
    alarm_email=cfg.alarm_email,
    log_retention_days=cfg.log_retention_days,
    manage_glue_log_groups=cfg.manage_glue_log_groups,
))

for role in ("raw", "curated", "archive", "results", "artifacts"):
    pulumi.export(f"{role}_bucket", lake.names[role])
pulumi.export("firehose_stream", ingestion.stream_name)
pulumi.export("lambda_function", ingestion.function_name)
# One comma-separated ticker list per ingest invocation (`make cloud-smoke` invokes each).
pulumi.export("ingest_batches", [",".join(b) for b in ingestion.plan.batches])
pulumi.export("lambda_timeout", ingestion.plan.timeout)
pulumi.export("table_prefix", cfg.settings.table_prefix)
pulumi.export("region", aws.get_region_output().region)
pulumi.export("glue_workflow", workflow.workflow_name)
pulumi.export("glue_database", workflow.database_name)
pulumi.export("athena_workgroup", analytics.workgroup_name)
pulumi.export("athena_etl_workgroup", analytics.etl_workgroup_name)
pulumi.export("grafana_role_arn", analytics.grafana_role_arn)
pulumi.export("alerts_topic_arn", monitoring.topic_arn)
pulumi.export("api_key_secret_arn", ingestion.secret_arn)
pulumi.export("set_api_key", ingestion.secret_arn.apply(
    lambda arn: "read -rs POLYGON_API_KEY && aws secretsmanager put-secret-value "
                f"--secret-id {arn} --secret-string \"$POLYGON_API_KEY\""))
if analytics.grafana_access_key_id is not None:
    pulumi.export("grafana_access_key_id", analytics.grafana_access_key_id)
    pulumi.export("grafana_secret_access_key", analytics.grafana_secret_access_key)
