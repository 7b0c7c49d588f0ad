"""The GenAI Demo's accepted policy findings (`infra check`), each with the reason it is accepted.

Kept in one place so a reviewer reads every exception at once. A waiver that depends on a profile
setting is declared only while that setting is the one that fails the rule (dev's single nodes,
no deletion protection...), so production gets no waiver it does not need. Findings that should be
fixed rather than accepted (the app security group's open egress, the service trusts and topic
policies that cannot name the account yet) are deliberately not waived here.
"""

from __future__ import annotations

from typing import Any

from orchestrator.model import Plan

DEV_DATA = "dev holds no real data and is destroyed and re-created freely"


def pod_network_entries(plan: Plan) -> list[str]:
    """The private tier's all-protocol rows to and from its own subnets (network.py rule 100, one per AZ)."""
    return [f"main.{name}" for name, r in plan.stacks["main"].resources.items()
            if name.startswith(("nacl_private_ingress_10", "nacl_private_egress_10"))
            and str(r.properties.get("Protocol")) == "-1" and r.properties.get("RuleAction") == "allow"]


def declare(plan: Plan, p: dict[str, Any]) -> None:
    main, obs = plan.stacks["main"], plan.stacks["observability"]
    plan.waive("ssm.secure-string", "the parameters publish endpoints and names for the app to discover "
               "(config.py), never secrets: those live in Secrets Manager")
    main.waive("ec2.sg-no-http-from-anywhere", "the ALB listens on 80 only to redirect to 443 (edge.py)",
               "main.alb_sg_ingress_80_anywhere")
    main.waive("s3.encryption-cmk", "ELB's access-log delivery writes only to SSE-S3 buckets (Elastic Load "
               "Balancing user guide, enable-access-logging: bucket requirements)", "main.alb_logs")
    main.waive("elbv2.target-group-https", "TLS ends at the ALB's TLS 1.3 listener; the pods serve plain HTTP on "
               "8080 in the private subnets, reached only from the ALB's security group (network.py): HTTPS to "
               "them would need a certificate in every pod", "main.tg_backend")
    main.waive("elbv2.internal", "the ALB is the platform's one public entry point, behind the WAF", "main.alb")
    main.waive("ec2.nacl-ingress-names-ports", "inside the private tier pods and nodes talk every protocol "
               "(VPC CNI, DNS over UDP, kubelet); the security groups scope it, the NACL only keeps tiers apart",
               *pod_network_entries(plan))
    main.waive("rds.not-default-port", "only the app security group reaches 5432 in an isolated subnet tier; "
               "a moved port hides nothing from a client that can already connect", "main.db")
    plan.stacks["analytics"].waive(
        "glue.catalog-encryption", "the Data Catalog's encryption is one setting per account and region, shared "
        "by every env in the account (dev and production live in one): it belongs to the account baseline, "
        "not to one env's plan, whose destroy would turn it off for the others")
    obs.waive("lambda.in-vpc", "the function only reads the CloudWatch API and reaches no data store; inside "
              "the VPC it would need a NAT path or endpoints for that API alone", "observability.custom_metrics")

    main.waive("s3.access-logging", "it is the log bucket the others' server access logs go to: logging it into "
               "itself would log each log delivery, without end (S3 user guide, server access logging)",
               "main.alb_logs")
    main.waive("s3.replication", "the demo runs in one region (ap-east-2), with no second region to hold a copy; "
               "versioning keeps what a delete or overwrite removed, and RDS keeps its own snapshots")
    main.waive("s3.object-lock", "the demo's buckets go with their env (infra destroy empties them): COMPLIANCE "
               "retention would keep every version past the teardown, and GOVERNANCE yields to whoever may bypass "
               "it, the deploying role included; S3 cannot turn Object Lock off again. Versioning keeps what a "
               "delete or overwrite removed")
    main.waive("s3.event-notifications", "the bucket receives only ELB's and S3's log deliveries: an event "
               "per delivered log file says nothing the logs themselves do not", "main.alb_logs")
    main.waive("s3.mfa-delete", "only the root user with its MFA device can turn MFA delete on (PutBucketVersioning "
               "with the x-amz-mfa header; S3 user guide, MultiFactorAuthenticationDelete): no role, the deploying "
               "one included, can, and once on, infra destroy could no longer delete a version. COMPLIANCE Object "
               "Lock, the role-settable equivalent, is waived under s3.object-lock")
    main.waive("secretsmanager.rotation", "automatic rotation needs what the plan does not have yet: for the app "
               "login, AWS's PostgreSQL multi-user rotation function in the database subnets with a path to "
               "Secrets Manager; for Redis, AWS rotates RBAC user passwords, not the AUTH token (ElastiCache user "
               "guide, auth: AUTH is superseded by RBAC), so the app would move to an RBAC user first. "
               "secretsmanager.RotationSchedule takes either function; the RDS master password is RDS-managed "
               "and rotates every 7 days",
               "main.redis_auth_secret", "main.app_db_secret")
    obs.waive("sns.delivery-status-logging", "the alert topics deliver to email and SMS only: SNS logs delivery "
              "status per topic for HTTP(S), SQS, Lambda, Firehose and mobile push, never email, and SMS "
              "delivery logs are an account-wide setting (SetSMSAttributes), outside one env's plan")
    obs.waive("lambda.code-signing", "the tool zips the function from this repository and uploads it itself; "
              "its digest (CodeSha256) is a planned property, so other code shows as drift. Signing needs an AWS "
              "Signer profile and a signing step in a build pipeline, which the demo does not have",
              "observability.custom_metrics")

    o, e, rds, redis = p["observability"], p["edge"], p["rds"], p["redis"]
    if o["log_retention_days"] < 365:
        plan.waive("logs.retention", f"{DEV_DATA}: its logs are kept {o['log_retention_days']} days")
    if o["opensearch"]["instance_count"] < 3:
        obs.waive("opensearch.data-nodes", f"{DEV_DATA}: one search node", "observability.opensearch")
    if not o["opensearch"]["master_count"]:
        obs.waive("opensearch.dedicated-masters", f"{DEV_DATA}: no dedicated masters", "observability.opensearch")
    if e["waf_managed_override"] != "None":
        main.waive("wafv2.known-bad-inputs-enforced", "dev counts managed-rule matches while the rules are "
                   "tuned; production blocks them", "main.web_acl")
    if not e["alb_deletion_protection"]:
        main.waive("elbv2.deletion-protection", DEV_DATA, "main.alb")
    if not rds["deletion_protection"]:
        main.waive("rds.deletion-protection", DEV_DATA, "main.db")
    if rds["backup_retention_days"] < 7:
        main.waive("rds.backups", f"{DEV_DATA}: one day of backups", "main.db")
    if "ec2" not in p["network"]["interface_endpoints"]:
        main.waive("ec2.vpc-endpoint-ec2", f"{DEV_DATA}: its few EC2 API calls (the VPC CNI's) take the NAT "
                   "rather than an interface endpoint billed in every AZ", "main.vpc")
    if not rds["multi_az"]:
        main.waive("rds.multi-az", f"{DEV_DATA}: one database instance", "main.db")
    if not rds["performance_insights"]:
        main.waive("rds.performance-insights", f"{DEV_DATA}: no Performance Insights", "main.db")
    if not redis["cluster_mode"] and redis["num_cache_clusters"] < 2:
        main.waive("elasticache.failover", f"{DEV_DATA}: one cache node, no replica", "main.redis")
