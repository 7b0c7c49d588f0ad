"""Issue 13 A8b on athena.WorkGroup, on the strict sandbox: create-only members of the configuration never
break an update (managed query results go as ManagedQueryResultsConfigurationUpdates; Identity Center is
refused before any call), read back through boto3."""

from __future__ import annotations

import pytest

from resources.athena import WorkGroup
from resources.base import ResourceError
from tests.helpers import count_calls
from tests.test_athena import RESULTS


def test_a8b_managed_query_results_change_in_place_identity_center_refused(aws):
    cfg = {"ResultConfiguration": {"OutputLocation": RESULTS}, "EnforceWorkGroupConfiguration": True,
           "ManagedQueryResultsConfiguration": {"Enabled": False}}
    wg = WorkGroup("analytics", Configuration=cfg)
    wg.stack = "analytics"
    ctx = aws.ctx("analytics", stack="analytics")
    name, out = wg.create(ctx, dict(wg.properties))
    old = dict(wg.properties)
    new = dict(old, Configuration=dict(cfg, ManagedQueryResultsConfiguration={"Enabled": True},
                                       BytesScannedCutoffPerQuery=20 * 1024**2))
    wg.update(ctx, name, old, new)  # botocore refused ManagedQueryResultsConfiguration in ConfigurationUpdates
    seen = aws.client("athena").get_work_group(WorkGroup=name)["WorkGroup"]
    assert seen["Name"] == name and out["Arn"].endswith(f"workgroup/{name}")
    assert seen["Configuration"]["ManagedQueryResultsConfiguration"]["Enabled"] is True
    assert seen["Configuration"]["BytesScannedCutoffPerQuery"] == 20 * 1024**2

    ic = dict(new, Configuration=dict(new["Configuration"], IdentityCenterConfiguration={
        "EnableIdentityCenter": True, "IdentityCenterInstanceArn": "arn:aws:sso:::instance/ssoins-1"}))
    assert "IdentityCenterConfiguration is fixed" in wg.refusal(new, ic, ["Configuration"])
    with count_calls() as log, pytest.raises(ResourceError, match="IdentityCenterConfiguration is fixed"):
        wg.update(aws.ctx("analytics", stack="analytics"), name, new, ic)
    assert log.mutating == []
