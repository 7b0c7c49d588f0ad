"""The DynamoDB store on moto's DynamoDB: schema, one Query per stack, lease lock, fencing."""

import os
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError

from core.errors import LockError, StateError
from state.dynamodb import DynamoStateStore, Record, machine, process_start


def store(aws, lease=60.0, table="state-test"):
    s = DynamoStateStore(aws.client("dynamodb"), "genai-demo", "dev", table, lease_seconds=lease)
    s.ensure_table()
    return s


def test_table_created_with_encryption_pitr_and_on_demand(aws):
    store(aws)
    ddb = aws.client("dynamodb")
    t = ddb.describe_table(TableName="state-test")["Table"]
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert t["SSEDescription"]["Status"] in ("ENABLED", "ENABLING")
    pitr = ddb.describe_continuous_backups(TableName="state-test")["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def _pitr(aws, table="state-test"):
    desc = aws.client("dynamodb").describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    return desc["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]


def _raw_state_table(aws, table="state-test"):
    aws.client("dynamodb").create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])


def test_rule_dynamodb_pitr_new_table(aws):
    """Raw boto3: PITR is refused on a table created moments ago, and accepted once its window has passed."""
    # Wide: the call must land inside the window however busy the machine; then a window the table has
    # already outlived (its age is past 0.5 s by now) shows the acceptance without racing the clock.
    aws.rules.configure("dynamodb-pitr-new-table", seconds=60.0)
    _raw_state_table(aws)
    ddb = aws.client("dynamodb")
    spec = {"PointInTimeRecoveryEnabled": True}
    with pytest.raises(ClientError) as exc:
        ddb.update_continuous_backups(TableName="state-test", PointInTimeRecoverySpecification=spec)
    assert exc.value.response["Error"]["Code"] == "ContinuousBackupsUnavailableException"
    assert "Backups are being enabled for the table: state-test" in exc.value.response["Error"]["Message"]
    assert _pitr(aws) == "DISABLED"
    time.sleep(0.5)
    aws.rules.configure("dynamodb-pitr-new-table", seconds=0.5)
    ddb.update_continuous_backups(TableName="state-test", PointInTimeRecoverySpecification=spec)
    assert _pitr(aws) == "ENABLED"


def test_first_creation_enables_pitr_through_the_new_tables_refusal(aws):
    aws.rules.configure("dynamodb-pitr-new-table", seconds=2.0)
    before = aws.rules.trips().get("dynamodb-pitr-new-table", 0)
    s = store(aws)
    assert _pitr(aws) == "ENABLED"
    assert aws.rules.trips().get("dynamodb-pitr-new-table", 0) > before and s.pitr_attempts > 1


def test_pitr_refused_past_its_budget_is_a_clear_error(aws, monkeypatch):
    aws.rules.configure("dynamodb-pitr-new-table", seconds=30.0)
    monkeypatch.setenv("INFRA_RETRY_SCALE", "0.0001")  # a 0.12 s budget
    with pytest.raises(StateError, match="point-in-time recovery is not on after .*Backups are being enabled"):
        store(aws)


def test_a_rerun_enables_pitr_on_a_table_left_without_it(aws):
    """A first run cut off between CreateTable and PITR: the next one finds the table and still turns PITR on."""
    _raw_state_table(aws)
    aws.rules.configure("dynamodb-pitr-new-table", seconds=0.0)
    assert _pitr(aws) == "DISABLED"
    s = store(aws)
    assert _pitr(aws) == "ENABLED" and s.pitr_attempts == 1
    assert store(aws).pitr_attempts == 0  # already on: not called again


