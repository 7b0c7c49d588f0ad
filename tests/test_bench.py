"""The benchmark in small, on a virtual clock: the walks against the critical-path bound, exactly.

Each modeled step only waits (clock.sleep inside lend_slot) on a VirtualClock, which moves only when
every thread of the walk is blocked: a makespan is the simulated time the walk took, the same however
busy the machine is, so the bounds hold exactly instead of within a band. Wall-clock figures stay in
bench/ (`python -m bench`) and docs/performance.md. Also: call counts of a no-op plan.
"""

import pytest

import plans
from bench import model, synthetic, walks
from bench.harness import Calls, fresh_aws, workspace
from orchestrator.executor import Step, VirtualClock, lend_slot
from orchestrator.graph import build_graph
from orchestrator.runs import run_changes

EPS = 1e-6  # float sums along a path


def makespan(make_strategy, steps_for):
    """Simulated seconds the strategy takes over fresh steps, both on one new virtual clock."""
    clock = VirtualClock()
    steps = steps_for(clock)
    start = clock.now()
    out = make_strategy(clock).walk(steps)
    assert out.ok
    return clock.now() - start, out


def test_walks_against_the_bound_on_the_production_graph():
    """The production graph's real shape, each step only its modeled wait, in AWS seconds."""
    g, _ = build_graph(plans.load("genai_demo", "production"))
    m = model.Model(scale=1.0)
    steps, weights = model.modeled_steps(g, m)
    bound, path = model.bound(steps, weights)
    assert bound > 600 and any("kafka" in p or "eks" in p or "rds" in p or "db" in p for p in path)

    def fresh(clock):
        return model.modeled_steps(g, m, clock=clock)[0]

    ours_unbounded, _ = makespan(lambda c: walks.ours(clock=c), fresh)
    ours_10, out = makespan(lambda c: walks.ours(10, clock=c), fresh)
    wv, _ = makespan(lambda c: walks.waves(clock=c), fresh)
    assert ours_unbounded == pytest.approx(bound, abs=EPS)
    assert ours_10 == pytest.approx(bound, abs=EPS)  # waits lend their slot: 10 slots suffice for the work
    assert wv == pytest.approx(model.waves_bound(steps, weights), abs=EPS) and wv > ours_10
    # The chain that bounds the walk ran back to back: each step started when its predecessor finished.
    for a, b in zip(path, path[1:], strict=False):
        assert out.started_at[b] == pytest.approx(out.finished_at[a], abs=EPS)


def test_delete_walks_against_the_bound_on_the_production_graph():
    """The destroy direction: ~150 deletes are ready at once, and the one that bounds the walk (MSK's,
    after its topic's; OpenSearch's alone is as long) becomes ready only when its dependents are gone, in
    the middle of that burst."""
    g, _ = build_graph(plans.load("genai_demo", "production"))
    m = model.Model(scale=1.0)
    steps, weights = model.modeled_steps(g, m, "delete")
    bound, path = model.bound(steps, weights)
    assert bound > 300 and path[:2] == ["analytics.domain_events_topic", "main.kafka"]

    def fresh(clock):
        return model.modeled_steps(g, m, "delete", clock=clock)[0]

    assert makespan(lambda c: walks.ours(clock=c), fresh)[0] == pytest.approx(bound, abs=EPS)
    assert makespan(lambda c: walks.ours(10, clock=c), fresh)[0] == pytest.approx(bound, abs=EPS)


def waits_behind_one_subnet(n: int, seconds: float):
    """n slow resources (each `seconds` of waiting) behind one subnet, for a given clock."""
    def steps(clock):
        def wait(s):
            def run():
                with lend_slot():
                    clock.sleep(s)
            return run
        out = {"subnet": Step("subnet", wait(0.0), set(), 1.5)}
        out.update({f"db{i}": Step(f"db{i}", wait(seconds), {"subnet"}, 0.5) for i in range(n)})
        return out
    return steps


def test_more_waits_than_slots_beats_the_terraform_like_walk():
    """30 slow resources behind one subnet: Terraform's 10 held slots need 3 rounds, lent slots need one."""
    ours, out = makespan(lambda c: walks.ours(10, clock=c), waits_behind_one_subnet(30, 600))
    tf, tf_out = makespan(lambda c: walks.terraform_like(10, clock=c), waits_behind_one_subnet(30, 600))
    assert ours == 600 and tf == 3 * 600
    assert sum(out.waited.values()) == 30 * 600  # every wait lent its slot for all of its time
    assert sorted(set(tf_out.started_at.values())) == [0, 600, 1200]  # rounds of 10 (after the subnet at 0)


def test_twelve_databases_ours_one_round_terraform_like_two():
    """The shape tests/test_bench_moto.py runs on moto (12 PostgreSQL instances, 10 AWS minutes each,
    10 slots): here its timing claims, exactly; there its calls and outcomes."""
    ours, _ = makespan(lambda c: walks.ours(10, clock=c), waits_behind_one_subnet(12, 600))
    tf, _ = makespan(lambda c: walks.terraform_like(10, clock=c), waits_behind_one_subnet(12, 600))
    assert ours == 600 and tf == 2 * 600


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
            # Tag drift reads the tags through the tagging API: a few calls for the whole env, not per resource.
            tagging = reads.get("resourcegroupstaggingapi.GetResources", 0)
            assert 1 <= tagging <= 3, reads
            assert kinds["read"] - sum(batched) - tagging == len(p.changes) - params
            assert kinds["read"] <= len(p.changes)
