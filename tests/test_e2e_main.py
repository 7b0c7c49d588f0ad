"""Issue 4 end to end: the whole main stack, dev and production, verified through independent boto3 calls.

One test per profile keeps the suite fast; each walks apply -> verify -> no-op -> in-place change -> destroy.
"""

from __future__ import annotations

import json

import pytest

from plans.genai_demo.profiles import profile
from tests.helpers import count_calls, infra

pytestmark = pytest.mark.slow

ENV_TAG = "infra:env"


def tag_filter(env):
    return [{"Name": f"tag:{ENV_TAG}", "Values": [env]}]


def leftovers(aws, env):
    """Everything of this env still in AWS, listed service by service (the tagging API misses IAM, WAF, EKS, ECR)."""
    prefix = f"genai-demo-{env}-"
    ec2, out = aws.client("ec2"), {}
    out["vpcs"] = ec2.describe_vpcs(Filters=tag_filter(env))["Vpcs"]
    out["subnets"] = ec2.describe_subnets(Filters=tag_filter(env))["Subnets"]
    out["security_groups"] = ec2.describe_security_groups(Filters=tag_filter(env))["SecurityGroups"]
    out["nat"] = [n for n in ec2.describe_nat_gateways(Filter=tag_filter(env))["NatGateways"] if n["State"] != "deleted"]
    out["eips"] = ec2.describe_addresses(Filters=tag_filter(env))["Addresses"]
    out["albs"] = [lb for lb in aws.client("elbv2").describe_load_balancers()["LoadBalancers"]
                   if lb["LoadBalancerName"].startswith(prefix[:20])]
    out["target_groups"] = [t for t in aws.client("elbv2").describe_target_groups()["TargetGroups"]
                            if t["TargetGroupName"].startswith(prefix[:20])]
    out["web_acls"] = [a for a in aws.client("wafv2").list_web_acls(Scope="REGIONAL")["WebACLs"]
                       if a["Name"].startswith(prefix)]
    out["certificates"] = [c for c in aws.client("acm").list_certificates()["CertificateSummaryList"]
                           if env in c["DomainName"]]
    out["eks"] = aws.client("eks").list_clusters()["clusters"]
    out["ecr"] = [r["repositoryName"] for r in aws.client("ecr").describe_repositories()["repositories"]
                  if r["repositoryName"].startswith("genai-demo")]
    out["iam_roles"] = [r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]
                        if r["RoleName"].startswith(prefix)]
    out["oidc"] = aws.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]
    out["rds"] = [d["DBInstanceIdentifier"] for d in aws.client("rds").describe_db_instances()["DBInstances"]
                  if d["DBInstanceIdentifier"].startswith(prefix)]
    out["db_subnet_groups"] = [g["DBSubnetGroupName"] for g in aws.client("rds").describe_db_subnet_groups()[
        "DBSubnetGroups"] if g["DBSubnetGroupName"].startswith(prefix)]
    out["msk"] = aws.client("kafka").list_clusters_v2()["ClusterInfoList"]
    out["redis"] = [g["ReplicationGroupId"] for g in aws.client("elasticache").describe_replication_groups()[
        "ReplicationGroups"] if g["ReplicationGroupId"].startswith(prefix[:20])]
    out["buckets"] = [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"] if b["Name"].startswith(prefix)]
    kms = aws.client("kms")
    metas = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]]
    # A key that encrypts a final snapshot the destroy kept stays, on purpose (restore_final_snapshots).
    kept = {s["KmsKeyId"] for s in aws.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
            if s.get("KmsKeyId")}
    # moto labels AWS-managed default keys (alias/aws/..., e.g. the state table's) as CUSTOMER: skip those.
    out["kms_keys"] = [m["KeyId"] for m in metas if m["KeyManager"] == "CUSTOMER" and m["KeyState"] == "Enabled"
                       and m["Arn"] not in kept and m["KeyId"] not in kept
                       and not any(a["AliasName"].startswith("alias/aws/")
                                   for a in kms.list_aliases(KeyId=m["KeyId"])["Aliases"])]
    out["secrets"] = [s["Name"] for s in aws.client("secretsmanager").list_secrets()["SecretList"]
                      if s["Name"].startswith(f"genai-demo/{env}/")]
    out["ssm"] = [p["Name"] for p in aws.client("ssm").describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [f"/genai-demo/{env}/"]}])["Parameters"]]
    return {k: v for k, v in out.items() if v}


