"""A create that ends in a failure state (sandbox rule failure-states) is recorded tainted, with its physical
id and AWS's reason; the next apply replaces it and its dependents get real outputs. A resource found after a
crash is waited for while AWS still builds it, and never recorded healthy when it failed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.moto_api import state_manager

from resources.kafka import Cluster
from sandbox import settings
from state.dynamodb import DynamoStateStore, Record
from tests.fakes import install_plan
from tests.helpers import infra

ROLE = "arn:aws:iam::123456789012:role/genai-demo-dev-delivery"
NODE_ROLE = "arn:aws:iam::123456789012:role/genai-demo-dev-node"


def _network(s: Any) -> tuple[Any, list[Any], Any]:
    from resources.ec2 import SecurityGroup, Subnet, Vpc

    vpc = s.add(Vpc("vpc", CidrBlock="10.9.0.0/16"))
    subnets = [s.add(Subnet(f"subnet_{az}", VpcId=vpc["VpcId"], CidrBlock=f"10.9.{i}.0/24",
                            AvailabilityZone=f"{settings.REGION}{az}")) for i, az in enumerate("ab")]
    sg = s.add(SecurityGroup("sg", VpcId=vpc["VpcId"], Description="data"))
    return vpc, subnets, sg


def _kafka(s: Any, subnets: list[Any], sg: Any) -> None:
    from resources.kafka import Cluster
    from resources.ssm import Parameter

    msk = s.add(Cluster("kafka", KafkaVersion="3.7.x", NumberOfBrokerNodes=2,
                        BrokerNodeGroupInfo={"InstanceType": "kafka.m5.large",
                                             "ClientSubnets": [x["SubnetId"] for x in subnets],
                                             "SecurityGroups": [sg["GroupId"]]},
                        ClientAuthentication={"Sasl": {"Iam": {"Enabled": True}}}))
    s.add(Parameter("brokers", Name="kafka/bootstrap-brokers", Type="String", Value=msk["BootstrapBrokers"]))


def msk_plan(env: str) -> Any:
    from orchestrator.model import Plan

    plan = Plan(project="genai-demo", env=env, region=settings.REGION)
    s = plan.stack("main")
    _, subnets, sg = _network(s)
    _kafka(s, subnets, sg)
    return plan


def all_plan(env: str) -> Any:
    """One resource of each kind that can fail, each with an SSM parameter holding one of its outputs."""
    from orchestrator.model import Plan
    from resources.eks import Cluster as EksCluster
    from resources.eks import Nodegroup
    from resources.firehose import DeliveryStream
    from resources.rds import DBInstance, DBSubnetGroup
    from resources.s3 import Bucket
    from resources.ssm import Parameter

    plan = Plan(project="genai-demo", env=env, region=settings.REGION)
    s = plan.stack("main")
    _, subnets, sg = _network(s)
    ids = [x["SubnetId"] for x in subnets]
    _kafka(s, subnets, sg)
    eks = s.add(EksCluster("eks", RoleArn=NODE_ROLE, ResourcesVpcConfig={"SubnetIds": ids}))
    ng = s.add(Nodegroup("nodes", ClusterName=eks["Name"], NodeRole=NODE_ROLE, Subnets=ids,
                         ScalingConfig={"MinSize": 1, "DesiredSize": 1, "MaxSize": 2}))
    s.add(Parameter("nodes_asg", Name="eks/nodes-asg", Type="String", Value=ng["AutoScalingGroupName"]))
    group = s.add(DBSubnetGroup("db_subnets", DBSubnetGroupDescription="db", SubnetIds=ids))
    db = s.add(DBInstance("db", Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                          MasterUsername="app", DBSubnetGroupName=group["DBSubnetGroupName"],
                          VpcSecurityGroupIds=[sg["GroupId"]]))
    s.add(Parameter("db_endpoint", Name="database/endpoint", Type="String", Value=db["Endpoint"]))
    lake = s.add(Bucket("lake"))
    stream = s.add(DeliveryStream("events", ExtendedS3DestinationConfiguration={
        "BucketARN": lake["Arn"], "RoleARN": ROLE}))
    s.add(Parameter("stream_arn", Name="analytics/stream-arn", Type="String", Value=stream["Arn"]))
    return plan


MSK = install_plan("taint_msk", msk_plan)
ALL = install_plan("taint_all", all_plan)


def records(aws: Any) -> dict[str, Record]:
    return DynamoStateStore(aws.client("dynamodb"), "genai-demo", "dev", "genai-infra-state-test").read_stack("main")


def param(aws: Any, name: str) -> str:
    return aws.client("ssm").get_parameter(Name=f"/genai-demo/dev/{name}")["Parameter"]["Value"]


def apply(plan: str, ok: bool = True) -> Any:
    return infra("apply", "--plan", plan, "--env", "dev", "--auto-approve", "--json", ok=ok)


def gone(aws: Any, kind: str, pid: str) -> bool:
    """Whether the resource `pid` of `kind` no longer exists (or is on its way out)."""
    try:
        if kind == "kafka.cluster":
            return aws.client("kafka").describe_cluster(ClusterArn=pid)["ClusterInfo"]["State"] == "DELETING"
        if kind == "eks.nodegroup":
            c, n = pid.split("/")
            return aws.client("eks").describe_nodegroup(clusterName=c, nodegroupName=n)["nodegroup"]["status"] \
                == "DELETING"
        if kind == "rds.dbinstance":
            return aws.client("rds").describe_db_instances(DBInstanceIdentifier=pid)["DBInstances"][0][
                "DBInstanceStatus"] == "deleting"
        return aws.client("firehose").describe_delivery_stream(DeliveryStreamName=pid)[
            "DeliveryStreamDescription"]["DeliveryStreamStatus"] == "DELETING"
    except Exception as exc:  # noqa: BLE001 - not found is the answer wanted
        return "NotFound" in type(exc).__name__ or "not found" in str(exc).lower() or "NotFound" in str(exc)


CASES = [
    # kind failed by the sandbox, its address, AWS's reason as the state shows it, a dependent parameter
    ("kafka.cluster", "main.kafka", "FAILED (InternalServiceError", "brokers", "kafka/bootstrap-brokers"),
    ("eks.nodegroup", "main.nodes", "CREATE_FAILED (NodeCreationFailure", "nodes_asg", "eks/nodes-asg"),
    ("eks.cluster", "main.eks", "FAILED (Ec2SubnetNotFound", "nodes_asg", "eks/nodes-asg"),
    ("rds.dbinstance", "main.db", "failed", "db_endpoint", "database/endpoint"),
    ("firehose.deliverystream", "main.events", "CREATING_FAILED (CREATE_ENI_FAILED", "stream_arn",
     "analytics/stream-arn"),
]
# Which output of which resource each parameter holds.
SOURCE = {"brokers": ("main.kafka", "BootstrapBrokers"), "nodes_asg": ("main.nodes", "AutoScalingGroupName"),
          "db_endpoint": ("main.db", "Endpoint"), "stream_arn": ("main.events", "Arn")}


@pytest.mark.parametrize(("kind", "address", "why", "dependent", "name"), CASES, ids=[c[0] for c in CASES])
def test_failed_create_is_tainted_then_replaced_with_real_outputs_downstream(aws, kind, address, why, dependent,
                                                                            name):
    aws.rules.configure("failure-states", next=f"{kind}=1")
    out = apply(ALL, ok=False)
    assert out.exit_code == 1, out.output
    report = json.loads(out.stdout)
    assert report["failed"] == [address]
    assert f"main.{dependent}" in report["skipped"]
    assert address in report["errors"][address] and why in report["errors"][address]

    rec = records(aws)[address]
    assert rec.status == "tainted" and rec.physical_id and rec.reason.startswith(why)
    failed_pid = rec.physical_id
    listing = {r["address"]: r for r in json.loads(infra("state", "list", "--plan", ALL, "--env", "dev",
                                                        "--json").stdout)}
    assert listing[address]["status"] == "tainted" and listing[address]["physical_id"] == failed_pid
    shown = infra("plan", "--plan", ALL, "--env", "dev").output
    assert f"{address} (" in shown and "replace: tainted: " + why in shown

    again = apply(ALL)
    assert json.loads(again.stdout)["replaced"] == [address], again.output
    rec = records(aws)[address]
    assert rec.status == "created" and rec.reason == ""
    value = param(aws, name)
    source, attr = SOURCE[dependent]
    assert value and value != "None" and value == str(records(aws)[source].outputs[attr])
    if kind == "kafka.cluster":
        assert ":9098" in value and rec.physical_id != failed_pid
    assert kind == "eks.cluster" or gone(aws, kind, failed_pid) or rec.physical_id == failed_pid  # same-named kinds: deleted, made again
    assert all(r.status == "created" for r in records(aws).values())


def _crash_after_create_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies between the create call and its wait: the intent stays `creating` in the state."""
    def crash(self: Any, ctx: Any, physical_id: str) -> None:
        raise RuntimeError("simulated crash after CreateCluster")

    monkeypatch.setattr(Cluster, "wait_created", crash)


