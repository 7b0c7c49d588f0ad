"""rds.DBInstance log exports and enhanced monitoring on the sandbox: created, read back and changed in place,
checked through independent boto3 calls; and refused before any call when half declared."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.errors import PlanError
from resources.rds import DBInstance
from tests.helpers import declare, vpc_scaffold

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "monitoring.rds.amazonaws.com"}}]}


@pytest.fixture
def net(aws: Any) -> dict[str, Any]:
    return vpc_scaffold(aws, 9, "db", "rds")


def test_log_exports_and_monitoring_round_trip(aws, net):
    rds = aws.client("rds")
    role = aws.client("iam").create_role(RoleName="rds-monitoring",
                                         AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    rds.create_db_subnet_group(DBSubnetGroupName="dbs", DBSubnetGroupDescription="d", SubnetIds=net["subnets"])
    db = declare(DBInstance("db", DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="genai_admin",
                            DBSubnetGroupName="dbs", EnableCloudwatchLogsExports=["upgrade", "postgresql"],
                            MonitoringInterval=60, MonitoringRoleArn=role))
    ctx = aws.ctx("db")
    pid, _ = db.create(ctx, dict(db.properties))
    seen = rds.describe_db_instances(DBInstanceIdentifier=pid)["DBInstances"][0]
    assert sorted(seen["EnabledCloudwatchLogsExports"]) == ["postgresql", "upgrade"]
    assert (seen["MonitoringInterval"], seen["MonitoringRoleArn"]) == (60, role)
    state = db.read(ctx, pid)
    assert {k: state[k] for k in ("EnableCloudwatchLogsExports", "MonitoringInterval", "MonitoringRoleArn")} == \
        {"EnableCloudwatchLogsExports": ["upgrade", "postgresql"], "MonitoringInterval": 60, "MonitoringRoleArn": role}

    # Drop one log type, monitor less often: ModifyDBInstance gets the difference of the log types.
    new = dict(db.properties, EnableCloudwatchLogsExports=["postgresql"], MonitoringInterval=30)
    db.update(ctx, pid, state, new)
    seen = rds.describe_db_instances(DBInstanceIdentifier=pid)["DBInstances"][0]
    assert seen["EnabledCloudwatchLogsExports"] == ["postgresql"] and seen["MonitoringInterval"] == 30
    db.delete(ctx, pid)


@pytest.mark.parametrize("props", [{"MonitoringInterval": 60}, {"MonitoringRoleArn": "arn:aws:iam::1:role/m"},
                                   {"MonitoringInterval": 45, "MonitoringRoleArn": "arn:aws:iam::1:role/m"}])
def test_half_declared_monitoring_is_refused_before_any_call(props):
    with pytest.raises(PlanError, match="MonitoringInterval"):
        DBInstance("db", DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="genai_admin", **props)
