"""The DynamoDB state store.

One table, one item per resource (pk = project#env#stack, sk = address), so
reading a stack is one Query. Reserved sort keys start with '#'. The lock is
a lease item per project#env; every record write is a transaction that also
checks the lease's fencing number, so a process that lost its lease (paused,
then resumed) cannot overwrite newer state.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.errors import LockError, StateError, error_code, error_message

DEFAULT_TABLE = "genai-infra-state"
# How long a new table's "Backups are being enabled" is waited out (Terraform: updateTableContinuousBackupsTimeout).
PITR_SECONDS = 1200.0
LOCK_SK = "#lock"
META_SK = "#meta"


def whoami() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}:{os.getpid()}"


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def machine() -> tuple[str, str]:
    """(host name, boot): where a pid means this process table.

    The name alone is not enough: two machines (CI runners, laptops called
    "localhost") share names, and containers on one kernel share a boot id but
    not their pid namespace. So "boot" is the kernel's boot id plus the pid
    namespace; empty where the system has neither (then no holder is ever
    judged dead by pid, only by its lease running out).
    """
    boot = _read("/proc/sys/kernel/random/boot_id")
    try:
        ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        ns = ""
    return socket.gethostname(), f"{boot}/{ns}" if boot and ns else ""


def process_start(pid: int) -> str:
    """When process `pid` started (clock ticks since boot, /proc/<pid>/stat field 22); "" where unknown.

    Recorded with the pid, so a pid the kernel handed to a new process after the holder died is not
    mistaken for the holder.
    """
    stat = _read(f"/proc/{pid}/stat")
    fields = stat.rsplit(")", 1)[-1].split() if stat else []
    return fields[19] if len(fields) > 19 else ""


def pid_running(pid: int, start: str = "") -> bool:
    """Whether `pid` is a live process of this process table (and the one that started at `start`)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    stat = _read(f"/proc/{pid}/stat")
    if stat and stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]:
        return False  # a zombie: dead, waiting for its parent to reap it
    return not (start and process_start(pid) not in ("", start))


