"""Kill-anywhere: a real CLI process SIGKILLed at chosen points, then the next run converges.

Each case runs `python -m tests.faults apply|destroy ...` (the CLI with the
fault hooks of tests/faults.py) against a sandbox server of this test
module, killed with SIGKILL right before or right after the n-th call of one
AWS operation: before a create call, after a create call but before its
state write, in the middle of a waiter, between the calls of a
multi-call create, during a delete, around the state writes themselves.
Then, as an operator would: `state unlock --force` (the holder is dead),
and the same command again. The run must converge: every planned resource
recorded once, nothing pending, no live resource of this env that the state
does not name (listed by tag in every service, and untaggable children
counted per parent), and the plan shows no change.

Most points use `faults_small` (the real network and security layers and a
few config parameters, 65 resources, ~7 s an apply); a few use the full dev
main stack.
"""

from __future__ import annotations

import os

import pytest

from tests import faults
from tests.faults import Cli as Run

pytestmark = pytest.mark.slow
sandbox = faults.sandbox_fixture()

SMALL = ("--plan", "faults_small", "--env", "dev")
SMALL_ADDRS = faults.small_addrs()

# Every case costs a few CLI runs, so the default set is chosen to cover each kind of point once
# (22 points with the full-stack test); INFRA_CRASH_ALL=1 adds the rest (31 in all).
ALL = os.environ.get("INFRA_CRASH_ALL") == "1"

# (kill point, what it interrupts) for an apply from nothing.
APPLY_POINTS = [
    ("after:dynamodb.TransactWriteItems:1", "right after the first intent record, before any AWS call"),
    ("before:ec2.CreateVpc:1", "before a create call (intent recorded)"),
    ("after:ec2.CreateVpc:1", "after the create call, before the state write"),
    ("after:ec2.CreateSubnet:4", "a subnet created, not recorded, siblings in flight"),
    ("after:ec2.AttachInternetGateway:1", "gateway created and attached (multi-call create), not recorded"),
    ("after:ec2.AllocateAddress:1", "Elastic IP allocated, not recorded"),
    ("before:ec2.DescribeNatGateways:2", "during the NAT gateway's waiter"),
    ("after:ec2.AssociateRouteTable:3", "an association made (untaggable, found by subnet)"),
    ("after:ec2.CreateRoute:1", "a route made (untaggable, found by table and destination)"),
    ("after:ec2.AuthorizeSecurityGroupIngress:2", "a security group rule made (untaggable)"),
    ("after:kms.CreateKey:1", "KMS key created (cannot be deleted at once: must be adopted)"),
    ("after:secretsmanager.CreateSecret:1", "generated secret stored, not recorded"),
    ("after:s3.PutBucketVersioning:1", "bucket created and half configured"),
    ("after:ssm.PutParameter:2", "parameter written, not recorded"),
] + ([
    ("after:ec2.CreateInternetGateway:1", "gateway created, not yet attached"),
    ("after:ec2.CreateNatGateway:1", "NAT gateway requested, before its wait"),
    ("after:ec2.CreateVpcEndpoint:1", "S3 gateway endpoint created, not recorded"),
    ("after:kms.CreateAlias:1", "alias created, not recorded"),
    ("after:s3.CreateBucket:1", "bucket created, not yet configured"),
    ("before:dynamodb.TransactWriteItems:40", "before a state write late in the run"),
] if ALL else [])


@pytest.mark.parametrize("point,what", APPLY_POINTS, ids=[p for p, _ in APPLY_POINTS])
def test_apply_killed_then_next_apply_converges(sandbox, point, what):
    run = Run(sandbox)
    run.killed("apply", *SMALL, "--auto-approve", kill=point)
    run.unlock(cli=False)
    run.ok("apply", *SMALL, "--auto-approve")
    faults.check_converged(run.client, run.records(), SMALL_ADDRS)


DESTROY_POINTS = [
    ("after:ec2.DeleteNatGateway:1", "NAT gateway delete requested, before its wait"),
    ("after:kms.ScheduleKeyDeletion:1", "key scheduled for deletion, record not removed"),
    ("before:ec2.DeleteVpc:1", "last delete about to be called"),
] + ([
    ("after:ec2.DeleteSubnet:2", "a subnet deleted, its record not yet removed"),
    ("after:s3.DeleteBucket:1", "bucket emptied and deleted, record not removed"),
] if ALL else [])


@pytest.mark.parametrize("point,what", DESTROY_POINTS, ids=[p for p, _ in DESTROY_POINTS])
def test_destroy_killed_then_next_destroy_leaves_nothing(sandbox, point, what):
    run = Run(sandbox)
    run.ok("apply", *SMALL, "--auto-approve")
    run.killed("destroy", *SMALL, "--auto-approve", kill=point)
    run.unlock(cli=point.startswith("before:"))
    run.ok("destroy", *SMALL, "--auto-approve")
    assert run.records() == {}
    assert faults.tagged_resources(run.client, "genai-demo", "dev") == []


