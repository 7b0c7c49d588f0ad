"""Rule failure-states (sandbox/extensions/strict_failures.py), with plain boto3: a create AWS accepted
ends in its failure state, with AWS's reason, for the resources chosen; the others succeed."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError
from moto.moto_api import state_manager

from sandbox import strict
from sandbox.extensions import strict_failures

ROLE = "arn:aws:iam::123456789012:role/x"
BROKERS = {"InstanceType": "kafka.m5.large", "ClientSubnets": ["subnet-a", "subnet-b", "subnet-c"]}
DEST = {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::lake"}


def _nodegroup(aws: Any, name: str) -> dict[str, Any]:
    eks = aws.client("eks")
    if "c" not in eks.list_clusters()["clusters"]:
        eks.create_cluster(name="c", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-a", "subnet-b"]})
    eks.create_nodegroup(clusterName="c", nodegroupName=name, nodeRole=ROLE, subnets=["subnet-a"],
                         scalingConfig={"minSize": 1, "maxSize": 1, "desiredSize": 1})
    return eks.describe_nodegroup(clusterName="c", nodegroupName=name)["nodegroup"]


def _msk(aws: Any, name: str) -> dict[str, Any]:
    k = aws.client("kafka")
    arn = k.create_cluster(ClusterName=name, KafkaVersion="3.6.0", NumberOfBrokerNodes=3,
                           BrokerNodeGroupInfo=BROKERS)["ClusterArn"]
    return k.describe_cluster(ClusterArn=arn)["ClusterInfo"]


def _stream(aws: Any, name: str) -> dict[str, Any]:
    fh = aws.client("firehose")
    fh.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration=DEST)
    return fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]


def _db(aws: Any, name: str) -> dict[str, Any]:
    rds = aws.client("rds")
    rds.create_db_instance(DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, MasterUsername="app", MasterUserPassword="x" * 16)
    return rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]


def test_rule_failure_states_nodegroup_create_failed_with_health_issues(aws):
    aws.rules.configure("failure-states", names="eks.nodegroup/.*-bad$")
    good, bad = _nodegroup(aws, "ng-good"), _nodegroup(aws, "ng-bad")
    assert good["status"] == "ACTIVE" and good["health"]["issues"] == []
    assert bad["status"] == "CREATE_FAILED"
    assert bad["health"]["issues"][0]["code"] == "NodeCreationFailure"
    with pytest.raises(WaiterError, match="terminal failure state"):
        aws.client("eks").get_waiter("nodegroup_active").wait(clusterName="c", nodegroupName="ng-bad",
                                                              WaiterConfig={"Delay": 0.01, "MaxAttempts": 3})
    assert strict.trips().get("failure-states", 0) >= 1
    aws.client("eks").delete_nodegroup(clusterName="c", nodegroupName="ng-bad")  # AWS deletes a failed group


def test_rule_failure_states_msk_failed_with_state_info_next_n(aws):
    strict_failures.fail_next("kafka.cluster", 1)
    bad, good = _msk(aws, "first"), _msk(aws, "second")  # only the next one fails
    assert bad["State"] == "FAILED" and bad["StateInfo"]["Code"] and bad["StateInfo"]["Message"]
    assert good["State"] == "ACTIVE" and "StateInfo" not in good
    with pytest.raises(ClientError) as exc:
        aws.client("kafka").get_bootstrap_brokers(ClusterArn=bad["ClusterArn"])
    assert exc.value.response["Error"]["Code"] == "BadRequestException"


def test_rule_failure_states_msk_fails_after_creating_with_lifecycle(aws):
    aws.lifecycle()
    aws.rules.configure("failure-states", names="^kafka.cluster/slow$")
    info = _msk(aws, "slow")
    assert info["State"] == "CREATING"  # the failure comes where ACTIVE would have
    k = aws.client("kafka")
    seen = {"CREATING"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "FAILED" not in seen:
        seen.add(k.describe_cluster(ClusterArn=info["ClusterArn"])["ClusterInfo"]["State"])
        time.sleep(0.01)
    assert seen == {"CREATING", "FAILED"}


def test_rule_failure_states_firehose_creating_failed_with_failure_description(aws):
    aws.rules.configure("failure-states", names="firehose.deliverystream/broken")
    d = _stream(aws, "broken")
    assert d["DeliveryStreamStatus"] == "CREATING_FAILED"
    assert d["FailureDescription"]["Type"] == "CREATE_ENI_FAILED" and d["FailureDescription"]["Details"]
    assert _stream(aws, "fine")["DeliveryStreamStatus"] == "ACTIVE"


@pytest.mark.parametrize("state", ["failed", "incompatible-parameters"])
def test_rule_failure_states_rds_instance_failed(aws, state):
    aws.rules.configure("failure-states", next="rds.dbinstance=1", rds_state=state)
    assert _db(aws, "db1")["DBInstanceStatus"] == state
    with pytest.raises(WaiterError, match="terminal failure state"):
        aws.client("rds").get_waiter("db_instance_available").wait(
            DBInstanceIdentifier="db1", WaiterConfig={"Delay": 0.01, "MaxAttempts": 3})
    assert _db(aws, "db2")["DBInstanceStatus"] == "available"


def test_rule_failure_states_state_manager_selects_for_a_server(aws):
    """What a running sandbox is told through POST /moto-api/state-manager/set-transition."""
    state_manager.set_transition("kafka.cluster:fail", {"progression": "immediate", "count": 1})
    try:
        assert _msk(aws, "a")["State"] == "FAILED"
        assert _msk(aws, "b")["State"] == "ACTIVE"
    finally:
        state_manager.unset_transition("kafka.cluster:fail")


def test_rule_failure_states_off_means_every_create_succeeds(aws):
    aws.rules.configure("failure-states", names=".")
    aws.rules.off("failure-states")
    assert _stream(aws, "any")["DeliveryStreamStatus"] == "ACTIVE"


def test_rule_failure_states_elasticache_replication_group_create_failed(aws):
    aws.rules.configure("failure-states", names="^elasticache.replicationgroup/bad$")
    ec = aws.client("elasticache")
    for name in ("bad", "good"):
        ec.create_replication_group(ReplicationGroupId=name, ReplicationGroupDescription=name,
                                    CacheNodeType="cache.t3.micro", Engine="redis", NumCacheClusters=1)
    status = {g["ReplicationGroupId"]: g["Status"] for g in ec.describe_replication_groups()["ReplicationGroups"]}
    assert status == {"bad": "create-failed", "good": "available"}


def test_rule_failure_states_eks_cluster_failed_and_fargate_profile_create_failed(aws):
    aws.rules.configure("failure-states", names="^eks.cluster/broken$|^eks.fargateprofile/fp-bad$")
    eks = aws.client("eks")
    for name in ("broken", "c"):
        eks.create_cluster(name=name, roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-a", "subnet-b"]})
    broken = eks.describe_cluster(name="broken")["cluster"]
    assert broken["status"] == "FAILED" and broken["health"]["issues"][0]["code"] == "Ec2SubnetNotFound"
    assert eks.describe_cluster(name="c")["cluster"]["status"] == "ACTIVE"
    for name in ("fp-bad", "fp-good"):
        eks.create_fargate_profile(fargateProfileName=name, clusterName="c", podExecutionRoleArn=ROLE,
                                   subnets=["subnet-a"], selectors=[{"namespace": "batch"}])
    status = {n: eks.describe_fargate_profile(clusterName="c", fargateProfileName=n)["fargateProfile"]["status"]
              for n in ("fp-bad", "fp-good")}
    assert status == {"fp-bad": "CREATE_FAILED", "fp-good": "ACTIVE"}
    with pytest.raises(WaiterError, match="terminal failure state"):
        eks.get_waiter("cluster_active").wait(name="broken", WaiterConfig={"Delay": 0.01, "MaxAttempts": 3})
