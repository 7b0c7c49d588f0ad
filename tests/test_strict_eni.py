"""Strict rules lingering-enis and in-use, with raw boto3 (the tool is not involved).

What AWS does after a VPC-attached service is deleted (its interfaces linger,
holding the security group, the subnet and the IGW's detach) and what it
refuses to delete while something uses it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox import strict
from tests.helpers import ec2_visible, issued_certificate

WINDOW = 1.0  # room for a refusal right after the delete on a busy machine


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


def _until(test: Callable[[], bool], timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.05)


def _net(aws: Any, public: bool = False) -> dict[str, Any]:
    ec2 = aws.client("ec2")
    aws.rules.configure("ec2-consistency", seconds=0.2)  # raw set-up waits it out below, as a script must
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.7.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in enumerate(zones)]
    sg = ec2.create_security_group(GroupName="svc", Description="svc", VpcId=vpc)["GroupId"]
    ec2_visible(ec2, SubnetIds=subnets, GroupIds=[sg])
    return {"vpc": vpc, "igw": igw, "subnets": subnets, "sg": sg}


def _enis(aws: Any, sg: str) -> list[dict[str, Any]]:
    return aws.client("ec2").describe_network_interfaces(
        Filters=[{"Name": "group-id", "Values": [sg]}])["NetworkInterfaces"]


def test_rule_lingering_enis_alb_holds_group_subnet_and_igw(aws):
    aws.rules.configure("lingering-enis", seconds=3.0)  # in-use for 1.5 s: room for four refusals on a busy box
    n, ec2, elb = _net(aws), aws.client("ec2"), aws.client("elbv2")
    lb = elb.create_load_balancer(Name="web", Subnets=n["subnets"], SecurityGroups=[n["sg"]],
                                  Scheme="internet-facing", Type="application")["LoadBalancers"][0]
    enis = _enis(aws, n["sg"])
    assert len(enis) == 2 and {e["SubnetId"] for e in enis} == set(n["subnets"])
    suffix = lb["LoadBalancerArn"].split(":loadbalancer/")[1]
    for e in enis:
        assert e["Description"] == f"ELB {suffix}" and e["RequesterId"] == "amazon-elb" and e["RequesterManaged"]
        assert e["InterfaceType"] == "interface" and e["Status"] == "in-use" and e["Association"]["PublicIp"]

    elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    with pytest.raises(ClientError) as exc:
        ec2.delete_security_group(GroupId=n["sg"])
    assert _code(exc) == ("DependencyViolation", f"resource {n['sg']} has a dependent object")
    with pytest.raises(ClientError) as exc:
        ec2.delete_subnet(SubnetId=n["subnets"][0])
    assert _code(exc) == ("DependencyViolation",
                          f"The subnet '{n['subnets'][0]}' has dependencies and cannot be deleted.")
    with pytest.raises(ClientError) as exc:
        ec2.detach_internet_gateway(InternetGatewayId=n["igw"], VpcId=n["vpc"])
    assert _code(exc)[0] == "DependencyViolation" and "has some mapped public address(es)" in _code(exc)[1]
    with pytest.raises(ClientError) as exc:  # an in-use interface cannot be deleted
        ec2.delete_network_interface(NetworkInterfaceId=enis[0]["NetworkInterfaceId"])
    assert _code(exc)[0] == "InvalidNetworkInterface.InUse"

    # Then "available": it can be deleted by hand (as Terraform does), or left to go by itself.
    _until(lambda: all(e["Status"] == "available" for e in _enis(aws, n["sg"])))
    try:
        ec2.delete_network_interface(NetworkInterfaceId=enis[0]["NetworkInterfaceId"])
    except ClientError as gone:  # on a slow machine its available spell may already be over
        assert _code(pytest.ExceptionInfo.from_exc_info((type(gone), gone, gone.__traceback__)))[0] == \
            "InvalidNetworkInterfaceID.NotFound"
    _until(lambda: not _enis(aws, n["sg"]))
    ec2.detach_internet_gateway(InternetGatewayId=n["igw"], VpcId=n["vpc"])
    ec2.delete_security_group(GroupId=n["sg"])
    for s in n["subnets"]:
        ec2.delete_subnet(SubnetId=s)
    assert strict.trips().get("lingering-enis", 0) >= 4


def _opensearch(aws: Any, n: dict[str, Any]) -> tuple[str, Callable[[], None]]:
    c = aws.client("opensearch")
    # A VPC domain needs OpenSearch's service-linked role first (rule opensearch-vpc-slr).
    aws.client("iam").create_service_linked_role(AWSServiceName="opensearchservice.amazonaws.com")
    c.create_domain(DomainName="logs", EngineVersion="OpenSearch_2.11",
                    VPCOptions={"SubnetIds": n["subnets"][:1], "SecurityGroupIds": [n["sg"]]})
    return "ES logs", lambda: c.delete_domain(DomainName="logs")


def _rds(aws: Any, n: dict[str, Any]) -> tuple[str, Callable[[], None]]:
    c = aws.client("rds")
    c.create_db_subnet_group(DBSubnetGroupName="db", DBSubnetGroupDescription="db", SubnetIds=n["subnets"])
    c.create_db_instance(DBInstanceIdentifier="db1", DBInstanceClass="db.t3.micro", Engine="postgres",
                         MasterUsername="u", MasterUserPassword="password123", AllocatedStorage=20,
                         DBSubnetGroupName="db", VpcSecurityGroupIds=[n["sg"]])
    return "RDSNetworkInterface", lambda: c.delete_db_instance(DBInstanceIdentifier="db1", SkipFinalSnapshot=True)


def _redis(aws: Any, n: dict[str, Any]) -> tuple[str, Callable[[], None]]:
    c = aws.client("elasticache")
    c.create_cache_subnet_group(CacheSubnetGroupName="cache", CacheSubnetGroupDescription="c", SubnetIds=n["subnets"])
    c.create_replication_group(ReplicationGroupId="redis1", ReplicationGroupDescription="r", Engine="redis",
                               CacheNodeType="cache.t3.micro", NumCacheClusters=1, CacheSubnetGroupName="cache",
                               SecurityGroupIds=[n["sg"]])
    return "ElastiCache redis1", lambda: c.delete_replication_group(ReplicationGroupId="redis1")


def _msk(aws: Any, n: dict[str, Any]) -> tuple[str, Callable[[], None]]:
    c = aws.client("kafka")
    arn = c.create_cluster_v2(ClusterName="events", Provisioned={
        "KafkaVersion": "3.6.0", "NumberOfBrokerNodes": 2,
        "BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large", "ClientSubnets": n["subnets"],
                                "SecurityGroups": [n["sg"]]}})["ClusterArn"]
    return "[DO NOT DELETE] ENI managed by Amazon MSK for cluster events", lambda: c.delete_cluster(ClusterArn=arn)


def _eks(aws: Any, n: dict[str, Any]) -> tuple[str, Callable[[], None]]:
    c = aws.client("eks")
    c.create_cluster(name="k8s", roleArn="arn:aws:iam::123456789012:role/eks",
                     resourcesVpcConfig={"subnetIds": n["subnets"], "securityGroupIds": [n["sg"]]})
    return "Amazon EKS k8s", lambda: c.delete_cluster(name="k8s")


def _firehose(aws: Any, n: dict[str, Any]) -> tuple[str, Callable[[], None]]:
    c = aws.client("firehose")
    role = "arn:aws:iam::123456789012:role/firehose"
    c.create_delivery_stream(DeliveryStreamName="to-os", DeliveryStreamType="DirectPut",
                             ElasticsearchDestinationConfiguration={
                                 "RoleARN": role, "DomainARN": "arn:aws:es:us-east-1:123456789012:domain/logs",
                                 "IndexName": "logs", "S3Configuration": {"RoleARN": role,
                                                                          "BucketARN": "arn:aws:s3:::b"},
                                 "VpcConfiguration": {"SubnetIds": n["subnets"], "SecurityGroupIds": [n["sg"]],
                                                      "RoleARN": role}})
    return "Amazon Data Firehose to-os", lambda: c.delete_delivery_stream(DeliveryStreamName="to-os")


@pytest.mark.parametrize("make", [_opensearch, _rds, _redis, _msk, _eks, _firehose],
                         ids=["opensearch", "rds", "elasticache", "msk", "eks", "firehose"])
def test_rule_lingering_enis_per_service(aws, make):
    aws.rules.configure("lingering-enis", seconds=WINDOW)
    n, ec2 = _net(aws), aws.client("ec2")
    description, delete = make(aws, n)
    enis = _enis(aws, n["sg"])
    assert enis and all(e["Description"] == description and e["RequesterManaged"] for e in enis)
    assert all(e["Status"] == "in-use" and "Association" not in e for e in enis)  # private: no public address
    deleted_at = time.monotonic()  # before the call: the window starts inside it
    delete()
    with pytest.raises(ClientError) as exc:
        ec2.delete_security_group(GroupId=n["sg"])
    assert _code(exc)[0] == "DependencyViolation"
    _until(lambda: not _enis(aws, n["sg"]))
    assert time.monotonic() - deleted_at >= WINDOW
    ec2.delete_security_group(GroupId=n["sg"])


@pytest.mark.sandbox_rules_off("lingering-enis")
def test_rule_lingering_enis_off_is_moto(aws):
    n, ec2, elb = _net(aws), aws.client("ec2"), aws.client("elbv2")
    elb.create_load_balancer(Name="web", Subnets=n["subnets"], SecurityGroups=[n["sg"]])
    assert _enis(aws, n["sg"]) == []
    ec2.delete_security_group(GroupId=n["sg"])


def test_rule_lingering_enis_user_enis_hold_too(aws):
    """Any interface holds its group and subnet, not only a service's (AWS refuses the same way)."""
    n, ec2 = _net(aws), aws.client("ec2")
    eni = ec2.create_network_interface(SubnetId=n["subnets"][0], Groups=[n["sg"]])["NetworkInterface"]
    with pytest.raises(ClientError) as exc:
        ec2.delete_security_group(GroupId=n["sg"])
    assert _code(exc)[0] == "DependencyViolation"
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])  # available: the user may
    ec2.delete_security_group(GroupId=n["sg"])