def test_resume_waits_for_a_cluster_still_creating_and_records_it_with_outputs(aws, monkeypatch):
    aws.lifecycle()
    state_manager.set_transition("kafka.cluster:create", {"progression": "time", "seconds": 2.0})
    with monkeypatch.context() as m:
        _crash_after_create_call(m)
        out = apply(MSK, ok=False)
    assert json.loads(out.stdout)["failed"] == ["main.kafka"]
    rec = records(aws)["main.kafka"]
    assert rec.status == "creating" and rec.physical_id is None
    arn = aws.client("kafka").list_clusters()["ClusterInfoList"][0]["ClusterArn"]
    assert aws.client("kafka").describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"] == "CREATING"

    again = apply(MSK)
    assert json.loads(again.stdout)["created"] == ["main.brokers", "main.kafka"], again.output
    rec = records(aws)["main.kafka"]
    assert rec.status == "created" and rec.physical_id == arn
    assert aws.client("kafka").describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE"
    brokers = aws.client("kafka").get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerStringSaslIam"]
    assert rec.outputs["BootstrapBrokers"] == brokers
    assert param(aws, "kafka/bootstrap-brokers") == brokers


def test_resume_never_adopts_a_failed_cluster_it_is_tainted_then_replaced(aws, monkeypatch):
    aws.rules.configure("failure-states", next="kafka.cluster=1")
    with monkeypatch.context() as m:
        _crash_after_create_call(m)
        apply(MSK, ok=False)
    assert records(aws)["main.kafka"].status == "creating"

    out = apply(MSK, ok=False)  # finds the cluster, FAILED: not adopted
    report = json.loads(out.stdout)
    assert report["failed"] == ["main.kafka"] and "main.brokers" in report["skipped"]
    assert "FAILED (InternalServiceError" in report["errors"]["main.kafka"]
    rec = records(aws)["main.kafka"]
    assert rec.status == "tainted" and rec.physical_id
    with pytest.raises(Exception, match="ParameterNotFound"):
        param(aws, "kafka/bootstrap-brokers")  # never the text "None"

    apply(MSK)
    rec = records(aws)["main.kafka"]
    assert rec.status == "created" and ":9098" in param(aws, "kafka/bootstrap-brokers")