UPDATE_POINTS = [
    ("after:ec2.ModifyVpcAttribute:1", "in-place update made, record still `updating`"),
    ("after:ec2.DeleteSecurityGroup:1", "create-first replacement: old group deleted, the record still lists it"),
] + ([
    ("after:ec2.CreateSecurityGroup:1", "create-first replacement: new group (-r1) created, not recorded"),
] if ALL else [])


@pytest.mark.parametrize("point,what", UPDATE_POINTS, ids=[p for p, _ in UPDATE_POINTS])
def test_changing_apply_killed_then_next_apply_converges(sandbox, point, what):
    run = Run(sandbox)
    run.ok("apply", *SMALL, "--auto-approve")
    variant = {"INFRA_FAULTS_VARIANT": "1"}
    run.killed("apply", *SMALL, "--auto-approve", kill=point, env=variant)
    run.unlock()
    run.ok("apply", *SMALL, "--auto-approve", env=variant)
    recs = run.records()
    faults.check_converged(run.client, recs, SMALL_ADDRS)
    ec2 = run.client("ec2")
    vpc = recs["main.vpc"].physical_id
    assert ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"] is False
    sg = ec2.describe_security_groups(GroupIds=[recs["main.app_sg"].physical_id])["SecurityGroups"][0]
    assert sg["Description"] == faults.VARIANT_APP_SG_DESCRIPTION
    again = run.ok("plan", *SMALL, "--detailed-exitcode", env=variant)
    assert "0 to create, 0 to update, 0 to replace, 0 to delete" in again.stdout
    if point == UPDATE_POINTS[0][0]:
        checker_sees_what_a_crash_could_leave(run, recs)


def checker_sees_what_a_crash_could_leave(run, recs):
    """The convergence check is not vacuous: a duplicate, an untracked resource and a stray rule all fail it."""
    ec2 = run.client("ec2")
    tags = [{"Key": "infra:project", "Value": "genai-demo"}, {"Key": "infra:env", "Value": "dev"}]
    dup = ec2.create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [
        *tags, {"Key": "infra:address", "Value": "main.vpc"}]}])["Vpc"]["VpcId"]
    lost = run.client("secretsmanager").create_secret(Name="genai-demo-dev-lost", SecretString="x", Tags=[
        *tags, {"Key": "infra:address", "Value": "main.lost_secret"}])["ARN"]
    ec2.authorize_security_group_ingress(GroupId=recs["main.app_sg"].physical_id, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 9999, "ToPort": 9999, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    with pytest.raises(AssertionError) as err:
        faults.check_converged(run.client, run.records(), SMALL_ADDRS)
    msg = str(err.value)
    assert "duplicate ec2:vpc for main.vpc" in msg and dup in msg
    assert f"untracked {lost}" in msg
    assert "security group rules in AWS that no record accounts for" in msg


FULL = ("--env", "dev", "--stack", "main")


def test_full_dev_main_stack_killed_twice_then_converges_and_destroy_killed(sandbox):
    """The whole dev main stack: two kills during one apply's work, one during destroy."""
    from plans import load

    addrs = {r.address for r in load("genai_demo", "dev").resources(["main"])}
    run = Run(sandbox)
    run.killed("apply", *FULL, "--auto-approve", kill="after:rds.CreateDBInstance:1")
    run.unlock()
    # The database's own parameters cannot have been written before its create call: a certain second point.
    run.killed("apply", *FULL, "--auto-approve", kill="after:ssm.PutParameter:1")
    run.unlock()
    run.ok("apply", *FULL, "--auto-approve")
    faults.check_converged(run.client, run.records(), addrs)
    # Secrets never in state: every secret value read back from Secrets Manager / SSM, searched for in
    # every item of the state table (records, lock, metadata, history) by a full scan.
    secrets = faults.secret_values(run.client)
    assert any("app-user:password" in k for k in secrets) and any("redis" in k for k in secrets), sorted(secrets)
    assert faults.secrets_in_state(run.client, faults.TABLE) == []
    leak = {"pk": {"S": "genai-demo#dev#leak"}, "sk": {"S": "x"}, "v": {"S": f"pw={next(iter(secrets.values()))}"}}
    ddb = run.client("dynamodb")
    ddb.put_item(TableName=faults.TABLE, Item=leak)
    assert faults.secrets_in_state(run.client, faults.TABLE)  # the scan would see one
    ddb.delete_item(TableName=faults.TABLE, Key={"pk": leak["pk"], "sk": leak["sk"]})
    run.killed("destroy", *FULL, "--auto-approve", kill="after:elasticache.DeleteReplicationGroup:1")
    run.unlock()
    run.ok("destroy", *FULL, "--auto-approve")
    assert run.records() == {}
    assert faults.tagged_resources(run.client, "genai-demo", "dev") == []