# -- in-use --------------------------------------------------------------------------------------------


def test_rule_in_use_db_parameter_group_with_members(aws):
    n, rds = _net(aws), aws.client("rds")
    rds.create_db_parameter_group(DBParameterGroupName="pg", DBParameterGroupFamily="postgres16", Description="p")
    rds.create_db_subnet_group(DBSubnetGroupName="db", DBSubnetGroupDescription="db", SubnetIds=n["subnets"])
    rds.create_db_instance(DBInstanceIdentifier="db1", DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="u", MasterUserPassword="password123", AllocatedStorage=20,
                           DBSubnetGroupName="db", DBParameterGroupName="pg")
    with pytest.raises(ClientError) as exc:
        rds.delete_db_parameter_group(DBParameterGroupName="pg")
    assert _code(exc)[0] == "InvalidDBParameterGroupState"
    rds.delete_db_instance(DBInstanceIdentifier="db1", SkipFinalSnapshot=True)
    rds.delete_db_parameter_group(DBParameterGroupName="pg")


def test_rule_in_use_cache_parameter_group_with_members(aws):
    n, ec = _net(aws), aws.client("elasticache")
    ec.create_cache_parameter_group(CacheParameterGroupName="cpg", CacheParameterGroupFamily="redis7",
                                    Description="c")
    ec.create_cache_subnet_group(CacheSubnetGroupName="cache", CacheSubnetGroupDescription="c", SubnetIds=n["subnets"])
    ec.create_replication_group(ReplicationGroupId="redis1", ReplicationGroupDescription="r", Engine="redis",
                                CacheNodeType="cache.t3.micro", NumCacheClusters=1, CacheSubnetGroupName="cache",
                                CacheParameterGroupName="cpg")
    with pytest.raises(ClientError) as exc:
        ec.delete_cache_parameter_group(CacheParameterGroupName="cpg")
    assert _code(exc)[0] == "InvalidCacheParameterGroupState"