@dataclass
class Record:
    """What the state knows of one resource."""

    address: str
    type: str
    physical_id: str | None
    props: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    # created | creating | updating | deleting | tainted (exists, in a failure state: replaced by the next apply)
    status: str = "created"
    deps: list[str] = field(default_factory=list)
    lifecycle: dict[str, Any] = field(default_factory=dict)
    token: str = ""
    serial: int = 0
    updated_at: float = 0.0
    updated_by: str = ""
    reason: str = ""  # why a tainted record is tainted: AWS's state and reason
    # The replacement name scheme (issue 13): "" for the first copy, "r1", "r2"... for each create-first
    # replacement, which needs a second name while the old copy still exists. Ctx.physical_name appends it,
    # so find() looks for the right copy after a crash.
    generation: str = ""
    # Old copies a create-first replacement still has to delete, [physical id, generation] each: kept in
    # state from the moment the new copy's create is recorded, so a crash never orphans one.
    retiring: list[list[str]] = field(default_factory=list)
    # The tags the tool last applied (issue 13: tags are part of the diff); {} when not known (a record
    # written before tags were recorded, or imported): then tags are not compared.
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def stack(self) -> str:
        return self.address.split(".", 1)[0]

    @property
    def pending(self) -> bool:
        return self.status in ("creating", "updating", "deleting")

    def to_item(self, pk: str) -> dict[str, Any]:
        return {
            "pk": {"S": pk}, "sk": {"S": self.address}, "type": {"S": self.type},
            "physical_id": {"S": self.physical_id or ""}, "props": {"S": json.dumps(self.props, sort_keys=True)},
            "outputs": {"S": json.dumps(self.outputs, sort_keys=True)}, "status": {"S": self.status},
            "deps": {"S": json.dumps(sorted(self.deps))}, "lifecycle": {"S": json.dumps(self.lifecycle)},
            "token": {"S": self.token}, "serial": {"N": str(self.serial)},
            "updated_at": {"N": repr(self.updated_at)}, "updated_by": {"S": self.updated_by},
            "reason": {"S": self.reason}, "generation": {"S": self.generation},
            "retiring": {"S": json.dumps(self.retiring)}, "tags": {"S": json.dumps(self.tags, sort_keys=True)},
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Record:
        where = f"state record {item.get('pk', {}).get('S')}/{item.get('sk', {}).get('S')}"
        try:
            return cls(
                address=item["sk"]["S"], type=item["type"]["S"],
                physical_id=item["physical_id"]["S"] or None,
                props=json.loads(item["props"]["S"]), outputs=json.loads(item["outputs"]["S"]),
                status=item["status"]["S"], deps=json.loads(item.get("deps", {"S": "[]"})["S"]),
                lifecycle=json.loads(item.get("lifecycle", {"S": "{}"})["S"]),
                token=item.get("token", {"S": ""})["S"], serial=int(item.get("serial", {"N": "0"})["N"]),
                updated_at=float(item.get("updated_at", {"N": "0"})["N"]),
                updated_by=item.get("updated_by", {"S": ""})["S"],
                reason=item.get("reason", {"S": ""})["S"],
                generation=item.get("generation", {"S": ""})["S"],
                retiring=json.loads(item.get("retiring", {"S": "[]"})["S"]),
                tags=json.loads(item.get("tags", {"S": "{}"})["S"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(f"{where} is corrupt ({type(exc).__name__}: {exc}); fix or remove it with "
                             f"`infra state rm` before running again — nothing was changed") from exc


@dataclass
class Lease:
    owner: str
    operation: str
    fence: int
    expires: float
    acquired_at: float


def holder_dead(held: dict[str, Any]) -> bool:
    """Whether the lease holder is certainly gone: a process of this very machine that no longer runs.

    A holder on another machine (or one recorded before hosts were recorded) is never judged: its lease
    must run out. Our own process is alive by definition (a second store of this process waits its turn).
    """
    pid, start = held.get("pid"), held.get("pstart", "")
    here, boot = machine()
    if not pid or not boot or held.get("host") != here or held.get("boot") != boot:
        return False
    return pid != os.getpid() and not pid_running(pid, start)


@dataclass
class _Write:
    """One caller's state write waiting in the group-commit queue."""

    ops: list[dict[str, Any]]
    what: str
    change: dict[str, Any] | None
    serial: int | None = None
    error: BaseException | None = None
    done: bool = False


class _SerialMoved(StateError):
    """Someone else bumped the serial while we held the lease: no write of the batch may go in."""


# DynamoDB's transaction limits: 100 items and 4 MB; two items go to the lease check and the serial.
MAX_TXN_ITEMS = 100
MAX_TXN_BYTES = 3_500_000


def _take_batch(queue: list[_Write]) -> list[_Write]:
    """The oldest queued writes that fit one transaction and touch distinct items (removed from `queue`)."""
    batch: list[_Write] = []
    items, size, keys = 2, 0, set()
    while queue:
        w = queue[0]
        w_items = len(w.ops) + (w.change is not None)
        w_size = len(json.dumps(w.ops, default=str)) + 500
        w_keys = {json.dumps(next(iter(op.values())).get("Key") or _key(next(iter(op.values()))["Item"]),
                             sort_keys=True) for op in w.ops}
        if batch and (items + w_items > MAX_TXN_ITEMS or size + w_size > MAX_TXN_BYTES or keys & w_keys):
            break
        batch.append(queue.pop(0))
        items, size, keys = items + w_items, size + w_size, keys | w_keys
    return batch


def _key(item: dict[str, Any]) -> dict[str, Any]:
    return {"pk": item["pk"], "sk": item["sk"]}


class DynamoStateStore:
    """State for one project and env; stacks are partitions."""

    def __init__(self, client: Any, project: str, env: str, table: str = DEFAULT_TABLE,
                 lease_seconds: float = 60.0) -> None:
        self.db = client
        self.project, self.env, self.table = project, env, table
        self.lease_seconds = lease_seconds
        self.lease: Lease | None = None
        self._hb_stop = threading.Event()
        self._hb: threading.Thread | None = None
        self.warnings: list[str] = []
        # One transaction in flight per process: serials and history entries stay in order. Writers
        # queue in _queue and the lock holder commits them together (see _fenced).
        self._write_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Write] = []
        self._serial: int | None = None  # known while we hold the lease
        self.pitr_attempts = 0  # UpdateContinuousBackups calls made by ensure_pitr (tests read it)
        self.acquire_attempts = 0  # conditional writes acquire() made: one per call, it never waits

    # -- table ------------------------------------------------------------------------

    def ensure_table(self) -> None:
        """Create the table on first use; refuse a table whose schema is not ours."""
        try:
            desc = self.db.describe_table(TableName=self.table)["Table"]
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            self.db.create_table(
                TableName=self.table, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                      {"AttributeName": "sk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                SSESpecification={"Enabled": True},
                Tags=[{"Key": "infra:project", "Value": "genai-infra"}],
            )
            self.db.get_waiter("table_exists").wait(TableName=self.table,
                                                    WaiterConfig={"Delay": 1, "MaxAttempts": 60})
            self.ensure_pitr()
            return
        keys = {(k["AttributeName"], k["KeyType"]) for k in desc["KeySchema"]}
        if keys != {("pk", "HASH"), ("sk", "RANGE")}:
            raise StateError(f"state table {self.table!r} exists but has key schema {sorted(keys)}, not "
                             "pk (HASH) + sk (RANGE): it is not a genai-infra state table. Use --state-table to "
                             "name another table")
        self.ensure_pitr()  # a first run cut off between CreateTable and PITR left it without

    def _pitr_status(self) -> str:
        desc = self.db.describe_continuous_backups(TableName=self.table)["ContinuousBackupsDescription"]
        return desc.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus", "DISABLED")

    def ensure_pitr(self) -> None:
        """Point-in-time recovery on: the state is the only record of what exists, so it must be restorable.

        A table created moments ago refuses (ContinuousBackupsUnavailableException, "Backups are being
        enabled") until DynamoDB has set up its backups; that answer is retried for PITR_SECONDS, as
        Terraform does (dynamodb/table.go updatePITR), and success is what DescribeContinuousBackups says,
        not that the call returned.
        """
        if self._pitr_status() == "ENABLED":
            return
        scale = float(os.environ.get("INFRA_RETRY_SCALE", "1") or 1)
        delay = float(os.environ.get("INFRA_RETRY_INITIAL", "1") or 1)
        cap, deadline = 20 * delay, time.monotonic() + PITR_SECONDS * scale
        while True:
            self.pitr_attempts += 1
            try:
                self.db.update_continuous_backups(
                    TableName=self.table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
            except Exception as exc:
                if not (error_code(exc) == "ContinuousBackupsUnavailableException"
                        and "backups are being enabled" in error_message(exc).lower()):
                    raise
                last = error_message(exc)
            else:
                status = self._pitr_status()
                if status in ("ENABLED", "ENABLING"):
                    return
                last = f"PointInTimeRecoveryStatus is still {status}"
            if time.monotonic() >= deadline:
                raise StateError(f"state table {self.table!r}: point-in-time recovery is not on after "
                                 f"{PITR_SECONDS * scale:.0f} s ({last}); the next command tries again")
            time.sleep(delay)
            delay = min(cap, delay * 2)

    def pk(self, stack: str) -> str:
        return f"{self.project}#{self.env}#{stack}"

    @property
    def env_pk(self) -> str:
        return f"{self.project}#{self.env}"

    # -- reads ----------------------------------------------------------------------------

    def read_stack(self, stack: str) -> dict[str, Record]:
        """All records of a stack in one Query (paginated only past 1 MB)."""
        out: dict[str, Record] = {}
        kw: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "pk = :pk",
                              "ExpressionAttributeValues": {":pk": {"S": self.pk(stack)}}, "ConsistentRead": True}
        while True:
            resp = self.db.query(**kw)
            for item in resp["Items"]:
                if not item["sk"]["S"].startswith("#"):
                    rec = Record.from_item(item)
                    out[rec.address] = rec
            if "LastEvaluatedKey" not in resp:
                return out
            kw["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def read(self, stacks: Iterable[str]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        for s in stacks:
            out.update(self.read_stack(s))
        return out

    def serial(self) -> int:
        item = self.db.get_item(TableName=self.table, Key={"pk": {"S": self.env_pk}, "sk": {"S": META_SK}},
                                ConsistentRead=True).get("Item")
        return int(item["serial"]["N"]) if item else 0

    def history(self, limit: int = 50) -> list[dict[str, Any]]:
        resp = self.db.query(TableName=self.table, KeyConditionExpression="pk = :pk",
                             ExpressionAttributeValues={":pk": {"S": self.env_pk + "#history"}},
                             ScanIndexForward=False, Limit=limit)
        return [json.loads(i["entry"]["S"]) for i in resp["Items"]]

    # -- writes (fenced) ------------------------------------------------------------------

    def _fenced(self, ops: list[dict[str, Any]], what: str, change: dict[str, Any] | None = None) -> int:
        """Write `ops` durably with the lease check and a serial of their own; returns that serial.

        Writes are group-committed: a writer queues its write, and whoever holds the
        write lock commits every queued write in one transaction. Concurrent steps
        therefore do not queue one round trip each behind the lock (with 10 steps
        writing at once that queue was the apply's longest wait), yet each call
        still returns only once its own write is durable.
        """
        if self.lease is None:
            raise StateError(f"internal: state write ({what}) without holding the lock")
        w = _Write(ops, what, change)
        with self._queue_lock:
            self._queue.append(w)
        while not w.done:
            with self._write_lock:
                if w.done:
                    break
                with self._queue_lock:
                    batch = _take_batch(self._queue)
                if not batch:  # ours left the queue in a batch that ended without a verdict
                    raise StateError(f"internal: state write for {what} was lost from the commit queue")
                self._commit(batch)
        if w.error is not None:
            raise w.error
        assert w.serial is not None
        return w.serial

    def _commit(self, batch: list[_Write]) -> None:
        """Commit a batch. A batch failing for something other than the lease or the serial may be one
        write's own fault (an oversized record): its writes are retried one by one, so only that one fails."""
        try:
            self._fenced_locked(batch)
        except BaseException as exc:  # handed to each writer, who raises it (an interrupt included)
            if isinstance(exc, Exception) and len(batch) > 1 and not isinstance(exc, LockError | _SerialMoved):
                for w in batch:
                    self._commit([w])
                return
            for w in batch:
                w.error, w.done = exc, True
            if not isinstance(exc, Exception):
                raise

    def _fenced_locked(self, batch: list[_Write]) -> None:
        """One TransactWriteItems: lease check, serial bump, and each write's record and history entry.

        The serial is ours to number while we hold the lease (read once at acquire), so the bump is a
        conditional SET rather than ADD-then-read: one call per batch of state writes, not three per write.
        """
        assert self.lease is not None
        now = time.time()
        if self._serial is None:
            self._serial = self.serial()
        old, new = self._serial, self._serial + len(batch)
        check = {"ConditionCheck": {
            "TableName": self.table, "Key": {"pk": {"S": self.env_pk}, "sk": {"S": LOCK_SK}},
            "ConditionExpression": "fence = :f AND #o = :o",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":f": {"N": str(self.lease.fence)}, ":o": {"S": self.lease.owner}}}}
        bump = {"Update": {
            "TableName": self.table, "Key": {"pk": {"S": self.env_pk}, "sk": {"S": META_SK}},
            "UpdateExpression": "SET serial = :new, updated_at = :t",
            "ConditionExpression": "attribute_not_exists(serial) OR serial = :old",
            "ExpressionAttributeValues": {":new": {"N": str(new)}, ":old": {"N": str(old)}, ":t": {"N": repr(now)}}}}
        items = [check, bump]
        for i, w in enumerate(batch, start=old + 1):
            w.serial = i
            for op in w.ops:
                if "Put" in op and "serial" in op["Put"]["Item"]:
                    op["Put"]["Item"]["serial"] = {"N": str(i)}
                items.append(op)
            if w.change is not None:
                entry = {"serial": i, "who": self.lease.owner, "when": now, **w.change}
                items.append({"Put": {"TableName": self.table, "Item": {
                    "pk": {"S": self.env_pk + "#history"}, "sk": {"S": f"{i:012d}"},
                    "entry": {"S": json.dumps(entry, default=str)}}}})
        what = ", ".join(w.what for w in batch)
        try:
            self.db.transact_write_items(TransactItems=items)
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException":
                reasons = getattr(exc, "response", {}).get("CancellationReasons", [])
                codes = [r.get("Code") for r in reasons]
                if codes[:1] == ["ConditionalCheckFailed"]:
                    raise LockError(f"state write refused for {what}: this run no longer holds the lock "
                                    f"(fence {self.lease.fence}); another run took it over. Nothing was "
                                    "overwritten; re-run to reconcile") from exc
                if codes[1:2] == ["ConditionalCheckFailed"]:
                    self._serial = None
                    raise _SerialMoved(f"state write refused for {what}: the state serial moved from {old} while "
                                     "this run held the lock (a forced unlock and another writer?). Nothing was "
                                     "overwritten; re-run to reconcile") from exc
                raise StateError(f"state write for {what} failed: {error_message(exc)} {reasons}") from exc
            raise
        self._serial = new
        for w in batch:
            w.done = True

    def put(self, rec: Record, change: str = "write") -> None:
        rec.updated_at = time.time()
        rec.updated_by = self.lease.owner if self.lease else whoami()
        rec.serial = self._fenced([{"Put": {"TableName": self.table, "Item": rec.to_item(self.pk(rec.stack))}}],
                                  rec.address, {"address": rec.address, "change": change, "status": rec.status,
                                                "physical_id": rec.physical_id})

    def remove(self, address: str, change: str = "delete") -> None:
        stack = address.split(".", 1)[0]
        self._fenced([{"Delete": {"TableName": self.table,
                                  "Key": {"pk": {"S": self.pk(stack)}, "sk": {"S": address}}}}],
                     address, {"address": address, "change": change})

    # -- lock ----------------------------------------------------------------------------

    def _lock_item(self) -> dict[str, Any]:
        return self.db.get_item(TableName=self.table, Key={"pk": {"S": self.env_pk}, "sk": {"S": LOCK_SK}},
                                ConsistentRead=True).get("Item") or {}

    @staticmethod
    def _info(item: dict[str, Any]) -> dict[str, Any] | None:
        if "owner" not in item:
            return None
        return {"owner": item["owner"]["S"], "operation": item["operation"]["S"],
                "expires": float(item["expires"]["N"]), "acquired_at": float(item["acquired_at"]["N"]),
                "fence": int(item["fence"]["N"]), "host": item.get("host", {}).get("S", ""),
                "boot": item.get("boot", {}).get("S", ""), "pid": int(item.get("pid", {}).get("N", "0")),
                "pstart": item.get("pstart", {}).get("S", "")}

    def lock_info(self) -> dict[str, Any] | None:
        return self._info(self._lock_item())

    def acquire(self, operation: str, owner: str | None = None) -> Lease:
        """Take the lease, or fail at once naming the live holder.

        An expired lease is taken over, and so is, at once, one whose holder was a process of this
        machine that no longer runs (SIGKILL, OOM, a closed terminal): waiting out its lease would only
        delay the re-run. The holder's machine and pid are recorded with the lease for that; a live
        holder, or any holder on another machine, is never overrun before its lease runs out.
        """
        owner = owner or whoami()
        now = time.time()
        item = self._lock_item()
        held = self._info(item)
        dead = held is not None and held["expires"] >= now and holder_dead(held)
        old_fence = int(item.get("fence", {"N": "0"})["N"])
        fence = old_fence + 1
        cond = "attribute_not_exists(fence)"
        values: dict[str, Any] = {}
        if old_fence:
            # The fence pins the holding judged dead: had anyone taken the lease since, it moved.
            cond = "fence = :old" if dead else "(attribute_not_exists(#o) OR expires < :t) AND fence = :old"
            values[":old"] = {"N": str(old_fence)}
        host, boot = machine()
        pid = os.getpid()
        self.acquire_attempts += 1
        try:
            self.db.update_item(
                TableName=self.table, Key={"pk": {"S": self.env_pk}, "sk": {"S": LOCK_SK}},
                UpdateExpression="SET #o = :o, operation = :op, expires = :exp, acquired_at = :t, fence = :f, "
                                 "host = :h, boot = :b, pid = :p, pstart = :ps",
                ConditionExpression=cond, ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={**values, ":o": {"S": owner}, ":op": {"S": operation},
                                           ":t": {"N": repr(now)}, ":exp": {"N": repr(now + self.lease_seconds)},
                                           ":f": {"N": str(fence)}, ":h": {"S": host}, ":b": {"S": boot},
                                           ":p": {"N": str(pid)}, ":ps": {"S": process_start(pid)}})
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            cur = self.lock_info() or {}
            raise LockError(
                f"the state of {self.project}/{self.env} is locked by {cur.get('owner', '?')} "
                f"(operation {cur.get('operation', '?')}, since "
                f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(cur.get('acquired_at', now)))} UTC, lease until "
                f"{time.strftime('%H:%M:%S', time.gmtime(cur.get('expires', now)))} UTC). Wait for it to finish, or "
                "if that process is dead run `infra state unlock --force`") from exc
        if dead:
            assert held is not None
            self.warnings.append(f"took over the lock held by {held['owner']} (operation {held['operation']}): its "
                                 f"process {held['pid']} on this machine is no longer running")
        elif held is not None and held["expires"] < now:
            self.warnings.append(f"took over an expired lock held by {held['owner']} "
                                 f"(operation {held['operation']}); that run died or was cut off")
        self.lease = Lease(owner=owner, operation=operation, fence=fence, expires=now + self.lease_seconds,
                           acquired_at=now)
        self._serial = None
        self._start_heartbeat()
        return self.lease

    def renew(self) -> bool:
        """Extend the lease if still ours; False when someone else holds it now."""
        if self.lease is None:
            return False
        exp = time.time() + self.lease_seconds
        try:
            self.db.update_item(
                TableName=self.table, Key={"pk": {"S": self.env_pk}, "sk": {"S": LOCK_SK}},
                UpdateExpression="SET expires = :exp", ConditionExpression="fence = :f AND #o = :o",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":exp": {"N": repr(exp)}, ":f": {"N": str(self.lease.fence)},
                                           ":o": {"S": self.lease.owner}})
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        self.lease.expires = exp
        return True

    def _start_heartbeat(self) -> None:
        self._hb_stop.clear()

        def beat() -> None:
            while not self._hb_stop.wait(self.lease_seconds / 3):
                try:
                    if not self.renew():
                        return
                except Exception:  # noqa: BLE001 - a missed beat is retried next period
                    continue

        self._hb = threading.Thread(target=beat, name="state-lease-heartbeat", daemon=True)
        self._hb.start()

    def release(self) -> None:
        self._hb_stop.set()
        if self.lease is None:
            return
        try:
            self.db.update_item(
                TableName=self.table, Key={"pk": {"S": self.env_pk}, "sk": {"S": LOCK_SK}},
                UpdateExpression="REMOVE #o, operation, expires, acquired_at, host, boot, pid, pstart",
                ConditionExpression="fence = :f AND #o = :o", ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":f": {"N": str(self.lease.fence)}, ":o": {"S": self.lease.owner}})
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
        finally:
            self.lease = None

    def force_unlock(self) -> dict[str, Any] | None:
        """Clear whoever holds the lock (a dead process). The fence survives, so the old holder stays fenced."""
        held = self.lock_info()
        if held is None:
            return None
        self.db.update_item(TableName=self.table, Key={"pk": {"S": self.env_pk}, "sk": {"S": LOCK_SK}},
                            UpdateExpression="REMOVE #o, operation, expires, acquired_at, host, boot, pid, pstart",
                            ExpressionAttributeNames={"#o": "owner"})
        return held
