"""Waits poll at the waiter's pace, densely around the usual duration, at absolute times."""

from __future__ import annotations

import pytest

from core.errors import AwsError
from orchestrator.aws import poll_offsets
from orchestrator.executor import VirtualClock
from sandbox import latency, lifecycle


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


def test_the_tool_sees_a_simulated_msk_cluster_active_soon_after_its_usual_time(aws, monkeypatch):
    """Through the whole path (Ctx.wait -> Clients.wait) in simulated time: the wait ends at the first
    dense poll after the table's duration, although the waiter's own delay is 30 AWS seconds. The wait
    and the sandbox's lifecycle run on one virtual clock (AWS seconds, scale 1), so this holds exactly."""
    from orchestrator.aws import Clients
    from sandbox import settings

    clock = VirtualClock()
    monkeypatch.setattr(lifecycle, "now", clock.now)
    aws.lifecycle(scale=1.0)
    clients = Clients(region=settings.REGION, time_scale=1.0, clock=clock)
    clients.poll_delay = None  # the test session pins a fixed delay (INFRA_POLL_DELAY); use the schedule
    k = aws.client("kafka")
    arn = k.create_cluster_v2(ClusterName="c", Provisioned={
        "BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large", "ClientSubnets": ["subnet-1", "subnet-2"]},
        "KafkaVersion": "3.6.0", "NumberOfBrokerNodes": 2})["ClusterArn"]
    start = clock.now()
    calls = []
    clients.add_hook("before-call.kafka.DescribeCluster", lambda **_: calls.append(clock.now() - start))
    usual = latency.seconds("kafka.cluster")
    clients.wait("kafka", "ClusterActive", timeout=3600, expected=usual, ClusterArn=arn)
    schedule = list(poll_offsets(30, usual, 3600))
    first_ready = min(t for t in schedule if t >= usual)
    assert clock.now() - start == first_ready and first_ready - usual <= 5  # seen within 5 s, not 30
    assert calls == [t for t in schedule if t <= first_ready]  # at the schedule's absolute times, no more
    assert len(calls) <= usual / 30 + 20  # the waiter's pace, plus the dense window
    k.delete_cluster(ClusterArn=arn)
    with pytest.raises(AwsError, match="timed out"):
        clients.wait("kafka", "ClusterDeleted", timeout=10, ClusterArn=arn)  # 10 AWS s: far too short
    assert clock.now() - start == first_ready + max(poll_offsets(30, 0, 10))  # its polls, in simulated time