def test_rule_in_use_msk_configuration_used_by_a_cluster(aws):
    n, k = _net(aws), aws.client("kafka")
    cfg = k.create_configuration(Name="cfg", KafkaVersions=["3.6.0"], ServerProperties=b"auto.create.topics.enable=false")
    k.create_cluster(ClusterName="events", KafkaVersion="3.6.0", NumberOfBrokerNodes=2,
                     BrokerNodeGroupInfo={"InstanceType": "kafka.m5.large", "ClientSubnets": n["subnets"]},
                     ConfigurationInfo={"Arn": cfg["Arn"], "Revision": 1})
    with pytest.raises(ClientError) as exc:
        k.delete_configuration(Arn=cfg["Arn"])
    assert _code(exc)[0] == "BadRequestException"


def _alb_with_listener(aws: Any, n: dict[str, Any], cert: str | None = None) -> dict[str, str]:
    elb = aws.client("elbv2")
    lb = elb.create_load_balancer(Name="web", Subnets=n["subnets"], SecurityGroups=[n["sg"]])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=n["vpc"], TargetType="ip")[
        "TargetGroups"][0]["TargetGroupArn"]
    kw: dict[str, Any] = {"Protocol": "HTTP", "Port": 80}
    if cert:
        kw = {"Protocol": "HTTPS", "Port": 443, "Certificates": [{"CertificateArn": cert}]}
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], **kw,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]
    return {"lb": lb["LoadBalancerArn"], "tg": tg, "listener": listener["ListenerArn"]}