def test_wrong_schema_is_refused(aws):
    aws.client("dynamodb").create_table(
        TableName="other", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    with pytest.raises(StateError, match="not a genai-infra state table"):
        store(aws, table="other")


def test_records_round_trip_and_one_query_per_stack(aws):
    s = store(aws)
    s.acquire("apply")
    s.put(Record("main.vpc", "ec2.Vpc", "vpc-1", {"CidrBlock": "10.0.0.0/16"}, {"VpcId": "vpc-1"}))
    s.put(Record("main.subnet", "ec2.Subnet", "subnet-1", {}, {}, deps=["main.vpc"]))
    s.put(Record("observability.log", "logs.LogGroup", "lg", {}, {}))
    calls = []
    s.db.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    recs = s.read_stack("main")
    assert calls == ["Query"]
    assert set(recs) == {"main.vpc", "main.subnet"} and recs["main.subnet"].deps == ["main.vpc"]
    assert s.serial() == 3
    s.remove("main.subnet")
    assert set(s.read_stack("main")) == {"main.vpc"}
    s.release()


def test_corrupt_record_is_a_clear_error(aws):
    s = store(aws)
    aws.client("dynamodb").put_item(TableName="state-test", Item={
        "pk": {"S": "genai-demo#dev#main"}, "sk": {"S": "main.vpc"}, "type": {"S": "ec2.Vpc"},
        "physical_id": {"S": "vpc-1"}, "props": {"S": "{not json"}, "outputs": {"S": "{}"}, "status": {"S": "created"}})
    with pytest.raises(StateError, match="main.vpc is corrupt"):
        s.read_stack("main")


def test_second_holder_fails_at_once_naming_the_holder(aws):
    a, b = store(aws), store(aws)
    a.acquire("apply", owner="alice@host:1")
    calls = []
    b.db.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    with pytest.raises(LockError, match="alice@host:1"):
        b.acquire("apply", owner="bob@host:2")
    # At once: a few reads and the one refused write, no retry loop waiting for the lease (counted, not timed).
    assert calls.count("UpdateItem") == 1 and len(calls) <= 5, calls
    a.release()
    b.acquire("apply", owner="bob@host:2")
    b.release()


def test_expired_lease_is_taken_over_and_stale_writer_is_fenced(aws):
    dead = store(aws, lease=0.3)
    dead.acquire("apply", owner="dead@host:1")
    dead._hb_stop.set()  # the process is paused: no heartbeat
    time.sleep(0.5)
    new = store(aws)
    new.acquire("apply", owner="new@host:2")
    assert any("dead@host:1" in w for w in new.warnings)
    with pytest.raises(LockError, match="no longer holds the lock"):
        dead.put(Record("main.vpc", "ec2.Vpc", "vpc-stale"))
    new.put(Record("main.vpc", "ec2.Vpc", "vpc-new"))
    assert new.read_stack("main")["main.vpc"].physical_id == "vpc-new"
    new.release()


def test_live_holder_is_never_overrun_thanks_to_heartbeat(aws):
    live = store(aws, lease=2.0)  # a beat every 0.67 s: generous for a busy CI machine
    live.acquire("apply", owner="live@host:1")
    time.sleep(3.0)  # longer than the lease: only the heartbeat keeps it
    with pytest.raises(LockError, match="live@host:1"):
        store(aws).acquire("apply", owner="other@host:2")
    live.release()


def test_force_unlock(aws):
    s = store(aws)
    s.acquire("apply", owner="gone@host:9")
    s._hb_stop.set()
    held = store(aws).force_unlock()
    assert held["owner"] == "gone@host:9"
    other = store(aws)
    other.acquire("apply")
    with pytest.raises(LockError):
        s.put(Record("main.x", "ec2.Vpc", "v"))
    other.release()


def _slow_transactions(s, seconds=0.05):
    """Make every TransactWriteItems take a while, so concurrent writers pile up behind the one in flight."""
    calls = []

    def before(model, **_):
        if model.name == "TransactWriteItems":
            calls.append(model.name)
            time.sleep(seconds)
    s.db.meta.events.register("before-call.dynamodb", before)
    return calls


def test_concurrent_writes_are_group_committed_each_with_its_own_serial(aws):
    import threading

    s = store(aws)
    s.acquire("apply")
    calls = _slow_transactions(s)
    recs = [Record(f"main.p{i}", "ssm.Parameter", f"p{i}", {"i": i}, {}) for i in range(20)]
    threads = [threading.Thread(target=s.put, args=(r, "create")) for r in recs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = s.read_stack("main")
    assert set(stored) == {r.address for r in recs}
    # One transaction per batch, not per write: writers that queued behind one in flight went together.
    assert len(calls) < len(recs) / 2
    serials = sorted(r.serial for r in recs)
    assert serials == list(range(1, 21)) and s.serial() == 20
    assert {stored[r.address].serial for r in recs} == set(serials)  # each stored record carries its serial
    history = s.history(limit=50)
    assert sorted(h["serial"] for h in history) == serials
    assert {h["address"] for h in history} == {r.address for r in recs}
    s.release()


def test_a_batch_with_one_bad_write_fails_only_that_write(aws):
    import threading

    s = store(aws)
    s.acquire("apply")
    _slow_transactions(s)
    good = [Record(f"main.p{i}", "ssm.Parameter", f"p{i}", {}, {}) for i in range(6)]
    bad = Record("main.huge", "ssm.Parameter", "huge", {"v": "x" * 500_000}, {})  # over DynamoDB's 400 KB item limit
    errors = {}

    def put(r):
        try:
            s.put(r)
        except Exception as exc:  # noqa: BLE001
            errors[r.address] = exc
    threads = [threading.Thread(target=put, args=(r,)) for r in [*good[:3], bad, *good[3:]]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(errors) == {"main.huge"}
    assert set(s.read_stack("main")) == {r.address for r in good}
    s.release()


def test_a_batch_from_a_fenced_writer_writes_nothing(aws):
    import threading

    s = store(aws, lease=0.5)
    s.acquire("apply")
    s._hb_stop.set()  # the stale process stops renewing
    time.sleep(0.6)
    other = store(aws)
    other.acquire("apply")
    _slow_transactions(s)
    errors = []

    def put(i):
        try:
            s.put(Record(f"main.p{i}", "ssm.Parameter", f"p{i}", {}, {}))
        except LockError as exc:
            errors.append(exc)
    threads = [threading.Thread(target=put, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 8 and s.read_stack("main") == {}
    other.release()


def test_an_interrupted_batch_leaves_no_writer_waiting(aws):
    """The writer committing a batch is interrupted (a signal in its thread): every writer in that
    batch gets the interrupt as its answer instead of waiting forever for a verdict."""
    import threading

    s = store(aws)
    s.acquire("apply")
    calls = []

    def before(model, **_):
        if model.name == "TransactWriteItems":
            calls.append(1)
            if len(calls) == 1:
                time.sleep(0.1)  # the others queue behind this one
            elif len(calls) == 2:
                raise KeyboardInterrupt
    s.db.meta.events.register("before-call.dynamodb", before)
    outcome = {}

    def put(i):
        try:
            s.put(Record(f"main.p{i}", "ssm.Parameter", f"p{i}", {}, {}))
            outcome[i] = "written"
        except BaseException as exc:  # noqa: BLE001
            outcome[i] = type(exc).__name__
    threads = [threading.Thread(target=put, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
        time.sleep(0.01)
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads)
    assert outcome[0] == "written" and set(outcome.values()) <= {"written", "KeyboardInterrupt"}
    interrupted = {i for i, o in outcome.items() if o == "KeyboardInterrupt"}
    assert interrupted and set(s.read_stack("main")) == {f"main.p{i}" for i in outcome if i not in interrupted}
    s.release()


def _dead_pid():
    """The pid of a process of this machine that has exited (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _plant_holder(aws, s, *, pid, host=None, boot=None, owner="ghost@here:1", expires_in=3600.0):
    """A lease record as a crashed (or live, or remote) holder left it, unexpired for an hour."""
    here, here_boot = machine()
    now = time.time()
    aws.client("dynamodb").put_item(TableName=s.table, Item={
        "pk": {"S": s.env_pk}, "sk": {"S": "#lock"}, "owner": {"S": owner}, "operation": {"S": "apply"},
        "expires": {"N": repr(now + expires_in)}, "acquired_at": {"N": repr(now)}, "fence": {"N": "7"},
        "host": {"S": host if host is not None else here}, "boot": {"S": boot if boot is not None else here_boot},
        "pid": {"N": str(pid)}, "pstart": {"S": process_start(pid)}})


def test_lease_of_a_dead_process_on_this_machine_is_taken_at_once(aws):
    s = store(aws)
    _plant_holder(aws, s, pid=_dead_pid())
    lease = s.acquire("apply")  # the planted lease runs for another hour: a wait would never end
    assert s.acquire_attempts == 1 and lease.fence == 8
    assert any("ghost@here:1" in w and "no longer running" in w for w in s.warnings)
    held = s.lock_info()
    assert held["pid"] == os.getpid() and (held["host"], held["boot"]) == machine()
    s.release()


def test_lease_of_a_live_process_or_another_machine_is_never_taken(aws):
    s = store(aws)
    here, boot = machine()
    assert boot, "this test needs /proc (Linux)"
    for holder in ({"pid": os.getpid()},  # alive: this very test
                   {"pid": _dead_pid(), "host": "another-host"},  # a pid means nothing on another machine
                   {"pid": _dead_pid(), "boot": "other-boot/pid:[1]"},  # same name, other machine or container
                   {"pid": _dead_pid(), "host": "", "boot": ""}):  # a record from before hosts were recorded
        _plant_holder(aws, s, **holder)
        with pytest.raises(LockError, match="ghost@here:1"):
            s.acquire("apply")
    assert s.lock_info()["owner"] == "ghost@here:1"


def test_a_reused_pid_is_not_mistaken_for_the_holder(aws):
    """The holder died and the kernel gave its pid to another process: told apart by its start time."""
    s = store(aws)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _plant_holder(aws, s, pid=other.pid)
        with pytest.raises(LockError, match="ghost@here:1"):  # the holder itself, alive
            s.acquire("apply")
        aws.client("dynamodb").update_item(TableName=s.table, Key={"pk": {"S": s.env_pk}, "sk": {"S": "#lock"}},
                                           UpdateExpression="SET pstart = :x",
                                           ExpressionAttributeValues={":x": {"S": "1"}})
        s.acquire("apply")  # same pid, another process: the holder is gone
        assert s.acquire_attempts == 2
        s.release()
    finally:
        other.kill()
        other.wait()
