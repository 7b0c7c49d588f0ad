"""Waits poll at the waiter's pace, densely around the usual duration, at absolute times."""

from __future__ import annotations

import time

import pytest

from core.errors import AwsError
from orchestrator.aws import poll_offsets
from sandbox import latency

pytestmark = pytest.mark.usefixtures("no_gc")  # timing against a model: see conftest.no_gc


def test_without_an_expectation_it_is_the_waiters_own_pace():
    assert list(poll_offsets(30, 0, 120)) == [0, 30, 60, 90, 120]


def test_dense_around_the_expected_end_and_about_as_many_calls_as_the_plain_waiter():
    msk = list(poll_offsets(30, 1500, 3600))  # MSK: 25 minutes usually, a 1-hour timeout
    gaps = {round(b - a, 6) for a, b in zip(msk, msk[1:], strict=False)}
    assert gaps == {30, 5}
    near = [t for t in msk if 1470 <= t <= 1560]
    assert all(round(b - a, 6) == 5 for a, b in zip(near, near[1:], strict=False)) and len(near) >= 18
    assert min(t for t in msk if t >= 1500) - 1500 <= 5  # the usual finish is seen within 5 s, not 30
    plain = list(poll_offsets(30, 0, 3600))
    assert len(msk) <= len(plain) + 16  # the dense window costs ~15 extra polls, not a new pace
    assert max(msk) <= 3600 and sorted(msk) == msk


def test_an_expectation_shorter_than_a_delay_starts_dense():
    offs = list(poll_offsets(15, 10, 60))
    assert offs[:4] == [0, 2.5, 5, 7.5]


def test_the_tool_sees_a_simulated_msk_cluster_active_soon_after_its_usual_time(aws):
    """Through the whole path (Ctx.wait -> Clients.wait) in simulated time: the wait ends within a few
    dense polls of the table's duration, although the waiter's own delay is 30 AWS seconds."""
    from orchestrator.aws import Clients
    from sandbox import settings

    scale = 0.0004  # MSK's 1500 s -> 0.6 s; its 30 s delay -> 12 ms, a dense poll 2 ms
    aws.lifecycle(scale=scale)
    clients = Clients(region=settings.REGION, time_scale=scale)
    clients.poll_delay = None  # the test session pins a fixed delay (INFRA_POLL_DELAY); use the schedule
    k = aws.client("kafka")
    arn = k.create_cluster_v2(ClusterName="c", Provisioned={
        "BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large", "ClientSubnets": ["subnet-1", "subnet-2"]},
        "KafkaVersion": "3.6.0", "NumberOfBrokerNodes": 2})["ClusterArn"]
    start = time.monotonic()
    calls = []
    clients.add_hook("before-call.kafka.DescribeCluster", lambda **_: calls.append(1))
    clients.wait("kafka", "ClusterActive", timeout=3600, expected=latency.seconds("kafka.cluster"), ClusterArn=arn)
    took = time.monotonic() - start
    usual = latency.seconds("kafka.cluster") * scale
    assert 0.9 <= took / usual <= 3.0  # the lifecycle tests' band (a busy CI worker adds delay)
    assert len(calls) <= 1500 / 30 + 20  # the waiter's pace, plus the dense window
    with pytest.raises(AwsError, match="timed out"):
        k.delete_cluster(ClusterArn=arn)
        clients.wait("kafka", "ClusterDeleted", timeout=10, ClusterArn=arn)  # 10 AWS s: far too short