def restore_final_snapshots(aws, env):
    """Issue 14 item 5: every final DB snapshot a destroy of `env` kept has its key enabled (not pending
    deletion) and RDS restores it; returns the snapshot ids."""
    rds, kms, ec2 = aws.client("rds"), aws.client("kms"), aws.client("ec2")
    snaps = [s for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
             if s["DBSnapshotIdentifier"].startswith(f"genai-demo-{env}-")]
    # The destroy deleted the snapshot's subnet group with its VPC: restore into the default VPC.
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [n["SubnetId"] for n in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
    rds.create_db_subnet_group(DBSubnetGroupName=f"restore-{env}", DBSubnetGroupDescription="restore",
                               SubnetIds=subnets)
    for snap in snaps:
        assert kms.describe_key(KeyId=snap["KmsKeyId"])["KeyMetadata"]["KeyState"] == "Enabled", snap
        restored = f"restored-{len(snap['DBSnapshotIdentifier'])}-{snaps.index(snap)}"
        rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=restored, DBSubnetGroupName=f"restore-{env}",
                                                 DBSnapshotIdentifier=snap["DBSnapshotIdentifier"])
        assert rds.describe_db_instances(DBInstanceIdentifier=restored)["DBInstances"][0]["KmsKeyId"] == \
            snap["KmsKeyId"]
    return [s["DBSnapshotIdentifier"] for s in snaps]


