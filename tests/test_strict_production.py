"""Issue 12's proof: the production environment, all three stacks, applied and destroyed on the strict
sandbox with every rule on, each at the first try; the run's report lists every retry it made, and the
sandbox confirms its rules were met (they refused something, and the tool waited it out)."""

from __future__ import annotations

import pytest

from sandbox import strict
from tests.test_e2e_main import leftovers, restore_final_snapshots

pytestmark = pytest.mark.slow

# The rules a production apply and destroy must meet on the way (each refuses at least once).
MET = {"iam-propagation", "ec2-consistency", "lingering-enis", "sns-pending", "dynamodb-pitr-new-table"}


def test_production_applies_and_destroys_at_the_first_try_on_the_strict_sandbox(infra_sandbox):
    # The ENIs a deleted ALB, domain or cluster leaves linger longer than the destroy takes to reach their
    # groups and subnets (at the 1.5 s default the walk often gets there after they are gone).
    infra_sandbox.rules.configure("lingering-enis", seconds=6.0)
    before = strict.trips()
    applied = infra_sandbox.apply("genai_demo", env="production")
    assert applied.ok, applied.summary()
    assert applied.retry_log, "the strict rules should have made the apply retry"
    for r in applied.retry_log:
        print(f"apply retry: {r.address} {r.phase} {r.code} x{r.attempts} over {r.seconds:.2f} s")
    assert not infra_sandbox.plan("genai_demo", env="production").has_changes  # converged in one run

    destroyed = infra_sandbox.destroy("genai_demo", env="production", allow_protected=True)
    assert destroyed.ok, destroyed.summary()
    for r in destroyed.retry_log:
        print(f"destroy retry: {r.address} {r.phase} {r.code} x{r.attempts} over {r.seconds:.2f} s")
    tripped = {k for k, n in strict.trips().items() if n > before.get(k, 0)}
    assert MET <= tripped, f"rules never met: {sorted(MET - tripped)} (tripped: {sorted(tripped)})"
    assert leftovers(infra_sandbox.aws, "production") == {}
    # Its final snapshots survive it: their key is not pending deletion, and RDS restores them.
    assert restore_final_snapshots(infra_sandbox.aws, "production")
