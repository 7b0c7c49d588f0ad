"""The resource contract shared by every AWS type.

A type is a small declarative class (troposphere style): which boto3 service
it talks to, a table of properties, which of them force replacement, which
error codes mean "gone", and which waiters make it usable. Behaviour that is
the same everywhere (validation, tags, names, waiting, not-found handling)
lives here once, so a service module only declares what differs and writes
the few calls that are genuinely its own.

A resource module knows nothing of the graph: it receives resolved
properties and a `Ctx` that carries clients, names, tags and the waiter.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from botocore import xform_name

from core.errors import AwsError, PlanError, Retry, error_code, is_not_found

REGISTRY: dict[str, type[Resource]] = {}
PHASES = ("create", "update", "delete")


@dataclass(frozen=True)
class Durations:
    """AWS seconds an operation usually takes, per phase, from the call until the resource is usable
    (or gone): what a provisioning tool sees in practice in a quiet region.

    One table, owned by the types: the engine weighs steps and polls densely around these, the
    sandbox's lifecycle simulation replays them scaled down, the benchmark's model bounds walks
    with them. A type that declares none is a single call that returns a usable resource.
    """

    create: float = 0.0
    update: float = 0.0
    delete: float = 0.0

    def of(self, phase: str) -> float:
        return float(getattr(self, phase))


# Durations of AWS operations that are not a type of their own (an EKS config update, resources
# only the sandbox emulates), declared by their service module: kind -> Durations.
EXTRA_DURATIONS: dict[str, Durations] = {}


def kind_of(type_name: str) -> str:
    """The kind a type's durations go by (the sandbox's state-manager model names): "rds.DBInstance"
    -> "rds.dbinstance", so "kafka.cluster:create" names MSK's create."""
    return type_name.lower()


def durations_table() -> dict[str, Durations]:
    """kind -> Durations, for every registered type that declares them and every extra kind."""
    import resources  # noqa: F401 - importing the package registers every type

    out = {kind_of(t): cls.durations for t, cls in sorted(REGISTRY.items()) if cls.durations is not None}
    out.update(EXTRA_DURATIONS)
    return out


def durations_of(type_name: str) -> Durations | None:
    """What `type_name` declares it usually takes; None for a single-call type or an unknown name."""
    import resources  # noqa: F401 - importing the package registers every type

    cls = REGISTRY.get(type_name)
    return cls.durations if cls is not None else None


def usual_seconds(type_name: str, phase: str = "create") -> float:
    """AWS seconds a `phase` of `type_name` usually takes; 0 for a type that declares none or is unknown."""
    d = durations_of(type_name)
    return d.of(phase) if d is not None else 0.0


# --------------------------------------------------------------------------- references


@dataclass(frozen=True)
class Ref:
    """A value known only once `resource` exists: one of its outputs.

    `resource` is a Resource instance (same plan) or an address string such as
    "main.vpc" (another stack, resolved from that stack's recorded outputs).
    """

    resource: Any
    attr: str

    @property
    def address(self) -> str:
        r = self.resource
        return r if isinstance(r, str) else r.address

    def __repr__(self) -> str:
        return f"Ref({self.address}.{self.attr})"


@dataclass(frozen=True)
class Join:
    """String built from literals and Refs, e.g. an ARN pattern or an endpoint URL."""

    parts: tuple[Any, ...]
    sep: str = ""

    def __init__(self, *parts: Any, sep: str = "") -> None:
        object.__setattr__(self, "parts", tuple(parts))
        object.__setattr__(self, "sep", sep)


class Unknown:
    """Placeholder for a value not known until apply (printed as such in plans)."""

    _inst: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._inst is None:
            cls._inst = super().__new__(cls)
        return cls._inst

    def __repr__(self) -> str:
        return "(known after apply)"


UNKNOWN = Unknown()


def walk_refs(value: Any) -> Iterable[Ref]:
    """Every Ref inside a property value, however deeply nested."""
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, Join):
        for p in value.parts:
            yield from walk_refs(p)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from walk_refs(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from walk_refs(v)


def resolve(value: Any, lookup: Callable[[Ref], Any]) -> Any:
    """Replace Refs by `lookup(ref)`; a Join with an unknown part becomes UNKNOWN."""
    if isinstance(value, Ref):
        return lookup(value)
    if isinstance(value, Join):
        parts = [resolve(p, lookup) for p in value.parts]
        if any(p is UNKNOWN for p in parts):
            return UNKNOWN
        return value.sep.join(str(p) for p in parts)
    if isinstance(value, Mapping):
        return {k: resolve(v, lookup) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, lookup) for v in value]
    return value


def contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v) for v in value)
    return False


# --------------------------------------------------------------------------- properties


