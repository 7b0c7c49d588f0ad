"""Round trips of iam.Role and iam.OpenIDConnectProvider on moto, and the policy_document helper."""

import json

import pytest

from core.errors import PlanError
from resources.base import Join, Ref, resolve
from resources.iam import EKS_OIDC_THUMBPRINT, OpenIDConnectProvider, Role, canonical, policy_document

EC2_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
READ_LOGS = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "logs:GetLogEvents", "Resource": "*"}]}
WORKER = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"
ECR_RO = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
CNI = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"


def test_role_round_trip(aws):
    role = Role("node_role", AssumeRolePolicyDocument=EC2_TRUST, ManagedPolicyArns=[WORKER, ECR_RO],
                InlinePolicies={"read-logs": READ_LOGS}, Description="EKS nodes")
    role.stack = "main"
    ctx = aws.ctx("node_role")
    name, out = role.create(ctx, dict(role.properties))
    assert name == "genai-demo-test-node-role"
    iam = aws.client("iam")
    seen = iam.get_role(RoleName=name)["Role"]
    assert out["Arn"] == seen["Arn"] and seen["AssumeRolePolicyDocument"] == EC2_TRUST
    assert {t["Key"]: t["Value"] for t in seen["Tags"]}["infra:address"] == "main.node_role"
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]}
    assert attached == {WORKER, ECR_RO}
    assert iam.get_role_policy(RoleName=name, PolicyName="read-logs")["PolicyDocument"] == READ_LOGS

    assert role.read(ctx, name) == dict(role.properties)  # no drift right after create

    # update: swap one managed policy, drop the inline one, add another, change the trust.
    lambda_trust = json.loads(json.dumps(EC2_TRUST).replace("ec2.", "lambda."))
    new = dict(role.properties, ManagedPolicyArns=[CNI, WORKER], InlinePolicies={"other": READ_LOGS},
               AssumeRolePolicyDocument=lambda_trust, MaxSessionDuration=7200)
    role.update(ctx, name, dict(role.properties), new)
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]}
    assert attached == {WORKER, CNI}
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["other"]
    seen = iam.get_role(RoleName=name)["Role"]
    assert seen["AssumeRolePolicyDocument"] == lambda_trust and seen["MaxSessionDuration"] == 7200

    assert role.find(ctx)[0] == name
    # Something outside the plan hung an instance profile on the role: delete must still work.
    iam.create_instance_profile(InstanceProfileName="stray")
    iam.add_role_to_instance_profile(InstanceProfileName="stray", RoleName=name)
    role.delete(ctx, name)
    role.delete(ctx, name)  # idempotent
    assert role.read(ctx, name) is None
    assert role.find(ctx) is None
    assert not iam.list_instance_profiles()["InstanceProfiles"]


def test_role_rejects_bad_input():
    with pytest.raises(PlanError, match="unknown property"):
        Role("r", AssumeRolePolicyDocument=EC2_TRUST, Policies=[])
    with pytest.raises(PlanError, match="ManagedPolicyArns must be list"):
        Role("r", AssumeRolePolicyDocument=EC2_TRUST, ManagedPolicyArns="arn:aws:iam::aws:policy/X")
    with pytest.raises(PlanError, match="missing required property AssumeRolePolicyDocument"):
        Role("r")
    with pytest.raises(PlanError, match="not a JSON policy document"):
        Role("r", AssumeRolePolicyDocument="{not json")
    with pytest.raises(PlanError, match="MaxSessionDuration"):
        Role("r", AssumeRolePolicyDocument=EC2_TRUST, MaxSessionDuration=60)


def test_policy_document_puts_refs_in_keys():
    provider = OpenIDConnectProvider("oidc", Url="https://oidc.example/id/ABC")
    provider.stack = "main"
    doc = {"Statement": [{"Principal": {"Federated": provider["Arn"]},
                          "Condition": {"StringEquals": {Join(provider["Issuer"], ":sub"): "system:serviceaccount:a:b"}}}]}
    joined = policy_document(doc)
    assert isinstance(joined, Join)
    values = {"Arn": "arn:aws:iam::1:oidc-provider/oidc.example/id/ABC", "Issuer": "oidc.example/id/ABC"}
    text = resolve(joined, lambda ref: values[ref.attr])
    assert json.loads(text) == {"Statement": [{"Principal": {"Federated": values["Arn"]}, "Condition": {
        "StringEquals": {"oidc.example/id/ABC:sub": "system:serviceaccount:a:b"}}}]}
    assert text == canonical(json.loads(text))
    # Refs only in values: the dict stays a dict.
    assert policy_document({"Resource": Ref(provider, "Arn")}) == {"Resource": Ref(provider, "Arn")}


def test_irsa_role_with_joined_trust_reads_back_the_same_text(aws):
    issuer = "oidc.eks.ap-east-2.amazonaws.com/id/ABCDEF"
    trust = json.loads(canonical({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/" + issuer},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {issuer + ":sub": "system:serviceaccount:app:backend"}}}]}))
    provider = OpenIDConnectProvider("oidc", Url="https://" + issuer)
    role = Role("irsa", AssumeRolePolicyDocument=policy_document(
        {**trust, "Statement": [{**trust["Statement"][0], "Condition": {"StringEquals": {
            Join(provider["Issuer"], ":sub"): "system:serviceaccount:app:backend"}}}]}))
    role.stack = provider.stack = "main"
    props = resolve(role.properties, lambda ref: issuer)
    assert isinstance(props["AssumeRolePolicyDocument"], str)
    ctx = aws.ctx("irsa")
    name, _ = role.create(ctx, props)
    assert aws.client("iam").get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == trust
    assert role.read(ctx, name)["AssumeRolePolicyDocument"] == props["AssumeRolePolicyDocument"]
    role.delete(ctx, name)


def test_oidc_provider_round_trip(aws):
    url = "https://oidc.eks.ap-east-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    prov = OpenIDConnectProvider("oidc", Url=url)
    prov.stack = "main"
    ctx = aws.ctx("oidc")
    arn, out = prov.create(ctx, dict(prov.properties))
    assert arn.endswith(":oidc-provider/oidc.eks.ap-east-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE")
    assert out["Issuer"] == url.removeprefix("https://") and out["Url"] == url
    iam = aws.client("iam")
    seen = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert seen["ClientIDList"] == ["sts.amazonaws.com"] and seen["ThumbprintList"] == [EKS_OIDC_THUMBPRINT]
    assert {t["Key"]: t["Value"] for t in seen["Tags"]}["infra:address"] == "main.oidc"
    assert prov.read(ctx, arn) == dict(prov.properties)

    thumb = "a" * 40
    prov.update(ctx, arn, dict(prov.properties), dict(prov.properties, ThumbprintList=[thumb]))
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ThumbprintList"] == [thumb]

    # A provider of another address in the same account is not adopted.
    other = OpenIDConnectProvider("other", Url="https://oidc.example.com/id/X")
    other.stack = "main"
    other.create(aws.ctx("other"), dict(other.properties))
    assert prov.find(ctx)[0] == arn
    prov.delete(ctx, arn)
    prov.delete(ctx, arn)
    assert prov.read(ctx, arn) is None
    assert prov.find(ctx) is None


def test_oidc_provider_rejects_bad_thumbprint():
    with pytest.raises(PlanError, match="thumbprints"):
        OpenIDConnectProvider("o", Url="https://x", ThumbprintList=["nothex"])
