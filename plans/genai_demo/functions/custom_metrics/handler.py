"""Custom metrics for the GenAI Demo, run by an EventBridge schedule.

CloudWatch already has the AWS service metrics; what it lacks is a view of
the alarms themselves. Every run this function counts the environment's
alarms by state and publishes the counts plus a heartbeat to the
`METRIC_NAMESPACE` namespace, dimensioned by environment, so a dashboard can
show "how many things are paging right now" and an alarm on a missing
heartbeat notices when the schedule or this function stops.

Only boto3 (part of the python3.12 Lambda runtime) is needed.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from typing import Any

import boto3

STATES = {"ALARM": "AlarmsInAlarm", "INSUFFICIENT_DATA": "AlarmsInsufficientData", "OK": "AlarmsOk"}
BATCH = 20  # PutMetricData accepts at most 20 entries per call in every region and SDK version


def count_alarm_states(cloudwatch: Any, prefix: str | None) -> Counter[str]:
    """Alarm state counts (metric and composite alarms) whose names start with `prefix`."""
    params: dict[str, Any] = {"AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
    if prefix:
        params["AlarmNamePrefix"] = prefix
    counts: Counter[str] = Counter()
    for page in cloudwatch.get_paginator("describe_alarms").paginate(**params):
        for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
            counts[alarm["StateValue"]] += 1
    return counts


def build_metric_data(counts: Counter[str], environment: str) -> list[dict[str, Any]]:
    """One datum per alarm state (zeros included, so graphs show 0 rather than gaps) plus a heartbeat."""
    dims = [{"Name": "Environment", "Value": environment}]
    data = [{"MetricName": name, "Dimensions": dims, "Value": float(counts.get(state, 0)), "Unit": "Count"}
            for state, name in STATES.items()]
    data.append({"MetricName": "Heartbeat", "Dimensions": dims, "Value": 1.0, "Unit": "Count"})
    return data


def chunks(items: list[dict[str, Any]], size: int = BATCH) -> Iterable[list[dict[str, Any]]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    environment = os.environ.get("ENVIRONMENT", "dev")
    namespace = os.environ.get("METRIC_NAMESPACE", f"GenAIDemo/{environment}")
    prefix = os.environ.get("ALARM_NAME_PREFIX") or None
    cloudwatch = boto3.client("cloudwatch")
    counts = count_alarm_states(cloudwatch, prefix)
    data = build_metric_data(counts, environment)
    for batch in chunks(data):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=batch)
    return {"namespace": namespace, "published": {d["MetricName"]: d["Value"] for d in data}}
