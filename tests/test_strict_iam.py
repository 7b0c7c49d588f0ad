"""Strict rule iam-propagation, raw boto3: each service that assumes a role refuses one IAM changed moments ago,
with that service's own code and message (as botocore parses them), and accepts it once the window is past."""

import io
import json
import time
import zipfile

import pytest
from botocore.exceptions import ClientError

WINDOW = 1.5  # real seconds: short, yet wide enough for a loaded machine between the role and the call


def trust(service):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}]})


@pytest.fixture
def iam(aws):
    aws.rules.configure("iam-propagation", seconds=WINDOW)
    return aws.client("iam")


WARM = {"lambda": "list_functions", "firehose": "list_delivery_streams", "glue": "get_crawlers",
        "eks": "list_clusters", "logs": "describe_log_groups", "opensearch": "list_domain_names",
        "ecr": "describe_repositories"}


def warm(aws, *services):
    """One cheap call per service first, so building moto's backend does not eat into the window."""
    for s in services:
        getattr(aws.client(s), WARM[s])()


def role(iam, name, service):
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(service))["Role"]["Arn"]


def refused(call, code, message):
    """`call` is refused with `code` and a message containing `message` (as botocore parsed them)."""
    with pytest.raises(ClientError) as err:
        call()
    assert err.value.response["Error"]["Code"] == code
    assert message in err.value.response["Error"]["Message"]
    return err.value


def past_window():
    time.sleep(WINDOW + 0.05)


def zipped():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("h.py", "def h(event, context):\n    return 1\n")
    return buf.getvalue()


def test_rule_iam_propagation_lambda(aws, iam):
    warm(aws, "lambda")
    lam = aws.client("lambda")
    arn = role(iam, "fn", "lambda.amazonaws.com")

    def create():
        return lam.create_function(FunctionName="fn", Runtime="python3.12", Role=arn, Handler="h.h",
                                   Code={"ZipFile": zipped()})

    err = refused(create, "InvalidParameterValueException", "cannot be assumed by Lambda")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert aws.rules.trips().get("iam-propagation", 0) >= 1
    past_window()
    create()

    # UpdateFunctionConfiguration naming a role whose policies just changed: refused the same way.
    other = role(iam, "fn2", "lambda.amazonaws.com")
    past_window()
    iam.put_role_policy(RoleName="fn2", PolicyName="logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}))
    refused(lambda: lam.update_function_configuration(FunctionName="fn", Role=other),
            "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda")
    # A change that names no role is not affected.
    lam.update_function_configuration(FunctionName="fn", Timeout=10)
    past_window()
    lam.update_function_configuration(FunctionName="fn", Role=other)
    assert lam.get_function_configuration(FunctionName="fn")["Role"] == other


def test_rule_iam_propagation_firehose_every_role_arn(aws, iam):
    warm(aws, "firehose")
    fh = aws.client("firehose")
    old = role(iam, "delivery", "firehose.amazonaws.com")
    past_window()
    s3 = {"RoleARN": old, "BucketARN": "arn:aws:s3:::lake"}
    fh.create_delivery_stream(DeliveryStreamName="ok", ExtendedS3DestinationConfiguration=s3)
    # A fresh role in any configuration block (here the S3 backup of an S3 destination) is refused.
    fresh = role(iam, "backup", "firehose.amazonaws.com")
    conf = dict(s3, S3BackupMode="Enabled", S3BackupConfiguration={"RoleARN": fresh, "BucketARN": "arn:aws:s3:::b"})

    def create():
        return fh.create_delivery_stream(DeliveryStreamName="s", ExtendedS3DestinationConfiguration=conf)

    err = refused(create, "InvalidArgumentException", f"Firehose is unable to assume role {fresh}")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    past_window()
    create()
    assert fh.describe_delivery_stream(DeliveryStreamName="s")["DeliveryStreamDescription"]["DeliveryStreamName"]


def test_rule_iam_propagation_glue_crawler(aws, iam):
    warm(aws, "glue")
    glue = aws.client("glue")
    glue.create_database(DatabaseInput={"Name": "lake"})
    name = "crawler"
    role(iam, name, "glue.amazonaws.com")

    def create():  # Glue takes the role's name as well as its ARN
        return glue.create_crawler(Name="c", Role=name, DatabaseName="lake",
                                   Targets={"S3Targets": [{"Path": "s3://lake/events/"}]})

    refused(create, "InvalidInputException", "Service is unable to assume provided role. Please verify role's "
                                              "TrustPolicy")
    past_window()
    create()
    # Attaching a policy makes the role new again for Glue.
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole")
    refused(lambda: glue.update_crawler(Name="c", Role=name), "InvalidInputException", "unable to assume")
    past_window()
    glue.update_crawler(Name="c", Role=name)


def _cluster(aws, iam):
    warm(aws, "eks")
    eks = aws.client("eks")
    arn = role(iam, "cluster", "eks.amazonaws.com")
    vpc = {"subnetIds": ["subnet-1", "subnet-2"]}

    def create():
        return eks.create_cluster(name="c", roleArn=arn, resourcesVpcConfig=vpc)

    return eks, create


def test_rule_iam_propagation_eks_cluster(aws, iam):
    eks, create = _cluster(aws, iam)
    err = refused(create, "InvalidParameterException", "could not be assumed because it does not exist or the "
                                                       "trusted entity is not correct")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    past_window()
    create()
    assert eks.describe_cluster(name="c")["cluster"]["name"] == "c"


def test_rule_iam_propagation_eks_nodegroup_and_fargate_profile(aws, iam):
    eks, create_cluster = _cluster(aws, iam)
    past_window()
    create_cluster()
    node = role(iam, "node", "ec2.amazonaws.com")
    pods = role(iam, "pods", "eks-fargate-pods.amazonaws.com")

    def nodegroup():
        return eks.create_nodegroup(clusterName="c", nodegroupName="ng", subnets=["subnet-1"], nodeRole=node)

    def profile():
        return eks.create_fargate_profile(clusterName="c", fargateProfileName="fp", podExecutionRoleArn=pods,
                                          selectors=[{"namespace": "default"}], subnets=["subnet-1"])

    refused(nodegroup, "InvalidParameterException", "Following required service principals [ec2.amazonaws.com] "
                                                    "were not found in the trust relationships of nodeRole")
    refused(profile, "InvalidParameterException", "Misconfigured PodExecutionRole Trust Policy")
    past_window()
    nodegroup()
    profile()
    assert eks.list_nodegroups(clusterName="c")["nodegroups"] == ["ng"]
    assert eks.list_fargate_profiles(clusterName="c")["fargateProfileNames"] == ["fp"]


def test_rule_iam_propagation_logs_subscription_filter(aws, iam):
    warm(aws, "logs", "firehose")
    logs, fh = aws.client("logs"), aws.client("firehose")
    logs.create_log_group(logGroupName="/app")
    # The stream's own role is one IAM has never seen: out of this rule's scope.
    stream = fh.create_delivery_stream(DeliveryStreamName="to-es", ExtendedS3DestinationConfiguration={
        "RoleARN": f"arn:aws:iam::{aws.clients.account_id}:role/elsewhere", "BucketARN": "arn:aws:s3:::b"})
    arn = role(iam, "cwl-to-firehose", "logs.amazonaws.com")

    def put():
        return logs.put_subscription_filter(logGroupName="/app", filterName="all", filterPattern="",
                                            destinationArn=stream["DeliveryStreamARN"], roleArn=arn)

    refused(put, "InvalidParameterException", "Could not deliver test message to specified Firehose stream")
    past_window()
    put()
    assert logs.describe_subscription_filters(logGroupName="/app")["subscriptionFilters"][0]["roleArn"] == arn


def test_rule_iam_propagation_opensearch_access_policy(aws, iam):
    warm(aws, "opensearch")
    es = aws.client("opensearch")
    arn = role(iam, "writer", "firehose.amazonaws.com")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": [arn]}, "Action": "es:ESHttp*", "Resource": "*"}]})
    open_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "es:ESHttpGet", "Resource": "*"}]})

    def create():
        return es.create_domain(DomainName="logs", EngineVersion="OpenSearch_2.11", AccessPolicies=policy)

    err = refused(create, "InvalidTypeException", "Error setting policy")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    es.create_domain(DomainName="other", EngineVersion="OpenSearch_2.11", AccessPolicies=open_policy)
    refused(lambda: es.update_domain_config(DomainName="other", AccessPolicies=policy), "InvalidTypeException",
            "Error setting policy")
    past_window()
    create()
    es.update_domain_config(DomainName="other", AccessPolicies=policy)