@pytest.mark.parametrize("state", ["incompatible-network", "inaccessible-encryption-credentials"])
def test_rds_create_stops_at_once_on_the_failure_states_botocore_waits_through(aws, state):
    """botocore's DBInstanceAvailable has no failure acceptor for these: without ours the create would poll
    until its timeout (an hour against AWS) for an instance that can never become available."""
    from core.errors import FailedState
    from resources.rds import DBInstance
    from tests.helpers import declare

    aws.rules.configure("failure-states", next="rds.dbinstance=1", rds_state=state)
    db = declare(DBInstance("db", Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                            MasterUsername="app"))
    ctx = aws.ctx("db", timeouts={"create": 5})  # without a failure acceptor: a timeout, not FailedState
    with pytest.raises(FailedState, match=state):
        db.create(ctx, dict(db.properties))
    assert db.condition(ctx, "genai-demo-test-db")[:2] == ("failed", state)


def test_redis_create_stops_at_once_on_create_failed(aws):
    """botocore's ReplicationGroupAvailable fails only on `deleted`: without ours a create-failed group
    would be polled until the timeout."""
    from core.errors import FailedState
    from resources.elasticache import ReplicationGroup
    from tests.helpers import declare

    aws.rules.configure("failure-states", next="elasticache.replicationgroup=1")
    rg = declare(ReplicationGroup("redis", CacheNodeType="cache.t3.micro", EngineVersion="7.1",
                                  AtRestEncryptionEnabled=False, TransitEncryptionEnabled=False))
    ctx = aws.ctx("redis", timeouts={"create": 5})  # without a failure acceptor: a timeout, not FailedState
    with pytest.raises(FailedState, match="create-failed"):
        rg.create(ctx, dict(rg.properties))
    assert rg.condition(ctx, "genai-demo-test-redis")[:2] == ("failed", "create-failed")


def test_import_of_a_failed_cluster_records_it_tainted(aws):
    aws.rules.configure("failure-states", names="^kafka.cluster/genai-demo-dev-kafka$")
    arn = aws.client("kafka").create_cluster(
        ClusterName="genai-demo-dev-kafka", KafkaVersion="3.7.x", NumberOfBrokerNodes=2,
        BrokerNodeGroupInfo={"InstanceType": "kafka.m5.large", "ClientSubnets": ["subnet-a", "subnet-b"]},
        Tags={"infra:address": "main.kafka"})["ClusterArn"]
    infra("import", "main.kafka", arn, "--plan", MSK, "--env", "dev")
    rec = records(aws)["main.kafka"]
    assert rec.status == "tainted" and rec.physical_id == arn and rec.reason.startswith("FAILED (")
    assert rec.outputs == {}


def test_fargate_profile_create_failed_stops_the_wait(aws):
    from core.errors import FailedState
    from resources.eks import FargateProfile
    from tests.helpers import declare

    eks = aws.client("eks")
    eks.create_cluster(name="c", roleArn=NODE_ROLE, resourcesVpcConfig={"subnetIds": ["subnet-a", "subnet-b"]})
    aws.rules.configure("failure-states", next="eks.fargateprofile=1")
    fp = declare(FargateProfile("pods", ClusterName="c", PodExecutionRoleArn=NODE_ROLE, Subnets=["subnet-a"],
                                Selectors=[{"Namespace": "batch"}]))
    ctx = aws.ctx("pods")
    with pytest.raises(FailedState, match="CREATE_FAILED"):
        fp.create(ctx, dict(fp.properties))
    assert fp.condition(ctx, "c/genai-demo-test-pods")[:2] == ("failed", "CREATE_FAILED")
