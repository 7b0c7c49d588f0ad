"""Issue 13, item 3 (audit finding D1): replacing what is in use, create-before-destroy.

An RDS and an ElastiCache parameter group (Description change), a security group (Description change) and
a target group (Port change) are each in use when they must be replaced: the strict sandbox's in-use rule
(sandbox/extensions/strict_inuse.py) refuses deleting any of them while a database, a cache, another
group's rule or a listener still refers to it, as AWS does. The engine creates the new copy under the
next name of the replacement scheme (`-r1`), re-points every dependent to it, and only then deletes the
old copy: the apply succeeds with no delete refused (the rule never trips), and boto3 shows each
dependent naming the new copy and the old one gone. `Lifecycle(delete_before_replace=True)` keeps the
old order where a resource asks for it.
"""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.model import Plan
from resources.base import Lifecycle
from resources.ec2 import SecurityGroup, SecurityGroupRule, Subnet, Vpc
from resources.elasticache import ParameterGroup as CacheParameterGroup
from resources.elasticache import ReplicationGroup
from resources.elbv2 import Listener, LoadBalancer, TargetGroup
from resources.kafka import Cluster, Configuration
from resources.rds import DBInstance, DBParameterGroup
from sandbox import settings, strict
from tests.fakes import install_plan
from tests.helpers import infra, one_line

FIRST = {"sg": "app tier", "pg": "db parameters", "cpg": "cache parameters", "port": 8080, "dbr": None}
CODE: dict[str, Any] = dict(FIRST)
PREFIX = "genai-demo-dev-"


def build(env: str) -> Plan:
    plan = Plan(project="genai-demo", env=env, region=settings.REGION, tags={"owner": "tests"})
    s = plan.stack("main")
    vpc = s.add(Vpc("vpc", CidrBlock="10.40.0.0/16"))
    subnets = [s.add(Subnet(f"public_{az}", VpcId=vpc["VpcId"], CidrBlock=f"10.40.{i}.0/24",
                            AvailabilityZone=f"{settings.REGION}{az}")) for i, az in enumerate("ab")]
    app = s.add(SecurityGroup("app_sg", VpcId=vpc["VpcId"], Description=CODE["sg"]))
    db_sg = s.add(SecurityGroup("db_sg", VpcId=vpc["VpcId"], Description="database tier"))
    s.add(SecurityGroupRule("db_from_app", GroupId=db_sg["GroupId"], Direction="ingress", IpProtocol="tcp",
                            FromPort=5432, ToPort=5432, SourceSecurityGroupId=app["GroupId"]))
    pg = s.add(DBParameterGroup("pg", Family="postgres16", Description=CODE["pg"],
                                lifecycle=Lifecycle(delete_before_replace=CODE["dbr"])))
    s.add(DBInstance("db", DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="u",
                     DBParameterGroupName=pg["Name"], BackupRetentionPeriod=1))
    cpg = s.add(CacheParameterGroup("cpg", CacheParameterGroupFamily="redis7", Description=CODE["cpg"]))
    s.add(ReplicationGroup("redis", CacheNodeType="cache.t3.micro", TransitEncryptionEnabled=False,
                           CacheParameterGroupName=cpg["CacheParameterGroupName"]))
    # The load balancer has a group of its own: moto's SetSecurityGroups leaves the balancer's network
    # interfaces in the old group (AWS moves them), which would hold the old app group in the sandbox only.
    lb_sg = s.add(SecurityGroup("lb_sg", VpcId=vpc["VpcId"], Description="load balancer"))
    lb = s.add(LoadBalancer("alb", Subnets=[x["SubnetId"] for x in subnets], SecurityGroups=[lb_sg["GroupId"]]))
    tg = s.add(TargetGroup("tg", Port=CODE["port"], VpcId=vpc["VpcId"]))
    s.add(Listener("http", LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                   DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]))
    return plan


PLAN = install_plan("replace_in_use", build)


def cli(*args: str, ok: bool | None = True) -> Any:
    return infra(*args, "--plan", PLAN, "--env", "dev", ok=ok)