def test_rule_iam_propagation_off(aws, iam):
    lam = aws.client("lambda")
    arn = role(iam, "fn", "lambda.amazonaws.com")
    aws.rules.off("iam-propagation")
    lam.create_function(FunctionName="b", Runtime="python3.12", Role=arn, Handler="h.h", Code={"ZipFile": zipped()})


def test_rule_iam_propagation_ecr_repository_policy(aws, iam):
    warm(aws, "ecr")
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName="app/api")
    arn = role(iam, "node", "ec2.amazonaws.com")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": arn}, "Action": ["ecr:BatchGetImage"]}]})

    def put():
        return ecr.set_repository_policy(repositoryName="app/api", policyText=policy)

    refused(put, "InvalidParameterException", "Invalid repository policy provided")
    past_window()
    put()
    assert json.loads(ecr.get_repository_policy(repositoryName="app/api")["policyText"]) == json.loads(policy)


def test_rule_iam_propagation_trust_policy_naming_a_new_oidc_provider_or_role(aws, iam):
    provider = iam.create_open_id_connect_provider(Url="https://oidc.eks.ap-east-2.amazonaws.com/id/ABC",
                                                   ThumbprintList=["a" * 40], ClientIDList=["sts.amazonaws.com"])
    irsa = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
         "Principal": {"Federated": provider["OpenIDConnectProviderArn"]}}]})

    def create():
        return iam.create_role(RoleName="irsa", AssumeRolePolicyDocument=irsa)

    err = refused(create, "MalformedPolicyDocument", "Invalid principal in policy")
    assert provider["OpenIDConnectProviderArn"] in err.response["Error"]["Message"]
    past_window()
    create()
    # A trust policy naming a role created moments ago: UpdateAssumeRolePolicy is refused the same way.
    admin = role(iam, "admin", "ec2.amazonaws.com")
    trusting = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": admin}}]})
    refused(lambda: iam.update_assume_role_policy(RoleName="irsa", PolicyDocument=trusting),
            "MalformedPolicyDocument", "Invalid principal in policy")
    past_window()
    iam.update_assume_role_policy(RoleName="irsa", PolicyDocument=trusting)
