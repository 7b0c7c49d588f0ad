"""A multi-step update tried again resumes (audit M5): the steps the first attempt made are not requested
again. An MSK cluster gets more brokers (UpdateBrokerCount) and bigger volumes (UpdateBrokerStorage) in one
update; the storage call is throttled once, after the broker count went through, and the engine tries the
update again. Before, it ran the whole update again with the same old properties and asked MSK a second
time for the brokers it already had, which MSK refuses ("The cluster already has 4 broker nodes."; the
sandbox's kafka extension answers so); now it reads what AWS holds first. One UpdateBrokerCount in all,
and boto3 reads both changes on the same cluster."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.model import Plan
from resources.kafka import Cluster
from sandbox import settings
from tests import faults
from tests.fakes import install_plan
from tests.helpers import count_calls, infra

CODE: dict[str, Any] = {"brokers": 2, "volume": 100}
NAME = "genai-demo-dev-kafka"


def build(env: str) -> Plan:
    plan = Plan(project="genai-demo", env=env, region=settings.REGION)
    plan.stack("main").add(Cluster(
        "kafka", KafkaVersion="3.7.x", NumberOfBrokerNodes=CODE["brokers"],
        # MSK takes the subnets and group as given in the sandbox: no network needed for this change.
        BrokerNodeGroupInfo={"InstanceType": "kafka.m7g.large", "ClientSubnets": ["subnet-0a1", "subnet-0b2"],
                             "SecurityGroups": ["sg-0c3"],
                             "StorageInfo": {"EbsStorageInfo": {"VolumeSize": CODE["volume"]}}}))
    return plan


PLAN = install_plan("update_resume", build)


class ThrottleOnce:
    """The first UpdateBrokerStorage answered with MSK's throttling error (retried by the engine)."""

    def __init__(self) -> None:
        self.count = 0

    def hooks(self) -> list[tuple[str, Any]]:
        return [("before-call.kafka.UpdateBrokerStorage", self)]

    def __call__(self, **_: Any) -> Any:
        self.count += 1
        if self.count > 1:
            return None
        return faults._Status(429), {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"},
                                     "ResponseMetadata": {"HTTPStatusCode": 429}}


@pytest.fixture
def code():
    before = dict(CODE)
    yield CODE
    CODE.update(before)


def test_a_multi_step_update_tried_again_does_not_repeat_its_done_steps(aws, code, monkeypatch):
    monkeypatch.setenv("INFRA_RETRY_INITIAL", "0.01")
    aws.rules.configure("async-modify", seconds=0.1)
    infra("apply", "--plan", PLAN, "--env", "dev", "--auto-approve")
    kafka = aws.client("kafka")
    arn = kafka.list_clusters_v2(ClusterNameFilter=NAME)["ClusterInfoList"][0]["ClusterArn"]
    code.update(brokers=4, volume=200)
    throttle = ThrottleOnce()
    undo = faults.install(throttle)
    try:
        with count_calls() as log:
            infra("apply", "--plan", PLAN, "--env", "dev", "--auto-approve")
    finally:
        undo()
    assert throttle.count == 2  # throttled once, then sent again
    calls = [op for s, op in log.calls if s == "kafka"]
    assert calls.count("UpdateBrokerCount") == 1, calls
    info = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert info["NumberOfBrokerNodes"] == 4
    assert info["BrokerNodeGroupInfo"]["StorageInfo"]["EbsStorageInfo"]["VolumeSize"] == 200
    assert infra("plan", "--plan", PLAN, "--env", "dev", "--detailed-exitcode", ok=None).exit_code == 0