@pytest.mark.sandbox_rules_off("waf-unavailable-entity")
def test_rule_in_use_web_acl_associated(aws):
    n, waf = _net(aws), aws.client("wafv2")
    alb = _alb_with_listener(aws, n)
    acl = waf.create_web_acl(Name="acl", Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig={
        "SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "acl"})["Summary"]
    waf.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=alb["lb"])
    with pytest.raises(ClientError) as exc:
        waf.delete_web_acl(Name="acl", Scope="REGIONAL", Id=acl["Id"], LockToken=acl["LockToken"])
    assert _code(exc)[0] == "WAFAssociatedItemException"


def test_rule_in_use_target_group_behind_a_listener(aws):
    n, elb = _net(aws), aws.client("elbv2")
    alb = _alb_with_listener(aws, n)
    with pytest.raises(ClientError) as exc:
        elb.delete_target_group(TargetGroupArn=alb["tg"])
    assert _code(exc)[0] == "ResourceInUse"


def test_rule_in_use_certificate_on_a_listener(aws):
    n, acm, elb = _net(aws), aws.client("acm"), aws.client("elbv2")
    cert = issued_certificate(aws, "shop.example.com")
    alb = _alb_with_listener(aws, n, cert=cert)
    with pytest.raises(ClientError) as exc:
        acm.delete_certificate(CertificateArn=cert)
    assert _code(exc)[0] == "ResourceInUseException"
    elb.delete_listener(ListenerArn=alb["listener"])
    acm.delete_certificate(CertificateArn=cert)


def test_rule_in_use_eks_cluster_with_node_groups_or_fargate_profiles(aws):
    n, eks = _net(aws), aws.client("eks")
    role = "arn:aws:iam::123456789012:role/eks"
    eks.create_cluster(name="k8s", roleArn=role, resourcesVpcConfig={"subnetIds": n["subnets"]})
    eks.create_nodegroup(clusterName="k8s", nodegroupName="ng", nodeRole=role, subnets=n["subnets"])
    with pytest.raises(ClientError) as exc:
        eks.delete_cluster(name="k8s")
    assert _code(exc)[0] == "ResourceInUseException"
    eks.delete_nodegroup(clusterName="k8s", nodegroupName="ng")
    eks.create_fargate_profile(clusterName="k8s", fargateProfileName="fp", podExecutionRoleArn=role,
                               subnets=n["subnets"], selectors=[{"namespace": "default"}])
    with pytest.raises(ClientError) as exc:
        eks.delete_cluster(name="k8s")
    assert _code(exc)[0] == "ResourceInUseException"
    eks.delete_fargate_profile(clusterName="k8s", fargateProfileName="fp")
    eks.delete_cluster(name="k8s")


def test_rule_in_use_security_group_referenced_by_another_group(aws):
    n, ec2 = _net(aws), aws.client("ec2")
    data = ec2.create_security_group(GroupName="data", Description="data", VpcId=n["vpc"])["GroupId"]
    ec2_visible(ec2, GroupIds=[data])
    ec2.authorize_security_group_ingress(GroupId=data, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": n["sg"]}]}])
    ec2.authorize_security_group_ingress(GroupId=n["sg"], IpPermissions=[{  # a self-reference does not hold it
        "IpProtocol": "tcp", "FromPort": 1, "ToPort": 2, "UserIdGroupPairs": [{"GroupId": n["sg"]}]}])
    with pytest.raises(ClientError) as exc:
        ec2.delete_security_group(GroupId=n["sg"])
    assert _code(exc) == ("DependencyViolation", f"resource {n['sg']} has a dependent object")
    ec2.delete_security_group(GroupId=data)
    ec2.delete_security_group(GroupId=n["sg"])
    assert json.dumps(strict.trips())  # the registry counted them


def test_rule_waf_unavailable_entity_right_after_the_load_balancer(aws):
    aws.rules.configure("waf-unavailable-entity", seconds=0.5)
    n, waf = _net(aws), aws.client("wafv2")
    alb = _alb_with_listener(aws, n)
    acl = waf.create_web_acl(Name="acl", Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig={
        "SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "acl"})["Summary"]
    with pytest.raises(ClientError) as exc:
        waf.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=alb["lb"])
    assert _code(exc)[0] == "WAFUnavailableEntityException"
    time.sleep(0.5)
    waf.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=alb["lb"])


# -- the tool's cleanup (resources/ec2.py delete_lingering_enis) ----------------------------------------


def test_security_group_delete_removes_only_available_service_enis(aws, monkeypatch):
    """The group's delete removes what AWS left "available" behind a service, never the user's interface,
    and never one still in use: with either left, AWS's DependencyViolation stands (the dependency budget
    of the retry policy waits it out).

    The interfaces' phases run on a virtual clock: on a loaded machine a real 1.5 s in-use phase could end
    before the first delete, and the test would see them already cleaned up."""
    from orchestrator.executor import VirtualClock
    from resources.ec2 import SecurityGroup
    from sandbox import lifecycle

    clock = VirtualClock()
    monkeypatch.setattr(lifecycle, "now", clock.now)
    aws.rules.configure("lingering-enis", seconds=3.0)
    n, ec2, elb = _net(aws), aws.client("ec2"), aws.client("elbv2")
    sg = SecurityGroup("svc_sg", VpcId=n["vpc"])
    sg.stack = "main"
    ctx = aws.ctx("svc_sg")
    lb = elb.create_load_balancer(Name="web", Subnets=n["subnets"], SecurityGroups=[n["sg"]])["LoadBalancers"][0]
    elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    mine = ec2.create_network_interface(SubnetId=n["subnets"][0], Groups=[n["sg"]],
                                        Description="ELB app/mine/0")["NetworkInterface"]["NetworkInterfaceId"]

    with pytest.raises(ClientError) as exc:  # the service's are in use: left alone
        sg.delete(ctx, n["sg"])
    assert _code(exc)[0] == "DependencyViolation"
    assert len(_enis(aws, n["sg"])) == 3

    clock.sleep(2.0)  # into the available half of the window
    assert all(e["Status"] == "available" for e in _enis(aws, n["sg"]))
    with pytest.raises(ClientError) as exc:  # the service's are deleted; the user's (not requester-managed) stays
        sg.delete(ctx, n["sg"])
    assert _code(exc)[0] == "DependencyViolation"
    assert [e["NetworkInterfaceId"] for e in _enis(aws, n["sg"])] == [mine]

    ec2.delete_network_interface(NetworkInterfaceId=mine)
    sg.delete(ctx, n["sg"])
    assert ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [n["sg"]]}])["SecurityGroups"] == []