@pytest.fixture
def code():
    CODE.update(FIRST)
    yield CODE
    CODE.update(FIRST)


def test_in_use_parameter_groups_security_group_and_target_group_are_replaced_create_first(aws, code):
    rds, ec, ec2, elb = aws.client("rds"), aws.client("elasticache"), aws.client("ec2"), aws.client("elbv2")
    cli("apply", "--auto-approve")
    old_sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [PREFIX + "app-sg"]}])[
        "SecurityGroups"][0]["GroupId"]
    old_tg = elb.describe_target_groups(Names=[PREFIX + "tg"])["TargetGroups"][0]["TargetGroupArn"]
    trips = strict.trips().get("in-use", 0)

    code.update(sg="application tier", pg="database parameters", cpg="cache params", port=8081)
    shown = one_line(cli("plan").output)
    for addr, why in (("main.app_sg (ec2.SecurityGroup)", "Description"), ("main.pg (rds.DBParameterGroup)",
                      "Description"), ("main.cpg (elasticache.ParameterGroup)", "Description"),
                      ("main.tg (elbv2.TargetGroup)", "Port")):
        assert f"{addr} replace: {why} cannot change in place" in shown
    assert "[DESTROYS DATA]" not in shown and "[delete first]" not in shown
    cli("apply", "--auto-approve")
    assert strict.trips().get("in-use", 0) == trips  # nothing was deleted while still in use

    # RDS: the instance names the new group; the old group is gone.
    db = rds.describe_db_instances(DBInstanceIdentifier=PREFIX + "db")["DBInstances"][0]
    assert [g["DBParameterGroupName"] for g in db["DBParameterGroups"]] == [PREFIX + "pg-r1"]
    groups = {g["DBParameterGroupName"]: g for g in rds.describe_db_parameter_groups()["DBParameterGroups"]}
    assert PREFIX + "pg" not in groups and groups[PREFIX + "pg-r1"]["Description"] == "database parameters"
    # ElastiCache: the same.
    rg = ec.describe_replication_groups(ReplicationGroupId=PREFIX + "redis")["ReplicationGroups"][0]
    member = ec.describe_cache_clusters(CacheClusterId=rg["MemberClusters"][0])["CacheClusters"][0]
    assert member["CacheParameterGroup"]["CacheParameterGroupName"] == PREFIX + "cpg-r1"
    cgroups = {g["CacheParameterGroupName"] for g in ec.describe_cache_parameter_groups()["CacheParameterGroups"]}
    assert PREFIX + "cpg-r1" in cgroups and PREFIX + "cpg" not in cgroups
    # The security group: the rule names the new group; the old group is gone.
    new_sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [PREFIX + "app-sg-r1"]}])[
        "SecurityGroups"][0]
    assert new_sg["Description"] == "application tier" and new_sg["GroupId"] != old_sg
    assert ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [old_sg]}])["SecurityGroups"] == []
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "tag:infra:address", "Values": ["main.db_from_app"]}])[
        "SecurityGroupRules"]
    assert [r["ReferencedGroupInfo"]["GroupId"] for r in rules] == [new_sg["GroupId"]]
    lb = elb.describe_load_balancers(Names=[PREFIX + "alb"])["LoadBalancers"][0]
    # The target group: the listener forwards to the new one; the old one is gone.
    new_tg = elb.describe_target_groups(Names=[PREFIX + "tg-r1"])["TargetGroups"][0]
    assert new_tg["Port"] == 8081
    listener = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"][0]
    assert listener["DefaultActions"][0]["TargetGroupArn"] == new_tg["TargetGroupArn"] != old_tg
    assert old_tg not in {t["TargetGroupArn"] for t in elb.describe_target_groups()["TargetGroups"]}
    assert cli("plan", "--detailed-exitcode", ok=None).exit_code == 0

    # A second replacement takes the next name and frees the one before.
    code.update(pg="parameters, third copy")
    cli("apply", "--auto-approve")
    db = rds.describe_db_instances(DBInstanceIdentifier=PREFIX + "db")["DBInstances"][0]
    assert [g["DBParameterGroupName"] for g in db["DBParameterGroups"]] == [PREFIX + "pg-r2"]
    names = {g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]}
    assert PREFIX + "pg-r1" not in names