@dataclass(frozen=True)
class P:
    """One property: its Python type (or tuple of types), whether required, a
    validator returning an error message or None, and whether it is a secret
    (stored in state only as a digest)."""

    type: Any = object
    required: bool = False
    default: Any = None
    validator: Callable[[Any], str | None] | None = None
    secret: bool = False
    doc: str = ""


def cidr(value: Any) -> str | None:
    try:
        ipaddress.ip_network(value, strict=True)
    except (ValueError, TypeError) as exc:
        return f"is not a valid CIDR block ({exc})"
    return None


def one_of(*choices: Any) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(map(str, choices))}"

    return check


def int_range(lo: int, hi: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if isinstance(value, int) and lo <= value <= hi else f"must be an integer in [{lo}, {hi}]"

    return check


def digest(value: Any) -> str:
    """What the state keeps of a secret: enough to notice a change, nothing to recover it."""
    raw = json.dumps(value, sort_keys=True, default=str).encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


# --------------------------------------------------------------------------- lifecycle


@dataclass(frozen=True)
class Lifecycle:
    """Lifecycle options kept apart from properties (Pulumi's ResourceOptions).

    None means "not set", so plan-wide defaults merge with per-resource ones.
    Only the planner reads these.
    """

    protect: bool | None = None  # a.k.a. prevent_destroy
    retain_on_delete: bool | None = None
    ignore_changes: tuple[str, ...] | None = None
    delete_before_replace: bool | None = None
    timeouts: Mapping[str, float] | None = None

    def merge(self, other: Lifecycle | None) -> Lifecycle:
        if other is None:
            return self
        vals: dict[str, Any] = {}
        for f in self.__dataclass_fields__:
            a, b = getattr(self, f), getattr(other, f)
            if isinstance(a, tuple) and isinstance(b, tuple):
                vals[f] = a + tuple(x for x in b if x not in a)
            else:
                vals[f] = a if b is None else b
        return Lifecycle(**vals)

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Lifecycle:
        d = dict(d or {})
        if d.get("ignore_changes") is not None:
            d["ignore_changes"] = tuple(d["ignore_changes"])
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


# --------------------------------------------------------------------------- context


def resource_tags(project: str, env: str, address: str, plan_tags: Mapping[str, str]) -> dict[str, str]:
    """The tags every resource carries: the tool's own (find() and `infra scan` rely on them) and the
    plan's; the planner compares them with the recorded ones, so a plan-wide tag change reaches all."""
    t = {"infra:project": project, "infra:env": env, "infra:stack": address.split(".", 1)[0],
         "infra:address": address}
    t.update(plan_tags)
    return t


@dataclass
class Ctx:
    """Everything a resource operation may use; built by the executor per call."""

    clients: Any  # orchestrator.aws.Clients
    project: str
    env: str
    stack: str
    name: str
    region: str
    account_id: str
    plan_tags: Mapping[str, str] = field(default_factory=dict)
    token: str = ""  # idempotency token for ClientToken / ClientRequestToken
    timeouts: Mapping[str, float] = field(default_factory=dict)
    # The resource's resolved properties, so find() can use identities built from references.
    props: Mapping[str, Any] = field(default_factory=dict)
    # AWS seconds an operation of this type usually takes, per phase: waits poll densely around then.
    expected: Mapping[str, float] = field(default_factory=dict)
    # Which copy of the resource (state's Record.generation): "" the first, "r1"... a create-first
    # replacement's, so two copies can exist at once under deterministic names.
    generation: str = ""
    # Physical ids of this address's older copies that a create-first replacement has still to delete: they
    # carry the same address tag, so a find() by tag skips them (it answers for the copy being made).
    old_copies: frozenset[str] = frozenset()

    @property
    def address(self) -> str:
        return f"{self.stack}.{self.name}"

    def client(self, service: str) -> Any:
        return self.clients.client(service)

    @property
    def tags(self) -> dict[str, str]:
        return resource_tags(self.project, self.env, self.address, self.plan_tags)

    def physical_name(self, suffix: str | None = None, *, max_len: int = 255, sep: str = "-",
                      global_unique: bool = False) -> str:
        """Deterministic name `genai-demo-<env>-<name>`, so find() can locate it after a crash.

        Globally unique names (S3 buckets) add account and region. Names that
        must stay short are cut and suffixed with a hash, still deterministic.
        """
        base = sep.join([self.project, self.env, (suffix or self.name).replace("_", "-")])
        if global_unique:
            base = sep.join([base, self.account_id, self.region])
        tail = sep + self.generation if self.generation else ""  # a replacement's copy: kept when cut
        room = max_len - len(tail)
        if len(base) > room:
            h = hashlib.sha1(base.encode()).hexdigest()[:6]
            base = base[: room - 7].rstrip(sep) + sep + h
        return base + tail

    def wait(self, service: str, waiter: str, timeout_key: str = "create", **params: Any) -> None:
        self.clients.wait(service, waiter, timeout=self.timeouts.get(timeout_key),
                          expected=self.expected.get(timeout_key, 0.0), **params)

    def wait_change(self, service: str, started: str, done: str, appear: float = 60.0,
                    timeout_key: str = "update", **params: Any) -> None:
        """Wait out a modification AWS reports only through the resource's state (RDS, ElastiCache).

        Right after the call the state may still read as before ("available"),
        so `done` alone would pass at once: first wait up to `appear` AWS
        seconds for the change to show (`started`: the state left its target),
        then for `done`. A change that never shows within `appear` (applied
        without a transition) is taken as done by `done` after that, which is
        what Terraform's Delay before the first poll amounts to.
        """
        try:
            self.clients.wait(service, started, timeout=appear, **params)
        except AwsError:
            pass  # not seen within `appear`: `done` decides (and fails on a failure state)
        self.wait(service, done, timeout_key, **params)


# --------------------------------------------------------------------------- tag helpers


def tag_list(tags: Mapping[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in tags.items()]


def tag_dict(tags: Iterable[Mapping[str, str]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t[value] for t in tags or ()}



# --------------------------------------------------------------------------- helpers for type modules
# Small pure functions several service modules need the same way; each was
# written once in one module and copied or imported across modules before.


def tag_changes(have: Mapping[str, str], want: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """What makes a resource's tags exactly `want`: (keys to remove, tags to add or change).

    AWS-reserved `aws:` tags are never removed: AWS owns them and refuses.
    """
    stale = [k for k in have if k not in want and not k.startswith("aws:")]
    return stale, {k: v for k, v in want.items() if have.get(k) != v}


def owned_by(tags: Mapping[str, str], ctx: Ctx) -> bool:
    """True when tags say this tool created the resource for ctx's address.

    Project and env are checked as well as the address, so a resource of the
    same address in another env (same account) is never adopted by find().
    """
    return all(tags.get(k) == ctx.tags[k] for k in ("infra:project", "infra:env", "infra:address"))


def partition(region: str) -> str:
    """The ARN partition of a region, for ARNs AWS never returns and we must build."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def shaped(actual: Any, like: Any) -> Any:
    """`actual` (what AWS reports) cut down to the keys `like` (what the plan declared) has.

    AWS answers with every default filled in (WarmEnabled, S3BackupMode...);
    comparing those with a declaration that never mentioned them would show
    drift forever. Lists keep AWS's items, each shaped like the declared item
    at the same position (or the first one).
    """
    if isinstance(like, Mapping) and isinstance(actual, Mapping):
        return {k: shaped(actual[k], like[k]) for k in like if k in actual}
    if isinstance(like, list | tuple) and isinstance(actual, list | tuple) and like:
        return [shaped(a, like[min(i, len(like) - 1)]) for i, a in enumerate(actual)]
    return actual


def known(value: Any) -> bool:
    """A plain value, not None nor a Ref/Join (or UNKNOWN) still waiting for apply."""
    return value is not None and value is not UNKNOWN and not isinstance(value, Join) \
        and not any(True for _ in walk_refs(value))


def name_or_default(ctx: Ctx, value: Any, max_len: int) -> str | None:
    """A name property's value: as declared, the deterministic `genai-demo-<env>-<name>` when
    none is declared, or None while it is still a pending Ref (nothing to look up by yet)."""
    if value is None:
        return ctx.physical_name(max_len=max_len)
    return value if known(value) else None


class KnownProps:
    """Mixin for a type's base class: `prop(key)` is a declared property's value when it is
    already known, else None (a Ref before what it names exists). A find() should prefer
    Resource.known_prop, which also reads the run's resolved value."""

    properties: dict[str, Any]

    def prop(self, key: str) -> Any:
        v = self.properties.get(key)
        return v if known(v) else None


def shaped_declared(actual: Mapping[str, Any], declared: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The optional sections among `keys` the plan declared and AWS reports, each `shaped` like
    the declaration (a section the plan left out is AWS's business, not drift)."""
    return {k: shaped(actual[k], declared[k]) for k in keys if k in declared and actual.get(k) is not None}


def chunks(items: list[Any], n: int) -> list[list[Any]]:
    """`items` in slices of at most n, for APIs that cap how many entries one call takes."""
    return [items[i:i + n] for i in range(0, len(items), n)]


def fetch_in_chunks(ids: Sequence[str], n: int, call: Callable[[list[str]], Mapping[str, Any]],
                    gone: Callable[[BaseException], bool]) -> dict[str, Any]:
    """{id: answer} for `ids`, asking `call(chunk) -> {id: answer}` for at most n ids at a time.

    APIs that describe many ids in one call cap the list (GetParameters 10, DescribeAlarms 100),
    and some refuse the whole list when one id is unknown (EC2's Describe* with ...Ids): when a
    chunk fails with an error `gone` calls not-found, its ids are asked one at a time, so one
    deleted resource costs its own call and never hides the others. An id AWS does not answer
    for (or that is gone alone) is absent from the result.
    """
    out: dict[str, Any] = {}
    for chunk in chunks(list(dict.fromkeys(ids)), n):
        try:
            out.update(call(chunk))
        except Exception as exc:  # noqa: BLE001 - classification decides
            if not gone(exc):
                raise
            for one in chunk if len(chunk) > 1 else ():
                try:
                    out.update(call([one]))
                except Exception as exc1:  # noqa: BLE001 - classification decides
                    if not gone(exc1):
                        raise
    return out


def parameter_values(where: str, params: Mapping[str, Any]) -> dict[str, str]:
    """A parameter group's {name: value} as the strings the wire wants; numbers are accepted,
    bools and nested values are not (they have no single string form the engine agrees on)."""
    bad = [k for k, v in params.items() if not isinstance(v, str | int | float) or isinstance(v, bool)]
    if bad:
        raise PlanError(f"{where}: parameter values must be strings or numbers: {', '.join(bad)}")
    return {k: str(v) for k, v in params.items()}


# --------------------------------------------------------------------------- resource


def _at(value: Any, keys: Sequence[str]) -> Any:
    for key in keys:
        if value is UNKNOWN:
            return UNKNOWN
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _nested_differs(a: Any, b: Any) -> bool:
    if b is UNKNOWN or contains_unknown(b):
        return True
    if isinstance(a, list) and isinstance(b, list) and all(isinstance(x, str) for x in a + b):
        return sorted(a) != sorted(b)  # subnet and group ids: AWS does not keep their order
    return bool(a != b)


class ResourceError(Exception):
    """A resource operation failed in a way that needs a person, with a message naming it."""


class Resource:
    """Base of every resource type.

    Subclasses declare:
      type_name     "<boto3 service>.<Class>", what state and the graph carry
      service       boto3 client name
      props         {name: P(...)}, named like the API parameters
      replace_on    properties AWS cannot change in place
      outputs       attributes other resources may Ref
      not_found     error codes meaning the resource is gone
      timeouts      default seconds per operation (create/update/delete)
      retries       the answers AWS gives while something is not ready yet (core.errors.Retry):
                    code, message pattern, budget and phases, as the Terraform provider retries them
      dependency_seconds  how long a delete waits out "still in use" (DependencyViolation...)
      failed_states / creating_states   for types AWS builds after answering: the states of a create
                    that failed (a tainted resource) and of one still under way; such a type also
                    implements state() and wait_created()
      durations     AWS seconds it usually takes per phase (Durations), None for a single call
      label         what a diagram calls one of it ("NAT gateway"); default: the class name
      arn_kind      (service, resource type) in its ARNs, as `infra scan` reads them back
      id_prefix     the shape of its ids where types share one namespace (EC2's "vpc-")
      list_tagged   its tagged instances, for types the tagging API's GetResources does not return
      stateful      a replacement destroys data (a database, cache, cluster, bucket, key, secret):
                    plan marks it and apply refuses it unless the user names it (issue 13)
      replace_order "create_first" (a second copy can exist at once; dependents are re-pointed to it
                    before the old one goes) or "delete_first" (AWS allows just one, e.g. a fixed name
                    that must be freed first)
      refuse_on     {property: reason}: a change AWS can neither make in place nor safely by
                    replacement; plan refuses it with the reason (refusal() may refine it per change)
      change_notes  {property: why}: the reason a change does what it does, where it differs from
                    CloudFormation's createOnlyProperties (docs/changes.md shows them)
    and implement create/read/update/delete/find. `read` returns properties
    in the same shape as `props` so the planner can diff them.
    """

    type_name: ClassVar[str] = ""
    service: ClassVar[str] = ""
    props: ClassVar[dict[str, P]] = {}
    replace_on: ClassVar[frozenset[str]] = frozenset()
    outputs: ClassVar[tuple[str, ...]] = ()
    not_found: ClassVar[tuple[str, ...]] = ()
    timeouts: ClassVar[dict[str, float]] = {"create": 1800, "update": 1800, "delete": 1800}
    retries: ClassVar[tuple[Retry, ...]] = ()
    dependency_seconds: ClassVar[float] = 300.0
    # The waiter a create ends with and its id parameter: what an adoption after a crash waits on too.
    created_wait: ClassVar[tuple[str, str] | None] = None
    durations: ClassVar[Durations | None] = None
    label: ClassVar[str] = ""
    arn_kind: ClassVar[tuple[str, str] | None] = None
    id_prefix: ClassVar[str] = ""
    # Properties that read() cannot observe (write-only, or not returned by AWS):
    # drift detection ignores them.
    write_only: ClassVar[frozenset[str]] = frozenset()
    # List properties whose order AWS does not keep (subnet ids, route table ids): compared as sets.
    unordered: ClassVar[frozenset[str]] = frozenset()
    # What a resource found after a crash may be in: AWS gave up building it (never adopt it as healthy),
    # or it is still being built (wait for it before recording it and passing its outputs on).
    failed_states: ClassVar[frozenset[str]] = frozenset()
    creating_states: ClassVar[frozenset[str]] = frozenset()
    # How a change is made when it cannot be made in place (issue 13; the planner and apply read these).
    stateful: ClassVar[bool] = False
    replace_order: ClassVar[str] = "create_first"
    refuse_on: ClassVar[Mapping[str, str]] = {}
    change_notes: ClassVar[Mapping[str, str]] = {}
    # Nested settings AWS fixes at create inside a property that otherwise changes in place
    # ("EncryptionInfo.EncryptionAtRest"): a change of one of them plans a replacement (see replacing()).
    replace_on_paths: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if cls.type_name:
            if cls.type_name in REGISTRY and REGISTRY[cls.type_name] is not cls:
                raise TypeError(f"resource type {cls.type_name} registered twice")
            REGISTRY[cls.type_name] = cls
            for what, names in (("replace_on", cls.replace_on), ("refuse_on", cls.refuse_on),
                                ("change_notes", cls.change_notes)):
                unknown = set(names) - set(cls.props)
                if unknown:
                    raise TypeError(f"{cls.type_name}.{what} names unknown properties {sorted(unknown)}")
            unknown = {p.split(".")[0] for p in cls.replace_on_paths} - set(cls.props)
            if unknown:
                raise TypeError(f"{cls.type_name}.replace_on_paths names unknown properties {sorted(unknown)}")
            if cls.replace_order not in ("create_first", "delete_first"):
                raise TypeError(f"{cls.type_name}.replace_order must be create_first or delete_first")

    def __init__(self, name: str, *, depends_on: Iterable[Any] = (), lifecycle: Lifecycle | None = None,
                 **props: Any) -> None:
        self.name = name
        self.stack = ""  # set when added to a Stack
        self.depends_on = list(depends_on)
        self.lifecycle = lifecycle or Lifecycle()
        self.properties = self._validate(props)

    # -- identity ----------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"{self.stack}.{self.name}" if self.stack else self.name

    def ref(self, attr: str) -> Ref:
        if attr not in self.outputs:
            raise PlanError(f"{self.type_name} {self.address!r} has no output {attr!r}; "
                            f"it has: {', '.join(self.outputs) or 'none'}")
        return Ref(self, attr)

    def __getitem__(self, attr: str) -> Ref:
        return self.ref(attr)

    def __repr__(self) -> str:
        return f"<{self.type_name} {self.address}>"

    # -- validation ----------------------------------------------------------------

    def _validate(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Check props against the type's table now, before any AWS call."""
        where = f"{self.type_name} {self.name!r}"
        unknown = sorted(set(props) - set(self.props))
        if unknown:
            raise PlanError(f"{where}: unknown propert{'y' if len(unknown) == 1 else 'ies'} "
                            f"{', '.join(unknown)}; {self.type_name} accepts: {', '.join(sorted(self.props))}")
        out: dict[str, Any] = {}
        for pname, spec in self.props.items():
            if pname not in props or props[pname] is None:
                if spec.required:
                    raise PlanError(f"{where}: missing required property {pname}")
                if spec.default is not None:
                    out[pname] = spec.default
                continue
            value = props[pname]
            if isinstance(value, Ref | Join) or any(True for _ in walk_refs(value)):
                if isinstance(value, Ref) and not isinstance(value.resource, str) \
                        and value.attr not in value.resource.outputs:
                    raise PlanError(f"{where}: property {pname} refers to {value.resource.name!r}."
                                    f"{value.attr}, which {value.resource.type_name} does not output")
                out[pname] = value
                continue
            if spec.type is not object and not isinstance(value, spec.type):
                tname = getattr(spec.type, "__name__", str(spec.type))
                raise PlanError(f"{where}: property {pname} must be {tname}, got {type(value).__name__} {value!r}")
            if spec.validator is not None:
                msg = spec.validator(value)
                if msg:
                    raise PlanError(f"{where}: property {pname}={value!r} {msg}")
            out[pname] = value
        self.validate(out)
        return out

    def validate(self, props: dict[str, Any]) -> None:
        """Hook for rules spanning several properties; raise PlanError."""

    def refusal(self, old: Mapping[str, Any], new: Mapping[str, Any], changed: Iterable[str]) -> str | None:
        """Why the planned change cannot be made at all, or None.

        Default: the reason `refuse_on` gives for the first changed property it names. A type overrides
        this where the answer depends on the values (a subnet group moved within the same VPC is
        refused, one moved to another VPC is a replacement)."""
        for name in changed:
            if name in self.refuse_on:
                return self.refuse_on[name]
        return None

    @classmethod
    def replacing(cls, before: Mapping[str, Any], after: Mapping[str, Any], changed: Iterable[str]) -> list[str]:
        """The changed properties, or nested settings, that only a new resource can take.

        `replace_on` names whole properties; `replace_on_paths` nested ones, so that a property AWS
        updates in place (MSK EncryptionInfo through UpdateSecurity) is not replaced for the part it
        can change. A nested value not known yet (a replaced subnet's id) counts as changed."""
        changed = set(changed)
        out = set(changed) & set(cls.replace_on)
        for path in cls.replace_on_paths:
            keys = path.split(".")
            if keys[0] in changed and _nested_differs(_at(before, keys), _at(after, keys)):
                out.add(path)
        return sorted(out)

    @classmethod
    def display(cls) -> str:
        return cls.label or cls.__name__

    @classmethod
    def list_tagged(cls, clients: Any) -> Iterator[tuple[str, dict[str, str]]]:
        """(ARN, tags) of every instance of this type in the account and region, for `infra scan`.

        Only for types the tagging API (GetResources) does not return (IAM is global, some services
        are missing from it); the default lists nothing. `clients` is the engine's Clients.
        """
        return iter(())

    def known_prop(self, ctx: Ctx, key: str) -> Any:
        """A property as this run resolved it (ctx.props: a Ref is known once what it names exists), else
        as declared when that is a value already; None while unknown. What a find() that identifies the
        resource by another one's ARN must read: the declared Ref tells it nothing, and a create resumed
        after a crash would make the thing again."""
        v = ctx.props[key] if key in ctx.props else self.properties.get(key)
        return v if known(v) else None

    @classmethod
    def preflight(cls, clients: Any, resources: list[Resource]) -> None:
        """Read-only checks of the account and region that must pass before a run changes anything.

        Some services refuse every create until the account is set up for them (QuickSight's
        subscription, its regions), or refuse what the plan asks beyond an account quota (Lambda's
        reserved concurrency); finding that out at the first create leaves the other stacks'
        resources half made. The engine calls this once per type of the selected stacks, before
        planning, with that type's resources (by address); raise PlanError naming them. Default: nothing.
        """

    @classmethod
    def lists_itself(cls) -> bool:
        return cls.list_tagged.__func__ is not Resource.list_tagged.__func__  # type: ignore[attr-defined]

    @classmethod
    def secret_props(cls) -> frozenset[str]:
        return frozenset(k for k, p in cls.props.items() if p.secret)

    # -- the contract ----------------------------------------------------------------

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError(f"{self.type_name}.create")

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        raise NotImplementedError(f"{self.type_name}.read")

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError(f"{self.type_name}.update")

    def delete(self, ctx: Ctx, physical_id: str) -> str | None:
        """Delete it; may return one sentence on what it leaves behind on purpose (a final snapshot and
        where it is, a key kept for it), which the run prints with the step's result."""
        raise NotImplementedError(f"{self.type_name}.delete")

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        raise NotImplementedError(f"{self.type_name}.find")

    @classmethod
    def read_many(cls, items: Sequence[tuple[Resource, Ctx, str]]) -> dict[str, dict[str, Any] | None]:
        """read() of many resources of this type at once: {physical id: what read() returns}.

        Refresh reads every recorded resource before a plan. One read() each costs at least one
        call per resource, and more where read() needs several; most AWS APIs describe many ids
        in one call (DescribeSubnets, DescribeAlarms, GetParameters...). A type whose API can
        overrides this to fetch all `items` (resource, its ctx, physical id) in a few calls and
        map each with the same code its read() uses (BatchRead does both), so the answer is
        what read() would give, None for what is gone. The items share one account and region.
        Default: read() each.
        """
        return {pid: r.read(ctx, pid) for r, ctx, pid in items}

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        """Outputs of an existing resource (used by find/import). Default: re-read."""
        raise NotImplementedError(f"{self.type_name}.outputs_of")

    def state(self, ctx: Ctx, physical_id: str) -> tuple[str, str] | None:
        """(the state AWS reports, AWS's reason for it: StateInfo, FailureDescription, health issues...)
        for a type with failed_states; None when it is gone or the type has no such states."""
        return None

    def wait_created(self, ctx: Ctx, physical_id: str) -> None:
        """Wait until a create under way has finished (the same wait create() ends with); a failure
        state raises core.errors.FailedState. The type declares it as `created_wait`, (waiter name,
        the waiter's id parameter); none: nothing to wait for."""
        if self.created_wait is not None:
            waiter, param = self.created_wait
            ctx.wait(self.service, waiter, timeout_key="create", **{param: physical_id})

    def condition(self, ctx: Ctx, physical_id: str) -> tuple[str, str, str]:
        """("failed" | "creating" | "ready", AWS's state, AWS's reason), from state() and the type's data."""
        seen = self.state(ctx, physical_id) if self.failed_states or self.creating_states else None
        if seen is None:
            return "ready", "", ""
        state, reason = seen
        if state in self.failed_states:
            return "failed", state, reason
        return ("creating" if state in self.creating_states else "ready"), state, reason

    # -- helpers for subclasses ------------------------------------------------------

    def gone(self, exc: BaseException) -> bool:
        """True when `exc` says the resource does not exist (success for delete)."""
        return is_not_found(exc, self.not_found)

    def ignore_gone(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Call fn; a not-found error means there is nothing to do and returns None."""
        try:
            return fn(*args, **kw)
        except Exception as exc:  # noqa: BLE001 - classification decides
            if self.gone(exc):
                return None
            raise

    @staticmethod
    def code(exc: BaseException) -> str | None:
        return error_code(exc)

    @classmethod
    def ghost(cls, name: str, stack: str, props: Mapping[str, Any] | None = None) -> Resource:
        """An instance rebuilt from state alone (the resource left the code): no validation."""
        obj = cls.__new__(cls)
        obj.name, obj.stack, obj.depends_on = name, stack, []
        obj.lifecycle = Lifecycle()
        obj.properties = dict(props or {})
        return obj


class BatchRead:
    """Mixin (before the Resource base) for a type whose API describes many ids per call.

    The type (or its service base) provides
      fetch(cls, ctx, ids) -> {id: raw answer}   a classmethod; a gone id is absent
      props_from(self, ctx, physical_id, raw)    the field mapping, as read() reports it
    and read() and read_many() both go through them, so a batched read equals the single read
    by construction: one copy of the field mapping, two ways to get the answers. (No stubs
    here: the mixin comes first in the bases and would hide the service base's fetch.)
    """

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        raw = self.fetch(ctx, [physical_id]).get(physical_id)  # type: ignore[attr-defined]
        return None if raw is None else self.props_from(ctx, physical_id, raw)  # type: ignore[attr-defined]

    @classmethod
    def read_many(cls, items: Sequence[tuple[Resource, Ctx, str]]) -> dict[str, dict[str, Any] | None]:
        if not items:
            return {}
        raws = cls.fetch(items[0][1], [pid for _, _, pid in items])  # type: ignore[attr-defined]
        return {pid: None if raws.get(pid) is None else r.props_from(ctx, pid, raws[pid])  # type: ignore[attr-defined]
                for r, ctx, pid in items}


def arn_types() -> dict[tuple[str, str], str]:
    """ARN (service, resource type) -> the type name whose ARNs look so (what each type declares)."""
    import resources  # noqa: F401 - importing the package registers every type

    return {cls.arn_kind: t for t, cls in sorted(REGISTRY.items()) if cls.arn_kind is not None}


def direct_listers() -> dict[str, list[Callable[[Any], Iterator[tuple[str, dict[str, str]]]]]]:
    """boto3 service -> the listers of its types that list themselves (Resource.list_tagged)."""
    import resources  # noqa: F401 - importing the package registers every type

    out: dict[str, list[Callable[[Any], Iterator[tuple[str, dict[str, str]]]]]] = {}
    for _t, cls in sorted(REGISTRY.items()):
        if cls.lists_itself():
            out.setdefault(cls.service, []).append(cls.list_tagged)
    return out


def lookup_type(type_name: str) -> type[Resource]:
    import resources  # noqa: F401 - importing the package registers every type

    try:
        return REGISTRY[type_name]
    except KeyError:
        raise PlanError(f"unknown resource type {type_name!r}; known types: "
                        f"{', '.join(sorted(REGISTRY))}") from None


# --------------------------------------------------------------------------- helpers for type modules: RDS-family bases
# (after Resource because they subclass it)


class NamedTagListResource(Resource):
    """Types of the RDS-family APIs (RDS, ElastiCache): the deterministic name is the identifier,
    and tags are a Key/Value TagList kept by ARN through ListTagsForResource / AddTagsToResource /
    RemoveTagsFromResource (ResourceName=ARN). find() is one describe by that name, confirmed by
    the `infra:address` tag. Subclasses say how to describe one item and where its ARN is."""

    name_max: ClassVar[int] = 255

    def ident(self, ctx: Ctx) -> str:
        """The identifier AWS knows the resource by (lower case: these APIs fold names)."""
        return ctx.physical_name(max_len=self.name_max).lower()

    def describe_one(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def arn_of(self, item: dict[str, Any]) -> str:
        raise NotImplementedError

    def describe_first(self, ctx: Ctx, op: str, key: str, **params: Any) -> dict[str, Any] | None:
        """The first item of a Describe* answer, None when there is none or it is gone."""
        try:
            items = getattr(ctx.client(self.service), op)(**params)[key]
        except Exception as exc:
            if self.gone(exc):
                return None
            raise
        return items[0] if items else None

    def sync_tags(self, ctx: Ctx, arn: str) -> None:
        """Make the resource's tags exactly ctx.tags (AWS-reserved `aws:` tags left alone)."""
        client = ctx.client(self.service)
        have = tag_dict(client.list_tags_for_resource(ResourceName=arn).get("TagList"))
        stale, changed = tag_changes(have, ctx.tags)
        if stale:
            client.remove_tags_from_resource(ResourceName=arn, TagKeys=stale)
        if changed:
            client.add_tags_to_resource(ResourceName=arn, Tags=tag_list(changed))

    def synced_outputs(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        """Outputs after an update, with the tags brought in step (what every update ends with)."""
        out = self.outputs_of(ctx, physical_id)
        if out["Arn"]:
            self.sync_tags(ctx, out["Arn"])
        return out

    def find(self, ctx: Ctx) -> tuple[str, dict[str, Any]] | None:
        pid = self.ident(ctx)
        item = self.describe_one(ctx, pid)
        if item is None:
            return None
        tags = item.get("TagList")  # only some items carry their tags (RDS DB instances)
        if tags is None:
            tags = ctx.client(self.service).list_tags_for_resource(ResourceName=self.arn_of(item)).get("TagList")
        if tag_dict(tags).get("infra:address") != ctx.address:
            return None  # same name, not ours: never adopt it
        return pid, self.outputs_of(ctx, pid)


class NamedSubnetGroup(NamedTagListResource):
    """RDS's DBSubnetGroup and ElastiCache's CacheSubnetGroup: the same calls and fields but for
    the `kind` prefix (Create<kind>, <kind>Name, <kind>Description, <kind>s...) and where the ARN
    is; subclasses declare props (`<kind>Description`, `SubnetIds`), outputs and not_found.

    SubnetIds change in place with Modify<kind>; replacing the group instead would be impossible
    while something uses it (same deterministic name, and a group in use cannot be deleted).
    """

    kind: ClassVar[str] = ""  # "DBSubnetGroup" / "CacheSubnetGroup"
    arn_key: ClassVar[str] = ""  # "DBSubnetGroupArn" / "ARN"

    def _op(self, ctx: Ctx, verb: str, suffix: str = "") -> Callable[..., Any]:
        return getattr(ctx.client(self.service), xform_name(f"{verb}{self.kind}{suffix}"))

    def describe_one(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        return self.describe_first(ctx, xform_name(f"Describe{self.kind}s"), f"{self.kind}s",
                                   **{f"{self.kind}Name": physical_id})

    def arn_of(self, item: dict[str, Any]) -> str:
        return item[self.arn_key]

    def create(self, ctx: Ctx, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name, desc = self.ident(ctx), f"{self.kind}Description"
        self._op(ctx, "Create")(**{f"{self.kind}Name": name, desc: props[desc]},
                                SubnetIds=list(props["SubnetIds"]), Tags=tag_list(ctx.tags))
        return name, self.outputs_of(ctx, name)

    def outputs_of(self, ctx: Ctx, physical_id: str) -> dict[str, Any]:
        g = self.describe_one(ctx, physical_id) or {}
        return {f"{self.kind}Name": physical_id, "Arn": g.get(self.arn_key), "VpcId": g.get("VpcId")}

    def read(self, ctx: Ctx, physical_id: str) -> dict[str, Any] | None:
        g = self.describe_one(ctx, physical_id)
        if g is None:
            return None
        # AWS's order, not sorted: the planner compares lists in order and the group keeps the order given.
        desc = f"{self.kind}Description"
        return {desc: g.get(desc), "SubnetIds": [s["SubnetIdentifier"] for s in g.get("Subnets", [])]}

    def update(self, ctx: Ctx, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        desc = f"{self.kind}Description"
        if old.get("SubnetIds") != new["SubnetIds"] or old.get(desc) != new[desc]:
            self._op(ctx, "Modify")(**{f"{self.kind}Name": physical_id, desc: new[desc]},
                                    SubnetIds=list(new["SubnetIds"]))
        return self.synced_outputs(ctx, physical_id)

    def delete(self, ctx: Ctx, physical_id: str) -> None:
        self.ignore_gone(self._op(ctx, "Delete"), **{f"{self.kind}Name": physical_id})
