"""Waits poll soon after the call, back off to the waiter's pace, dense around the usual duration, at
absolute times: one schedule for AWS and emulators alike (no pace guessed from the endpoint)."""

from __future__ import annotations

import pytest

from core.errors import AwsError
from orchestrator.aws import poll_offsets
from orchestrator.executor import VirtualClock
from sandbox import latency, lifecycle


def test_the_first_poll_comes_soon_after_the_call_and_the_pace_backs_off_to_the_waiters_own():
    assert list(poll_offsets(30, 0, 120, first=1)) == [1, 2, 4, 8, 16, 32, 62, 92]
    # The default start: 50 ms after the call (never at once), doubling to the waiter's 30 s.
    assert list(poll_offsets(30, 0, 120)) == pytest.approx(
        [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 81.2, 111.2])
    assert list(poll_offsets(15, 0, 1, first=0.25)) == [0.25, 0.5, 1.0]


def test_dense_around_the_expected_end_and_about_as_many_calls_as_the_plain_waiter():
    msk = list(poll_offsets(30, 1500, 3600, first=1))  # MSK: 25 minutes usually, a 1-hour timeout
    assert msk[:7] == [1, 2, 4, 8, 16, 32, 62]
    near = [t for t in msk if 1440 <= t <= 1600]
    assert near == [1442, *range(1470, 1565, 5), 1590]  # the usual finish is seen within 5 s, not 30
    gaps = {round(b - a, 6) for a, b in zip(msk[6:], msk[7:], strict=False)}
    assert gaps == {30, 28, 5}
    plain = list(poll_offsets(30, 0, 3600, first=1))
    assert len(plain) == 124 and len(msk) == 140  # the dense window costs 16 extra polls, not a new pace
    assert max(msk) <= 3600 and sorted(msk) == msk


def test_an_expectation_shorter_than_a_delay_starts_dense():
    offs = list(poll_offsets(15, 10, 60, first=1))
    assert offs[:6] == [1, 2, 4, 6.5, 9, 11.5]  # the ramp, then 2.5 s gaps until two delays after 10 s
    assert offs[-2:] == [41.5, 56.5]


def test_the_schedule_is_the_same_for_aws_and_an_emulator_only_the_time_scale_differs():
    """No endpoint guess: Clients without a poll delay run this schedule, AWS seconds x time_scale."""
    from orchestrator import aws as aws_mod

    scale = 0.001
    scaled = list(poll_offsets(30 * scale, 0, 120 * scale, first=aws_mod.FIRST_POLL * scale))
    assert scaled[0] == 0.002  # the floor: 50 AWS ms would be 50 us
    assert scaled == pytest.approx([0.002, 0.004, 0.008, 0.016, 0.032, 0.062, 0.092])


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


def test_the_sandbox_is_waited_for_in_milliseconds_without_an_endpoint_guess(aws, monkeypatch):
    """`infra --sandbox` no longer pins a fast pace because the endpoint is 127.0.0.1: Options carry no poll
    delay, and Clients as the Workspace builds them (time_scale 1, no INFRA_POLL_DELAY) run AWS's schedule.
    Its fast start sees a NAT gateway the sandbox makes available in 15 ms (90 AWS s at 1 AWS minute =
    10 ms) on an early poll of the ramp; the former schedule polled at t=0 (still pending), then 15 s later."""
    import cli
    from orchestrator.aws import FIRST_POLL, Clients
    from orchestrator.runs import Options
    from resources.base import Ctx
    from resources.ec2 import NatGateway
    from sandbox import settings
    from tests.helpers import ec2_visible

    monkeypatch.delenv("INFRA_POLL_DELAY")
    opts = cli.make_options(dict(env="dev", stacks=(), plan_name="genai_demo", region=None, profile=None,
                                 endpoint_url="http://127.0.0.1:4566", state_table=None, parallelism=10,
                                 sandbox=False))
    assert opts.poll_delay is None and opts.retry.initial == Options().retry.initial
    clients = Clients(region=settings.REGION, poll_delay=opts.poll_delay)
    assert clients.poll_delay is None and clients.time_scale == 1.0

    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2_visible(ec2, VpcIds=[vpc])
    sid = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2_visible(ec2, SubnetIds=[sid], AllocationIds=[alloc])
    aws.lifecycle()  # as `infra sandbox up`: 1 AWS minute = 10 ms
    polls = []
    clients.add_hook("before-call.ec2.DescribeNatGateways", lambda **_: polls.append(1))
    ctx = Ctx(clients=clients, project="genai-demo", env="test", stack="main", name="nat", region=settings.REGION,
              account_id=clients.account_id, timeouts={"create": 900})
    nat = NatGateway("nat", SubnetId=sid, AllocationId=alloc)
    nat.stack = "main"
    nat_id, _ = nat.create(ctx, dict(nat.properties))
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"] == "available"
    waits = len(polls) - 1  # outputs_of's describe after the wait is not a poll
    schedule = list(poll_offsets(15, 0, 900, first=FIRST_POLL))
    assert waits >= 1 and schedule[waits - 1] < 15  # the poll that saw it was on the ramp, before 15 s