def test_delete_before_replace_keeps_the_old_order_and_the_in_use_group_is_refused(aws, code):
    """Lifecycle.delete_before_replace (read nowhere before issue 13) is honoured: the plan marks it."""
    code["dbr"] = True
    cli("apply", "--auto-approve")
    code["pg"] = "database parameters"
    assert "main.pg (rds.DBParameterGroup) replace: Description cannot change in place [delete first]" \
        in one_line(cli("plan").output)


MSK: dict[str, Any] = {"versions": ["3.7.x"]}
IAM_AUTH = {"Sasl": {"Iam": {"Enabled": True}}, "Unauthenticated": {"Enabled": False}}


def build_msk(env: str) -> Plan:
    """An MSK cluster on a configuration of its own; MSK takes the subnet and group ids as given."""
    plan = Plan(project="genai-demo", env=env, region=settings.REGION, tags={"owner": "tests"})
    s = plan.stack("main")
    cfg = s.add(Configuration("kafka_config", KafkaVersions=list(MSK["versions"]),
                              ServerProperties="auto.create.topics.enable=false"))
    s.add(Cluster("kafka", KafkaVersion="3.7.x", NumberOfBrokerNodes=2, ClientAuthentication=IAM_AUTH,
                  BrokerNodeGroupInfo={"InstanceType": "kafka.m7g.large", "ClientSubnets": ["subnet-0a1", "subnet-0b2"],
                                       "SecurityGroups": ["sg-0c3"],
                                       "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}}},
                  ConfigurationInfo={"Arn": cfg["Arn"], "Revision": cfg["LatestRevision"]}))
    return plan


MSK_PLAN = install_plan("replace_in_use_msk", build_msk)


def test_an_in_use_msk_configuration_is_replaced_create_first(aws):
    """D1's MSK case: AWS refuses to delete a configuration a cluster uses (strict rule in-use), so the new
    configuration is made, the cluster moved to it (UpdateClusterConfiguration), then the old one deleted."""
    aws.rules.configure("async-modify", seconds=0.1)
    kafka = aws.client("kafka")
    MSK["versions"] = ["3.7.x"]
    try:
        infra("apply", "--auto-approve", "--plan", MSK_PLAN, "--env", "dev")
        old = {c["Name"]: c["Arn"] for c in kafka.list_configurations()["Configurations"]}[PREFIX + "kafka-config"]
        trips = strict.trips().get("in-use", 0)

        MSK["versions"] = ["3.6.0", "3.7.x"]
        shown = one_line(infra("plan", "--plan", MSK_PLAN, "--env", "dev").output)
        assert "main.kafka_config (kafka.Configuration) replace: KafkaVersions cannot change in place" in shown
        assert "main.kafka (kafka.Cluster) update" in shown and "[DESTROYS DATA]" not in shown
        infra("apply", "--auto-approve", "--plan", MSK_PLAN, "--env", "dev")
        assert strict.trips().get("in-use", 0) == trips  # the old one was not deleted while in use

        configs = {c["Name"]: c for c in kafka.list_configurations()["Configurations"] if c.get("State") != "DELETING"}
        new = configs[PREFIX + "kafka-config-r1"]
        assert new["KafkaVersions"] == ["3.6.0", "3.7.x"] and PREFIX + "kafka-config" not in configs
        cluster = kafka.list_clusters_v2()["ClusterInfoList"][0]
        assert cluster["Provisioned"]["CurrentBrokerSoftwareInfo"]["ConfigurationArn"] == new["Arn"] != old
        assert infra("plan", "--plan", MSK_PLAN, "--env", "dev", "--detailed-exitcode", ok=None).exit_code == 0
    finally:
        MSK["versions"] = ["3.7.x"]
