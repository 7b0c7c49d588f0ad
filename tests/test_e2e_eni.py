"""A destroy meets the interfaces AWS leaves behind a load balancer, and finishes at the first try.

The network layer and the edge layer of the GenAI Demo plan (the ALB in the public subnets, with the
`alb` group, in front of the IGW), applied and destroyed through the CLI on the strict sandbox. With
rule lingering-enis on, the ALB's interfaces outlive it: the destroy must wait them out
(DependencyViolation retries, in the run's retry log) and delete those AWS has left "available"
(DeleteNetworkInterface), and leave no interface, group or subnet behind.
"""

from __future__ import annotations

from orchestrator.model import Plan
from plans.genai_demo import edge, network
from plans.genai_demo.profiles import profile
from sandbox import strict
from tests.fakes import install_plan
from tests.helpers import count_calls, infra


def build_network_edge(env: str) -> Plan:
    p = profile(env)
    plan = Plan(project="genai-demo", env=env, region=p["region"], tags=dict(p["tags"]), settings=p)
    stack = plan.stack("main")
    edge.build(stack, p, net=network.build(stack, p))
    return plan


PLAN = install_plan("genai_demo_network_edge", build_network_edge)


def test_destroy_waits_out_and_cleans_up_the_albs_interfaces(aws):
    # In use for 4 s after the ALB's delete, then available for 4 s: the groups and subnets the ALB used
    # come up for deletion about 2 s after it, so the destroy meets both phases.
    aws.rules.configure("lingering-enis", seconds=8.0)
    env, ec2 = "dev", aws.client("ec2")
    infra("apply", "--plan", PLAN, "--env", env, "--auto-approve")
    [lb] = aws.client("elbv2").describe_load_balancers()["LoadBalancers"]
    alb_enis = ec2.describe_network_interfaces(Filters=[{"Name": "description", "Values": [
        "ELB " + lb["LoadBalancerArn"].split(":loadbalancer/")[1]]}])["NetworkInterfaces"]
    assert len(alb_enis) == len(lb["AvailabilityZones"]) and all(e["Association"]["PublicIp"] for e in alb_enis)
    vpc_id = alb_enis[0]["VpcId"]

    trips = strict.trips().get("lingering-enis", 0)
    with count_calls() as log:
        out = infra("destroy", "--plan", PLAN, "--env", env, "--auto-approve")
    assert strict.trips().get("lingering-enis", 0) > trips  # AWS (the sandbox) did refuse while they lingered

    # The run's retry log (Report.retry_log, printed by the CLI) shows the dependency waits ...
    retried = [line.split() for line in out.output.splitlines() if " delete: DependencyViolation x" in line]
    assert any(r[0].endswith(("alb_sg", "igw")) or "subnet_public" in r[0] for r in retried), out.output
    # ... and the tool deleted the interfaces AWS had left available, not waiting for AWS to.
    assert ("ec2", "DeleteNetworkInterface") in log.calls

    # Independent boto3: nothing of the VPC is left, interfaces included.
    assert ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NetworkInterfaces"] == []
    for e in alb_enis:
        assert ec2.describe_network_interfaces(Filters=[{"Name": "network-interface-id", "Values": [
            e["NetworkInterfaceId"]]}])["NetworkInterfaces"] == []
    tagged = [{"Name": "tag:infra:env", "Values": [env]}]
    assert ec2.describe_security_groups(Filters=tagged)["SecurityGroups"] == []
    assert ec2.describe_subnets(Filters=tagged)["Subnets"] == []
    assert ec2.describe_vpcs(VpcIds=[]).get("Vpcs") is not None
    assert [v for v in ec2.describe_vpcs()["Vpcs"] if v["VpcId"] == vpc_id] == []
