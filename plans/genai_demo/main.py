"""Main infrastructure stack: network, encryption and storage, edge, container platform, data services, config.

Each layer is a function in its own module taking the stack, the profile and
what earlier layers returned, and returning the resources later layers need;
the references between them are what order the work.
"""

from __future__ import annotations

from typing import Any

from orchestrator.model import Stack
from plans.genai_demo import compute, config, data, edge, network, security
from resources.base import Join


def build(stack: Stack, p: dict[str, Any]) -> dict[str, Any]:
    net = network.build(stack, p)
    front = edge.build(stack, p, net=net)
    # The buckets' server access logs go to the log bucket the ALB writes to (it takes SSE-S3, as both need).
    sec = security.build(stack, p, access_logs={"TargetBucket": front["alb_logs"]["Bucket"],
                                                "TargetPrefix": edge.S3_ACCESS_LOG_PREFIX,
                                                "TargetObjectKeyFormat": {"PartitionedPrefix": {
                                                    "PartitionDateSource": "EventTime"}}})
    dat = data.build(stack, p, net=net, kms_key=sec["kms_key"], redis_auth_secret=sec["secrets"]["redis_auth"])
    # The workloads' IRSA policies name what they reach (EKS -> RDS/MSK/Redis/Secrets, ALB -> EKS arrows).
    plat = compute.build(stack, p, net=net, kms_key=sec["kms_key"], data=dat, secrets=sec["secrets"],
                         target_groups=front["target_groups"])
    # What the application reads at start-up, published as SSM parameters (the EKS -> SSM arrow).
    cfg = config.build(stack, p, outputs={
        "database/endpoint": dat["db"]["Endpoint"],
        "database/port": Join(dat["db"]["Port"]),  # SSM values are strings
        "redis/endpoint": dat["redis"]["Endpoint"],
        "kafka/bootstrap-brokers": dat["kafka"]["BootstrapBrokers"],
        "s3/data-lake-bucket": sec["buckets"]["data_lake"]["Bucket"],
        "s3/backups-bucket": sec["buckets"]["backups"]["Bucket"],
        "alb/dns-name": front["alb"]["DNSName"],
        "eks/cluster-name": plat["cluster"]["Name"],
    })
    # What `infra output main` shows: where the platform answers.
    stack.outputs.update({
        "alb_dns_name": front["alb"]["DNSName"],
        "eks_endpoint": plat["cluster"]["Endpoint"],
        "database_endpoint": dat["db"]["Endpoint"],
        "redis_endpoint": dat["redis"]["Endpoint"],
        "kafka_bootstrap_brokers": dat["kafka"]["BootstrapBrokers"],
        "vpc_id": net["vpc"]["VpcId"],
    })
    return {"network": net, "security": sec, "edge": front, "compute": plat, "data": dat, "config": cfg}