@pytest.mark.parametrize("service", ["rds", "elasticache"])
def test_parameter_group_delete_waits_for_its_last_member(aws, service):
    """The group's delete meets the in-use refusal while its member is being deleted, and its catalogue
    entry retries it (recorded in the run's retry log) until the member is gone."""
    import threading

    from orchestrator.apply import RetryPolicy
    from resources.elasticache import ParameterGroup
    from resources.rds import DBParameterGroup

    n = _net(aws)
    if service == "rds":
        c = aws.client("rds")
        c.create_db_parameter_group(DBParameterGroupName="pg", DBParameterGroupFamily="postgres16", Description="p")
        c.create_db_subnet_group(DBSubnetGroupName="db", DBSubnetGroupDescription="db", SubnetIds=n["subnets"])
        c.create_db_instance(DBInstanceIdentifier="db1", DBInstanceClass="db.t3.micro", Engine="postgres",
                             MasterUsername="u", MasterUserPassword="password123", AllocatedStorage=20,
                             DBSubnetGroupName="db", DBParameterGroupName="pg")
        group: Any = DBParameterGroup("pg", Family="postgres16")
        code = "InvalidDBParameterGroupState"

        def drop() -> None:
            c.delete_db_instance(DBInstanceIdentifier="db1", SkipFinalSnapshot=True)
    else:
        c = aws.client("elasticache")
        c.create_cache_parameter_group(CacheParameterGroupName="pg", CacheParameterGroupFamily="redis7",
                                       Description="c")
        c.create_cache_subnet_group(CacheSubnetGroupName="cache", CacheSubnetGroupDescription="c",
                                    SubnetIds=n["subnets"])
        c.create_replication_group(ReplicationGroupId="redis1", ReplicationGroupDescription="r", Engine="redis",
                                   CacheNodeType="cache.t3.micro", NumCacheClusters=1,
                                   CacheSubnetGroupName="cache", CacheParameterGroupName="pg")
        group = ParameterGroup("pg", CacheParameterGroupFamily="redis7")
        code = "InvalidCacheParameterGroupState"

        def drop() -> None:
            c.delete_replication_group(ReplicationGroupId="redis1")
    group.stack = "main"
    policy = RetryPolicy(initial=0.01, dependency_seconds=0.0)  # only the catalogue entry may retry
    timers: list[threading.Timer] = []

    def attempt() -> None:
        try:
            group.delete(aws.ctx("pg"), "pg")
        except ClientError:
            if not timers:  # refused while the member exists: now the member goes, a moment later
                timers.append(threading.Timer(0.2, drop))
                timers[0].start()
            raise

    try:
        policy.delete(attempt, catalogue=type(group).retries, address="main.pg", dependency_seconds=0.0)
    finally:
        for t in timers:
            t.join()
    assert [(r.address, r.code) for r in policy.records()] == [("main.pg", code)]
