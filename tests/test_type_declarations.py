"""What the engine used to hard-code is declared by the types: durations, ARNs, id shapes, listers."""

from __future__ import annotations

import pytest

from orchestrator import day2
from resources.base import (
    REGISTRY,
    Durations,
    arn_types,
    durations_table,
    kind_of,
    lookup_type,
    usual_seconds,
)
from sandbox import latency, lifecycle


def test_one_table_of_durations_owned_by_the_types():
    lookup_type("eks.Cluster")  # registers every type
    table = durations_table()
    assert latency.TABLE == table  # the sandbox replays the types' table, it keeps no copy
    assert table["kafka.cluster"] == Durations(create=1500, update=900, delete=600)
    assert table["eks.update"].update == 600  # an operation, not a type: declared by resources/eks.py
    for t, cls in REGISTRY.items():
        if cls.durations is not None:
            assert table[kind_of(t)] is cls.durations
            assert usual_seconds(t, "create") == cls.durations.create
    assert usual_seconds("ssm.Parameter") == 0 and usual_seconds("no.SuchType") == 0


def test_the_lifecycle_models_are_named_by_kind(aws):
    aws.lifecycle(scale=0.001)
    assert lifecycle.duration("kafka.cluster", "create") == pytest.approx(1500 * 0.001)
    assert lifecycle.duration("rds.dbinstance", "delete") == pytest.approx(300 * 0.001)


def test_arn_kinds_and_id_prefixes_are_unique_per_type():
    lookup_type("ec2.Vpc")
    kinds = [cls.arn_kind for cls in REGISTRY.values() if cls.arn_kind is not None]
    assert len(kinds) == len(set(kinds))
    assert arn_types()[("ec2", "natgateway")] == "ec2.NatGateway"
    assert arn_types()[("es", "domain")] == "opensearch.Domain"
    prefixes = [cls.id_prefix for cls in REGISTRY.values() if cls.id_prefix]
    assert len(prefixes) == len(set(prefixes)) and lookup_type("ec2.Subnet").id_prefix == "subnet-"


def test_arn_parts_reads_id_only_arns_from_the_declarations():
    assert day2.arn_parts("arn:aws:s3:::genai-demo-dev-lake") == ("s3", "", "genai-demo-dev-lake")
    assert day2.arn_parts("arn:aws:sns:ap-east-2:123456789012:alerts") == ("sns", "", "alerts")
    assert day2.arn_parts("arn:aws:ec2:ap-east-2:123456789012:vpc/vpc-1") == ("ec2", "vpc", "vpc-1")


def test_services_the_tagging_api_misses_list_themselves():
    listers = day2.direct_listers()
    assert {"iam", "wafv2", "eks", "ecr", "opensearch", "amp", "events"} <= set(listers)
    assert lookup_type("iam.Role").lists_itself() and not lookup_type("ec2.Vpc").lists_itself()


def test_scan_lists_roles_through_the_types_own_lister(aws):
    iam = aws.client("iam")
    iam.create_role(RoleName="stray", AssumeRolePolicyDocument="{}",
                    Tags=[{"Key": "infra:project", "Value": "genai-demo"}, {"Key": "infra:env", "Value": "dev"}])
    iam.create_role(RoleName="other", AssumeRolePolicyDocument="{}")
    found = dict(day2.direct_listers()["iam"](aws.clients))
    arn = iam.get_role(RoleName="stray")["Role"]["Arn"]
    assert found[arn] == {"infra:project": "genai-demo", "infra:env": "dev"}
    assert found[iam.get_role(RoleName="other")["Role"]["Arn"]] == {}


def test_a_plan_without_a_document_is_drawn_by_service_with_the_types_labels():
    from orchestrator import render
    from orchestrator.graph import build_graph
    from orchestrator.model import Plan
    from resources.ec2 import Subnet, Vpc

    plan = Plan(project="p", env="dev")
    s = plan.stack("main")
    vpc = s.add(Vpc("vpc", CidrBlock="10.0.0.0/16"))
    s.add(*(Subnet(f"s{i}", VpcId=vpc["VpcId"], CidrBlock=f"10.0.{i}.0/24",
                         AvailabilityZone="ap-east-2a") for i in range(2)))
    g, _ = build_graph(plan)
    text = render.render(g, "text", "p dev", level="service")
    assert "stack main\n  Other\n    EC2 (2 subnets, 1 VPC): 3 resources" in text