def verify_main(aws, env):
    p = profile(env)
    eks = aws.client("eks")
    [cluster] = eks.list_clusters()["clusters"]
    c = eks.describe_cluster(name=cluster)["cluster"]
    assert c["version"] == p["eks"]["version"]
    assert c["encryptionConfig"][0]["resources"] == ["secrets"]
    ng_names = eks.list_nodegroups(clusterName=cluster)["nodegroups"]
    want = p["eks"]["node_groups"]["nodes"]
    ng = eks.describe_nodegroup(clusterName=cluster, nodegroupName=ng_names[0])["nodegroup"]
    assert ng["instanceTypes"] == want["instance_types"] and ng["amiType"] == want["ami_type"]
    assert ng["scalingConfig"] == {"minSize": want["min"], "desiredSize": want["desired"], "maxSize": want["max"]}
    assert eks.list_fargate_profiles(clusterName=cluster)["fargateProfileNames"]
    # MSK: broker count and encryption.
    [msk] = aws.client("kafka").list_clusters_v2()["ClusterInfoList"]
    assert msk["Provisioned"]["NumberOfBrokerNodes"] == p["msk"]["brokers"]
    assert msk["Provisioned"]["EncryptionInfo"]["EncryptionAtRest"]["DataVolumeKMSKeyId"]
    # Redis: cluster mode in production, a single node in dev; encrypted.
    [rg] = [g for g in aws.client("elasticache").describe_replication_groups()["ReplicationGroups"]]
    assert rg["ClusterEnabled"] is p["redis"]["cluster_mode"]
    assert rg["AtRestEncryptionEnabled"] and rg["TransitEncryptionEnabled"]
    if p["redis"]["cluster_mode"]:
        assert rg["ConfigurationEndpoint"]["Address"] and rg["MultiAZ"] == "enabled"
    # RDS: Multi-AZ primary and replicas in production, one small instance in dev; encrypted.
    dbs = aws.client("rds").describe_db_instances()["DBInstances"]
    primary = [d for d in dbs if not d.get("ReadReplicaSourceDBInstanceIdentifier")]
    replicas = [d for d in dbs if d.get("ReadReplicaSourceDBInstanceIdentifier")]
    assert len(primary) == 1 and primary[0]["StorageEncrypted"] and primary[0]["Engine"] == "postgres"
    assert primary[0]["MultiAZ"] is p["rds"]["multi_az"]
    assert primary[0]["DBInstanceClass"] == p["rds"]["instance_class"]
    assert len(replicas) == p["rds"].get("replicas", 0)
    assert all(d["IAMDatabaseAuthenticationEnabled"] for d in dbs)  # the app's IRSA role logs in with rds-db:connect
    assert primary[0]["DBSubnetGroup"]["DBSubnetGroupName"].startswith(f"genai-demo-{env}-")
    # WAF associated with the ALB; HTTPS listener with the certificate; HTTP redirects to HTTPS.
    elb = aws.client("elbv2")
    [alb] = elb.describe_load_balancers()["LoadBalancers"]
    assert alb["Scheme"] == "internet-facing" and len(alb["AvailabilityZones"]) == 3
    acl = aws.client("wafv2").get_web_acl_for_resource(ResourceArn=alb["LoadBalancerArn"])["WebACL"]
    assert {r["Name"] for r in acl["Rules"]} >= {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet",
                                                  "AWSManagedRulesKnownBadInputsRuleSet"}
    listeners = {lst["Port"]: lst for lst in elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]}
    assert listeners[443]["Protocol"] == "HTTPS" and listeners[443]["Certificates"][0]["CertificateArn"].startswith(
        "arn:aws:acm:")
    assert listeners[443]["SslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
    assert listeners[80]["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"
    cert = aws.client("acm").describe_certificate(CertificateArn=listeners[443]["Certificates"][0]["CertificateArn"])
    assert cert["Certificate"]["Status"] == "ISSUED"
    # S3: versioned, SSE-KMS (the ALB's access-log bucket SSE-S3, the only encryption ELB delivers to),
    # public access blocked; the ALB logs into its bucket.
    s3 = aws.client("s3")
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(f"genai-demo-{env}-")]
    assert len(buckets) >= 3
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=alb["LoadBalancerArn"])["Attributes"]}
    assert attrs["access_logs.s3.enabled"] == "true" and attrs["access_logs.s3.bucket"] in buckets
    for b in buckets:
        enc = s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]
        want = "AES256" if b == attrs["access_logs.s3.bucket"] else "aws:kms"
        assert enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == want
        assert s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]
        assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled"
        # The data buckets send their object events to EventBridge (FSBP S3.11); the log bucket does not.
        notified = "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(Bucket=b)
        assert notified == (b != attrs["access_logs.s3.bucket"])
    # KMS rotation; SSM parameters publish what the app needs.
    kms = aws.client("kms")
    keys = [k["KeyId"] for k in kms.list_keys()["Keys"]]
    assert any(kms.get_key_rotation_status(KeyId=k)["KeyRotationEnabled"] for k in keys)
    ssm = aws.client("ssm")
    endpoint = ssm.get_parameter(Name=f"/genai-demo/{env}/database/endpoint")["Parameter"]["Value"]
    assert endpoint.startswith(primary[0]["Endpoint"]["Address"])
    assert ssm.get_parameter(Name=f"/genai-demo/{env}/kafka/bootstrap-brokers")["Parameter"]["Value"]
    # ECR: scan on push, immutable tags, KMS.
    for r in aws.client("ecr").describe_repositories()["repositories"]:
        assert r["imageScanningConfiguration"]["scanOnPush"] and r["imageTagMutability"] == "IMMUTABLE"
        assert r["encryptionConfiguration"]["encryptionType"] == "KMS"


