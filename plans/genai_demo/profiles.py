"""Environment profiles as data: one base of what every env shares, and per env what differs.

One plan reads these; there are no per-env copies of the plan. Sections are
named after the plan modules that read them. An env's profile is the base with
its overrides merged in (nested sections key by key, every other value
replaced), so a value appears once unless the envs really differ, and the
comment saying why sits beside the env's own value.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from core.errors import PlanError

BASE: dict[str, Any] = {
    "region": "ap-east-2",
    "tags": {"Project": "genai-demo", "ManagedBy": "genai-infra"},
    "observability": {
        "flow_log_traffic": "ALL",
        "opensearch": {"engine_version": "OpenSearch_2.11"},
        "custom_metrics_schedule": "rate(5 minutes)",
        # One run every few minutes needs one instance; the reservation also caps it (CKV_AWS_115). An account
        # whose Lambda concurrency quota is still the new-account 10 cannot reserve any: raise the quota first.
        "custom_metrics_reserved_concurrency": 2,
    },
    "eks": {
        # The architecture document names 1.28, out of AWS standard support since Nov 2024; 1.33 is supported.
        "version": "1.33",
        # The API answers inside the VPC only (VPN, bastion or SSM): a public endpoint open to 0.0.0.0/0 is
        # CKV_AWS_38/39, FSBP EKS.1. Turning it on needs public_access_cidrs narrowed to the office/CI ranges.
        "endpoint_public": False,
        "endpoint_private": True,
        "public_access_cidrs": ["0.0.0.0/0"],
        # Managed node groups by key. AL2 AMIs stop at Kubernetes 1.32, so AL2023 replaces the document's AL2.
        "node_groups": {"nodes": {"capacity_type": "ON_DEMAND"}},
        "fargate_namespaces": ["batch"],  # pods in these namespaces run on Fargate
        # IRSA: role key -> the one service account (namespace/name) allowed to assume it.
        "irsa": {"app": {"namespace": "application", "service_account": "genai-demo-backend"}},
    },
    "ecr": {
        "repositories": ["backend", "consumer-frontend", "cmc-frontend"],
        "keep_images": 20,
        "tag_mutability": "IMMUTABLE",
        "scan_on_push": True,
    },
    "security": {
        # AWS services allowed to use the main key on behalf of principals of this account (kms:ViaService);
        # CloudWatch Logs (logs.<region>) is granted separately as a service principal.
        "kms_services": ["rds", "s3", "secretsmanager", "kafka", "eks", "elasticache", "ecr", "ssm", "firehose",
                         "lambda"],
        "redis_auth_length": 32,
        "app_db_username": "genai_app",  # the application's own PostgreSQL login (RDS manages the master)
    },
    "s3": {
        # Inventory section 7: IA after 30 days, Glacier after 90; backups expire 35 days (dev) / 7 years (prod).
        "data_lake": {"ia_days": 30, "glacier_days": 90, "expire_days": None},
        "backups": {"ia_days": 30, "glacier_days": 90},
        "abort_multipart_days": 7,
    },
    "config": {
        "tier": "Standard",
        # Published as /genai-demo/<env>/<key> beside the endpoints the lead passes in.
        "static": {},
    },
    "edge": {
        "domain": "genai-demo.example.com",  # certificate for <env>.<domain> + api./cmc./shop.
        # Where the certificate's DNS validation records are published: an existing public hosted zone's id
        # ("Z..."), or "create" for a zone of <env>.<domain> made by the plan (the parent domain delegates
        # to its name servers: `infra output main` dns_zone_name_servers). None fails `infra validate`.
        "hosted_zone": "create",
        "alb_idle_timeout": 60,
        "waf_rate_limit": 2000,  # requests per 5 minutes per client IP, then Block
    },
    "rds": {
        # Plain RDS for PostgreSQL in both envs (why: resources/rds.py docstring).
        "engine_version": "16",
        "parameter_family": "postgres16",
        "parameters": {"log_min_duration_statement": 1000, "track_activity_query_size": 2048,
                       "shared_preload_libraries": "pg_stat_statements", "rds.force_ssl": 1,
                       "log_statement": "ddl"},  # schema changes leave a trace (CKV2_AWS_30)
        # The logs outlive the instance in CloudWatch; OS metrics each minute (CKV_AWS_129, CKV_AWS_118).
        "log_exports": ["postgresql", "upgrade"],
        "monitoring_interval": 60,
        "master_username": "genai_admin",
        "db_name": "genaidemo",
    },
    # Not kafka.t3.small, even in dev: Firehose reads MSK over multi-VPC private connectivity, which
    # t3.small brokers cannot have (AWS MSK docs, multi-VPC requirements); m7g.large is the smallest that can.
    "msk": {"kafka_version": "3.7.x", "broker_instance_type": "kafka.m7g.large"},
    "redis": {
        "engine_version": "7.1",
        "parameter_family": "redis7",
        "parameters": {"maxmemory-policy": "allkeys-lru", "timeout": 300, "tcp-keepalive": 60},
    },
    "analytics": {
        # Firehose reads the domain-events topic of the main stack's MSK cluster into the data lake bucket.
        "kafka_topic": "domain-events",
        "kafka_topic_partitions": 12,  # the brokers' num.partitions (inventory, MSKConfiguration)
        "firehose_buffer_seconds": 300,
        "crawler_schedule": "cron(0 2 * * ? *)",  # the crawler catalogues new partitions nightly
        # QuickSight has no endpoint in ap-east-2 (https://docs.aws.amazon.com/quicksight/latest/user/regions.html)
        # and is a paid account subscription: off. Switched on in a region QuickSight runs in and a subscribed
        # account, it makes the data sources, data set and dashboard; in an unsubscribed account or a region
        # without it the run stops before any change, naming why (resources/quicksight.py preflight).
        "quicksight": False,
        # QuickSight user/group ARNs granted the data sources, data set and dashboard (none: account admins only).
        "quicksight_principals": [],
    },
    "network": {
        "vpc_cidr": "10.0.0.0/16",
        "dns_hostnames": True,  # EKS nodes and private endpoints need VPC DNS names
        "azs": 3,
        # tier -> (first third octet, prefix length, octet step per AZ)
        "tiers": {"public": (0, 20, 16), "private": (64, 19, 32), "database": (160, 22, 4)},
        # AWS APIs reached through interface endpoints in the private subnets (com.amazonaws.<region>.<name>);
        # each is billed per AZ-hour.
        "interface_endpoints": [],
    },
}

OVERRIDES: dict[str, dict[str, Any]] = {
    "dev": {
        "tags": {"Environment": "dev"},
        "observability": {
            "log_retention_days": 7,  # inventory 7: environment-config.ts logRetentionDays (dev 7, prod 90)
            "flow_log_aggregation_seconds": 600,
            # One address for both topics in dev; (topic, protocol, endpoint).
            "subscriptions": [("critical", "email", "genai-demo-dev-team@example.com"),
                              ("warning", "email", "genai-demo-dev-team@example.com")],
            "alarm_evaluation_periods": 3,  # dev pages only when a problem lasts 15 minutes
            "thresholds": {"alb_5xx": 50, "target_latency_s": 2.0, "node_cpu": 85, "node_memory": 90,
                           "rds_cpu": 90, "rds_free_storage_gib": 2, "rds_connections": 60, "msk_disk": 85,
                           "redis_memory": 90, "redis_evictions": 1000},
            "opensearch": {"instance_type": "t3.small.search", "instance_count": 1, "azs": 1, "volume_gib": 20,
                           "master_type": None, "master_count": 0},
            "firehose_buffer_seconds": 300,
        },
        "eks": {
            "node_groups": {
                "nodes": {"instance_types": ["t3.medium"], "ami_type": "AL2023_x86_64_STANDARD",
                          "min": 1, "desired": 1, "max": 3, "disk_gib": 20},
            },
        },
        "ecr": {
            # Per-env repositories: every env lives in the same account upstream, and one name per env keeps
            # dev and production from colliding. Set "genai-demo" to share genai-demo/<repo> across envs.
            "prefix": "genai-demo/dev",
        },
        "security": {
            "kms_deletion_window_days": 7,  # shortest AWS allows: dev keys go quickly
            "secret_recovery_days": 0,  # 0 = ForceDeleteWithoutRecovery: dev can destroy and re-create at once
        },
        "s3": {
            "data_lake": {"noncurrent_expire_days": 30},
            "backups": {"expire_days": 35, "noncurrent_expire_days": 7},
        },
        "config": {"static": {"app/environment": "dev", "app/log-level": "DEBUG"}},
        "edge": {
            "alb_deletion_protection": False,
            "deregistration_delay": 10,  # seconds a draining pod keeps its connections
            "waf_managed_override": "Count",  # dev only counts managed-rule matches (tuning), production blocks them
        },
        "rds": {
            # dev is one small instance.
            "instance_class": "db.t3.micro",
            "allocated_storage": 20,
            "max_allocated_storage": 100,  # storage autoscaling ceiling (GiB)
            "multi_az": False,
            "replicas": 0,
            "replica_class": "db.t3.micro",
            "backup_retention_days": 1,
            "deletion_protection": False,
            "skip_final_snapshot": True,
            "performance_insights": False,
            "protect": False,  # dev destroys freely
        },
        "msk": {
            "brokers": 2,  # inventory section 7: dev 2 brokers across 2 AZs
            "azs": 2,
            "volume_gib": 20,
            "enhanced_monitoring": "DEFAULT",
            "replication_factor": 2,
            "min_insync_replicas": 1,
            "protect": False,
        },
        "redis": {
            "node_type": "cache.t3.micro",
            "cluster_mode": False,  # one node, no replica, no failover
            "num_cache_clusters": 1,
            "snapshot_retention_days": 1,
            "skip_final_snapshot": True,
            "protect": False,
        },
        "analytics": {
            "firehose_buffer_mib": 5,  # small objects are fine for a trickle of dev events
            "athena_scan_cutoff_gb": 10,  # per query, enforced by the workgroup (inventory section 7)
        },
        "network": {
            "nat_gateways": 1,  # one NAT in the first AZ; every private route uses it
        },
    },
    "production": {
        "tags": {"Environment": "production"},
        "observability": {
            "log_retention_days": 365,  # a year of forensics (CKV_AWS_338, FSBP CloudWatch.16); inventory said 90
            "flow_log_aggregation_seconds": 60,  # finer records for incident forensics
            "subscriptions": [("critical", "email", "genai-demo-oncall@example.com"),
                              ("critical", "email", "genai-demo-sre-lead@example.com"),
                              ("critical", "email", "genai-demo-platform@example.com"),
                              ("critical", "sms", "+886900000000"),
                              ("warning", "email", "genai-demo-oncall@example.com"),
                              ("warning", "email", "genai-demo-platform@example.com")],
            "alarm_evaluation_periods": 2,
            "thresholds": {"alb_5xx": 10, "target_latency_s": 1.0, "node_cpu": 80, "node_memory": 85,
                           "rds_cpu": 80, "rds_free_storage_gib": 10, "rds_connections": 500, "msk_disk": 80,
                           "redis_memory": 80, "redis_evictions": 100},
            # Inventory 7: three data nodes across three AZs, three dedicated masters (a quorum survives an AZ).
            "opensearch": {"instance_type": "m6g.large.search", "instance_count": 3, "azs": 3, "volume_gib": 100,
                           "master_type": "m6g.large.search", "master_count": 3},
            "firehose_buffer_seconds": 60,
        },
        "eks": {
            # Graviton (ARM64) nodes need the ARM AMI type; AL2023 because AL2 AMIs stop at 1.32.
            "node_groups": {
                "nodes": {"instance_types": ["m6g.large"], "ami_type": "AL2023_ARM_64_STANDARD",
                          "min": 2, "desired": 2, "max": 10, "disk_gib": 50},
            },
        },
        "ecr": {"prefix": "genai-demo/production"},
        "security": {
            "kms_deletion_window_days": 30,  # longest AWS allows: a mistaken destroy can still be undone
            "secret_recovery_days": 30,
        },
        "s3": {
            "data_lake": {"noncurrent_expire_days": 365},
            "backups": {"expire_days": 2555, "noncurrent_expire_days": 90},
        },
        "config": {"static": {"app/environment": "production", "app/log-level": "INFO"}},
        "edge": {
            "alb_deletion_protection": True,
            "deregistration_delay": 30,  # seconds a draining pod keeps its connections
            "waf_managed_override": "None",  # None = the rule group's own actions apply: matches are blocked
        },
        "rds": {
            # Multi-AZ primary (synchronous standby, automatic failover) plus two read replicas.
            "instance_class": "db.r6g.large",
            "allocated_storage": 100,
            "max_allocated_storage": 1000,
            "multi_az": True,
            "replicas": 2,
            "replica_class": "db.r6g.large",
            "backup_retention_days": 30,
            "deletion_protection": True,
            "skip_final_snapshot": False,  # a destroy keeps a final snapshot
            "performance_insights": True,
            "protect": True,  # destroy refuses without --destroy-protected production
        },
        "msk": {
            "brokers": 3,  # one per AZ
            "azs": 3,
            "volume_gib": 100,
            "enhanced_monitoring": "PER_TOPIC_PER_BROKER",
            "replication_factor": 3,
            "min_insync_replicas": 2,
            "protect": True,
        },
        "redis": {
            "node_type": "cache.r6g.large",
            "cluster_mode": True,  # cluster mode enabled: shards x (primary + replicas), Multi-AZ, failover
            "shards": 3,
            "replicas_per_shard": 1,
            "snapshot_retention_days": 7,
            "skip_final_snapshot": False,
            "protect": True,
        },
        "analytics": {
            "firehose_buffer_mib": 64,  # fewer, larger objects: cheaper to scan
            "athena_scan_cutoff_gb": 100,  # per query, enforced by the workgroup (inventory section 7)
        },
        "network": {
            "nat_gateways": 3,  # one per AZ: an AZ outage does not cut the others' egress
            "interface_endpoints": ["ec2"],  # FSBP EC2.10: the VPC CNI's EC2 calls stay off the NAT
        },
    },
}


def merged(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `override` merged in: nested sections key by key, any other value replaced (copied,
    so no two profiles share a mutable value)."""
    out = copy.deepcopy(dict(base))
    for k, v in override.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merged(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


PROFILES: dict[str, dict[str, Any]] = {env: merged(BASE, o) for env, o in OVERRIDES.items()}


def profile(env: str) -> dict[str, Any]:
    try:
        return PROFILES[env]
    except KeyError:
        raise PlanError(f"unknown env {env!r}; profiles are: {', '.join(PROFILES)}") from None
