"""Environment profiles as data: what differs between dev and production.

One plan reads these; there are no per-env copies of the plan. Sections are
named after the plan modules that read them.
"""

from __future__ import annotations

from typing import Any

from orchestrator.errors import PlanError

PROFILES: dict[str, dict[str, Any]] = {
    "dev": {
        "region": "ap-east-2",
        "tags": {"Project": "genai-demo", "Environment": "dev", "ManagedBy": "genai-infra"},
        "security": {
            # AWS services allowed to use the main key on behalf of principals of this account (kms:ViaService);
            # CloudWatch Logs (logs.<region>) is granted separately as a service principal.
            "kms_services": ["rds", "s3", "secretsmanager", "kafka", "eks", "elasticache", "ecr", "ssm"],
            "kms_deletion_window_days": 7,  # shortest AWS allows: dev keys go quickly
            "secret_recovery_days": 0,  # 0 = ForceDeleteWithoutRecovery: dev can destroy and re-create at once
            "redis_auth_length": 32,
            "app_db_username": "genai_app",  # the application's own PostgreSQL login (RDS manages the master)
        },
        "s3": {
            # Inventory section 7: IA after 30 days, Glacier after 90; backups expire 35 days (dev) / 7 years (prod).
            "data_lake": {"ia_days": 30, "glacier_days": 90, "expire_days": None, "noncurrent_expire_days": 30},
            "backups": {"ia_days": 30, "glacier_days": 90, "expire_days": 35, "noncurrent_expire_days": 7},
            "abort_multipart_days": 7,
        },
        "config": {
            "tier": "Standard",
            # Published as /genai-demo/<env>/<key> beside the endpoints the lead passes in.
            "static": {"app/environment": "dev", "app/log-level": "DEBUG"},
        },
        "edge": {
            "domain": "genai-demo.example.com",  # certificate for <env>.<domain> + api./cmc./shop.
            "alb_deletion_protection": False,
            "alb_idle_timeout": 60,
            "deregistration_delay": 10,  # seconds a draining pod keeps its connections
            "waf_managed_override": "Count",  # dev only counts managed-rule matches (tuning), production blocks them
            "waf_rate_limit": 2000,  # requests per 5 minutes per client IP, then Block
        },
        "network": {
            "vpc_cidr": "10.0.0.0/16",
            "dns_hostnames": True,  # EKS nodes and private endpoints need VPC DNS names
            "azs": 3,
            "nat_gateways": 1,  # one NAT in the first AZ; every private route uses it
            # tier -> (first third octet, prefix length, octet step per AZ)
            "tiers": {"public": (0, 20, 16), "private": (64, 19, 32), "database": (160, 22, 4)},
        },
    },
    "production": {
        "region": "ap-east-2",
        "tags": {"Project": "genai-demo", "Environment": "production", "ManagedBy": "genai-infra"},
        "security": {
            "kms_services": ["rds", "s3", "secretsmanager", "kafka", "eks", "elasticache", "ecr", "ssm"],
            "kms_deletion_window_days": 30,  # longest AWS allows: a mistaken destroy can still be undone
            "secret_recovery_days": 30,
            "redis_auth_length": 32,
            "app_db_username": "genai_app",  # the application's own PostgreSQL login (RDS manages the master)
        },
        "s3": {
            "data_lake": {"ia_days": 30, "glacier_days": 90, "expire_days": None, "noncurrent_expire_days": 365},
            "backups": {"ia_days": 30, "glacier_days": 90, "expire_days": 2555, "noncurrent_expire_days": 90},
            "abort_multipart_days": 7,
        },
        "config": {
            "tier": "Standard",
            "static": {"app/environment": "production", "app/log-level": "INFO"},
        },
        "edge": {
            "domain": "genai-demo.example.com",  # certificate for <env>.<domain> + api./cmc./shop.
            "alb_deletion_protection": True,
            "alb_idle_timeout": 60,
            "deregistration_delay": 30,  # seconds a draining pod keeps its connections
            "waf_managed_override": "None",  # None = the rule group's own actions apply: matches are blocked
            "waf_rate_limit": 2000,  # requests per 5 minutes per client IP, then Block
        },
        "network": {
            "vpc_cidr": "10.0.0.0/16",
            "dns_hostnames": True,  # EKS nodes and private endpoints need VPC DNS names
            "azs": 3,
            "nat_gateways": 3,  # one per AZ: an AZ outage does not cut the others' egress
            "tiers": {"public": (0, 20, 16), "private": (64, 19, 32), "database": (160, 22, 4)},
        },
    },
}


def profile(env: str) -> dict[str, Any]:
    try:
        return PROFILES[env]
    except KeyError:
        raise PlanError(f"unknown env {env!r}; profiles are: {', '.join(PROFILES)}") from None