@pytest.mark.parametrize("env", ["dev", "production"])
def test_main_stack_end_to_end(aws, env, monkeypatch):
    infra("apply", "--env", env, "--stack", "main", "--auto-approve")
    verify_main(aws, env)

    # A second apply plans nothing and calls nothing that mutates.
    with count_calls() as log:
        out = infra("apply", "--env", env, "--stack", "main", "--auto-approve")
    assert "No changes" in out.output and log.mutating == []
    # Its refresh reads AWS with at most one call per resource: types batch their reads (read_many).
    recorded = json.loads(infra("state", "list", "--env", env, "--stack", "main", "--json").stdout)
    reads = [c for c in log.calls if c[0] not in ("dynamodb", "sts") and c not in log.mutating]
    assert 0 < len(reads) <= len(recorded), (len(reads), len(recorded))

    # A profile size change updates the node group in place.
    ng = profile(env)["eks"]["node_groups"]["nodes"]
    monkeypatch.setitem(ng, "desired", ng["desired"] + 1)
    eks = aws.client("eks")
    [cluster] = eks.list_clusters()["clusters"]
    [ng_name] = eks.list_nodegroups(clusterName=cluster)["nodegroups"]
    arn_before = eks.describe_nodegroup(clusterName=cluster, nodegroupName=ng_name)["nodegroup"]["nodegroupArn"]
    plan = json.loads(infra("plan", "--env", env, "--stack", "main", "--json").stdout)
    changed = {c["address"]: c["action"] for c in plan["changes"] if c["action"] != "noop"}
    assert list(changed.values()) == ["update"] and "node" in next(iter(changed))
    infra("apply", "--env", env, "--stack", "main", "--auto-approve")
    after = eks.describe_nodegroup(clusterName=cluster, nodegroupName=ng_name)["nodegroup"]
    assert after["nodegroupArn"] == arn_before and after["scalingConfig"]["desiredSize"] == ng["desired"]

    if env == "production":
        # Protected data stores refuse destroy without the explicit flag; nothing is deleted.
        with count_calls() as log:
            out = infra("destroy", "--env", env, "--auto-approve", ok=False)
        assert out.exit_code == 1 and "is protected" in out.output and "--destroy-protected" in out.output
        assert log.mutating == []
        out = infra("destroy", "--env", env, "--auto-approve", "--destroy-protected", "dev", ok=False)
        assert out.exit_code == 1 and "must name the environment" in out.output
        infra("destroy", "--env", env, "--auto-approve", "--destroy-protected", env)
        assert restore_final_snapshots(aws, env)  # the primary's final snapshot, restorable
    else:
        infra("destroy", "--env", env, "--auto-approve")
    assert leftovers(aws, env) == {}
    assert json.loads(infra("state", "list", "--env", env, "--json").stdout) == []


def test_dev_and_production_side_by_side_in_one_account(aws):
    """Two envs in one account: each cluster has its own OIDC issuer, so each env gets its own IAM provider."""
    infra("apply", "--env", "dev", "--stack", "main", "--auto-approve")
    infra("apply", "--env", "production", "--stack", "main", "--auto-approve")
    eks, iam = aws.client("eks"), aws.client("iam")
    issuers = {eks.describe_cluster(name=c)["cluster"]["identity"]["oidc"]["issuer"].removeprefix("https://"): c
               for c in eks.list_clusters()["clusters"]}
    assert len(issuers) == 2
    providers = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert len(providers) == 2
    by_env = {}
    for arn in providers:
        got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        env = {t["Key"]: t["Value"] for t in got["Tags"]}[ENV_TAG]
        assert got["Url"].removeprefix("https://") in issuers and env in issuers[got["Url"].removeprefix("https://")]
        by_env[env] = arn
    assert set(by_env) == {"dev", "production"}
    for env, arn in by_env.items():  # every IRSA role of an env trusts its own env's provider only
        roles = [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"genai-demo-{env}-")]
        federated = {s["Principal"]["Federated"] for r in roles for s in r["AssumeRolePolicyDocument"]["Statement"]
                     if "Federated" in s.get("Principal", {})}
        assert federated == {arn}, (env, federated)
    for env in ("dev", "production"):
        out = infra("plan", "--env", env, "--stack", "main", "--detailed-exitcode")
        assert "0 to create, 0 to update, 0 to replace, 0 to delete" in out.output
    infra("destroy", "--env", "dev", "--auto-approve")
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == \
        [by_env["production"]]
    infra("destroy", "--env", "production", "--auto-approve", "--destroy-protected", "production")
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert leftovers(aws, "dev") == {} and leftovers(aws, "production") == {}
