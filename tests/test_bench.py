"""The benchmark in small: ratios against the critical-path bound and call counts, never absolute times."""

import threading
import time

import pytest

import plans
from bench import model, synthetic, walks
from bench.harness import Calls, fresh_aws, workspace
from orchestrator.graph import build_graph
from orchestrator.runs import run_changes

pytestmark = pytest.mark.usefixtures("no_gc")  # timing against a model: see conftest.no_gc


def makespan(strategy, steps):
    t0 = time.perf_counter()
    out = strategy.walk(steps)
    assert out.ok
    return time.perf_counter() - t0


def test_walks_against_the_bound_on_the_production_graph():
    """The production graph's real shape, each step only its modeled wait (1 AWS minute = 100 ms).

    The scale is large enough that dispatch overhead on a busy 2-core CI machine (another test worker
    beside this one) stays well inside the 10 % the ratios allow."""
    g, _ = build_graph(plans.load("genai_demo", "production"))
    m = model.Model(scale=0.1 / 60)
    steps, weights = model.modeled_steps(g, m)
    bound, path = model.bound(steps, weights)
    assert bound > 1.0 and any("kafka" in p or "eks" in p or "rds" in p or "db" in p for p in path)
    ours_unbounded = makespan(walks.ours(), model.modeled_steps(g, m)[0])
    ours_10 = makespan(walks.ours(10), model.modeled_steps(g, m)[0])
    wv = makespan(walks.waves(), model.modeled_steps(g, m)[0])
    assert ours_unbounded <= 1.10 * bound
    assert ours_10 <= 1.10 * bound  # waits lend their slot: 10 slots suffice for the work
    assert wv > ours_10 and wv >= model.waves_bound(steps, weights)


def test_delete_walks_against_the_bound_on_the_production_graph():
    """The destroy direction: ~150 deletes are ready at once, and the one that bounds the walk
    (OpenSearch's) becomes ready only when its dependents are gone, in the middle of that burst."""
    g, _ = build_graph(plans.load("genai_demo", "production"))
    m = model.Model(scale=0.1 / 60)
    steps, weights = model.modeled_steps(g, m, "delete")
    bound, path = model.bound(steps, weights)
    assert bound > 0.5 and any("opensearch" in p for p in path)
    assert makespan(walks.ours(), model.modeled_steps(g, m, "delete")[0]) <= 1.10 * bound
    assert makespan(walks.ours(10), model.modeled_steps(g, m, "delete")[0]) <= 1.10 * bound


def test_more_waits_than_slots_beats_the_terraform_like_walk():
    """30 slow resources behind one subnet: Terraform's 10 held slots need 3 rounds, lent slots need one."""
    from orchestrator.executor import Step, lend_slot

    def steps():
        def wait(s):
            def run():
                with lend_slot():
                    threading.Event().wait(s)
            return run
        out = {"subnet": Step("subnet", wait(0.0), set(), 1.5)}
        out.update({f"db{i}": Step(f"db{i}", wait(0.5), {"subnet"}, 0.5) for i in range(30)})
        return out

    bound = 0.5
    ours = makespan(walks.ours(10), steps())
    tf = makespan(walks.terraform_like(10), steps())
    assert ours <= 1.10 * bound + 0.05 and tf >= 3 * bound
    assert tf / ours >= 2


@pytest.mark.slow
def test_noop_plan_costs_one_query_and_no_mutation():
    name = synthetic.install(50)
    with fresh_aws(0) as clients:
        ws = workspace(clients, "bench", name)
        _, rep = run_changes(ws, "apply")
        assert rep is not None and rep.ok
        calls = Calls()
        clients.add_hook("before-call", calls)
        for refresh in (False, True):
            with calls.counting():
                p, none = run_changes(workspace(clients, "bench", name, refresh=refresh), "apply")
            kinds = calls.by_kind()
            assert none is None and not p.has_changes
            assert calls.of("state")["dynamodb.Query"] == 1  # one stack, one Query
            assert kinds["mutating"] == 0 and kinds["waiter poll"] == 0
            if not refresh:
                assert kinds["read"] == 0
                continue
            # At most one read call per resource. SSM parameters are read in batches: GetParameters
            # takes 10 names, DescribeParameters 50 (moto answers it 10 per page), so 40 parameters
            # cost 4 + 4 calls; topics and log groups one call each.
            params = sum(1 for c in p.changes.values() if c.type == "ssm.Parameter")
            reads = calls.of("read")
            batched = (reads["ssm.GetParameters"], reads["ssm.DescribeParameters"])
            assert params == 40 and batched == (4, 4), reads
            assert kinds["read"] - sum(batched) == len(p.changes) - params
            assert kinds["read"] <= len(p.changes)
