"""EKS extension: update_cluster_version, describe_update/list_updates, partial config updates, node groups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/eks"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def check_eks(client: Callable[[str], Any]) -> None:
    eks = client("eks")
    cluster = eks.create_cluster(name="c", version="1.30", roleArn=ROLE, resourcesVpcConfig={
        "subnetIds": ["subnet-a", "subnet-b"], "endpointPublicAccess": True, "endpointPrivateAccess": False})["cluster"]
    assert cluster["status"] == "ACTIVE" and cluster["version"] == "1.30"

    update = eks.update_cluster_version(name="c", version="1.31")["update"]
    assert update["type"] == "VersionUpdate" and {"type": "Version", "value": "1.31"} in update["params"]
    assert eks.describe_update(name="c", updateId=update["id"])["update"]["status"] == "Successful"
    assert eks.describe_cluster(name="c")["cluster"]["version"] == "1.31"
    assert eks.list_updates(name="c")["updateIds"] == [update["id"]]
    with pytest.raises(ClientError) as exc:
        eks.update_cluster_version(name="c", version="1.33")  # two minor versions at once
    assert code(exc) == "InvalidParameterException"

    endpoint = eks.update_cluster_config(name="c", resourcesVpcConfig={"endpointPrivateAccess": True})["update"]
    assert endpoint["type"] == "EndpointAccessUpdate"
    vpc = eks.describe_cluster(name="c")["cluster"]["resourcesVpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["subnetIds"] == ["subnet-a", "subnet-b"]  # merged, not replaced
    logging = eks.update_cluster_config(name="c", logging={"clusterLogging": [
        {"types": ["api", "audit"], "enabled": True}]})["update"]
    assert logging["type"] == "LoggingUpdate"
    enabled = [x for x in eks.describe_cluster(name="c")["cluster"]["logging"]["clusterLogging"] if x["enabled"]]
    assert enabled[0]["types"] == ["api", "audit"]

    ng = eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=ROLE, subnets=["subnet-a"],
                              scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 2})["nodegroup"]
    assert ng["version"] == "1.31"  # AWS defaults a node group to its cluster's version
    scale = eks.update_nodegroup_config(clusterName="c", nodegroupName="ng",
                                        scalingConfig={"desiredSize": 3})["update"]
    assert eks.describe_update(name="c", nodegroupName="ng", updateId=scale["id"])["update"]["status"] == \
        "Successful"
    assert eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["scalingConfig"][
        "desiredSize"] == 3
    with pytest.raises(ClientError) as exc:
        eks.update_nodegroup_config(clusterName="c", nodegroupName="ng", scalingConfig={"desiredSize": 9})
    assert code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        eks.describe_update(name="c", updateId="00000000-0000-0000-0000-000000000000")
    assert code(exc) == "ResourceNotFoundException"

    eks.delete_nodegroup(clusterName="c", nodegroupName="ng")
    eks.delete_cluster(name="c")
    for call in (lambda: eks.describe_cluster(name="c"), lambda: eks.update_cluster_version(name="c", version="1.32"),
                 lambda: eks.list_updates(name="c")):
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == "ResourceNotFoundException"


@pytest.mark.sandbox_rules_off("async-modify")  # checks shapes after each change, not its timing (test_strict_modify.py)
def test_eks_in_process(aws):
    check_eks(aws.client)


@pytest.mark.sandbox_rules_off("async-modify")  # checks shapes after each change, not its timing (test_strict_modify.py)
def test_eks_nodegroup_version_update(aws):
    eks = aws.client("eks")
    eks.create_cluster(name="c", version="1.31", roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-a"]})
    eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=ROLE, subnets=["subnet-a"], version="1.30")
    update = eks.update_nodegroup_version(clusterName="c", nodegroupName="ng")["update"]
    assert update["type"] == "VersionUpdate"
    assert eks.describe_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["version"] == "1.31"
    assert eks.list_updates(name="c", nodegroupName="ng")["updateIds"] == [update["id"]]


def test_rule_eks_oidc_per_cluster(aws):
    """Raw boto3: two clusters (and a re-created one) each have an issuer of their own, shaped as AWS's."""
    import re

    eks = aws.client("eks")
    vpc = {"subnetIds": ["subnet-a", "subnet-b"]}
    issuers = []
    for name in ("dev", "production"):
        eks.create_cluster(name=name, version="1.30", roleArn=ROLE, resourcesVpcConfig=vpc)
        issuers.append(eks.describe_cluster(name=name)["cluster"]["identity"]["oidc"]["issuer"])
    pattern = rf"https://oidc\.eks\.{re.escape(aws.region)}\.amazonaws\.com/id/[0-9A-F]{{32}}"
    assert all(re.fullmatch(pattern, i) for i in issuers), issuers
    assert issuers[0] != issuers[1]
    assert eks.describe_cluster(name="dev")["cluster"]["identity"]["oidc"]["issuer"] == issuers[0]  # stable
    eks.delete_cluster(name="dev")
    eks.get_waiter("cluster_deleted").wait(name="dev", WaiterConfig={"Delay": 0.01, "MaxAttempts": 100})
    eks.create_cluster(name="dev", version="1.30", roleArn=ROLE, resourcesVpcConfig=vpc)
    assert eks.describe_cluster(name="dev")["cluster"]["identity"]["oidc"]["issuer"] not in issuers
