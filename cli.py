"""`infra`: provision, inspect and tear down the GenAI Demo infrastructure.

Commands are thin: options in, one application call, output out. Errors the
tool understands print as one paragraph and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from core.errors import InfraError

COMMON_HELP = {
    "env": "Environment profile (dev, production).",
    "stack": "Stack to act on (repeatable; default: all).",
}


# --------------------------------------------------------------------------- shared options


def common(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--env", "-e", default=lambda: os.environ.get("INFRA_ENV", "dev"), show_default="dev",
                     help=COMMON_HELP["env"]),
        click.option("--stack", "-s", "stacks", multiple=True, help=COMMON_HELP["stack"]),
        click.option("--plan", "plan_name", default=lambda: os.environ.get("INFRA_PLAN", "genai_demo"),
                     show_default="genai_demo",
                     help="The plan: a bundled name (genai_demo), a path to a .py file or a package directory, "
                          "or an importable module (env INFRA_PLAN)."),
        click.option("--region", default=None, help="AWS region (default: the profile's)."),
        click.option("--profile", default=None, help="AWS named profile."),
        click.option("--endpoint-url", default=None, help="AWS endpoint (AWS_ENDPOINT_URL works too)."),
        click.option("--state-table", default=None, help="DynamoDB state table (env INFRA_STATE_TABLE)."),
        click.option("--parallelism", default=10, show_default=True, type=click.IntRange(1, 256)),
        click.option("--sandbox", is_flag=True, help="Use the local moto sandbox started by `infra sandbox up`."),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def targeting(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--target/--exclude (repeatable), as Terraform's -target/-exclude."""
    fn = click.option("--exclude", "exclude", multiple=True, metavar="ADDR",
                      help="Leave ADDR out, with what depends on it (apply) or what it needs (destroy).")(fn)
    return click.option("--target", "targets", multiple=True, metavar="ADDR",
                        help="Only ADDR plus what it needs (apply) or what depends on it (destroy); repeatable.")(fn)


def make_options(kw: dict[str, Any], **extra: Any) -> Any:
    from orchestrator.runs import Options

    endpoint = kw.pop("endpoint_url")
    if kw.pop("sandbox"):
        from sandbox import server, settings

        endpoint = server.endpoint()
        settings.apply_env()
    o = Options(env=kw.pop("env"), stacks=list(kw.pop("stacks")), plan_name=kw.pop("plan_name"),
                region=kw.pop("region"), profile=kw.pop("profile"), endpoint_url=endpoint,
                parallelism=kw.pop("parallelism"), **extra)
    table = kw.pop("state_table")
    if table:
        o.state_table = table
    # No pace guessed from the endpoint: waits start fast and back off to the waiter's delay
    # (orchestrator.aws.poll_offsets), so an emulator is waited for in milliseconds and AWS at its pace.
    return o


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> Any:
        try:
            return fn(*a, **kw)
        except InfraError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)

    return wrapper


def workspace(kw: dict[str, Any], **extra: Any) -> Any:
    from orchestrator.runs import Workspace

    return Workspace(make_options(kw, **extra))


# --------------------------------------------------------------------------- output


ALLOW_DATA_LOSS = ("Let replacements of stateful resources (databases, caches, clusters, buckets, keys, secrets) "
                   "go ahead: each destroys the old copy's data. Prefer naming each with --replace ADDR.")
SYMBOL = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "forget": "x", "noop": " "}


def fmt(v: Any) -> str:
    s = repr(v) if not isinstance(v, str) else json.dumps(v)
    return s if len(s) < 90 else s[:87] + "..."


def print_plan(p: Any, verbose: bool = True) -> None:
    shown = [c for c in (p.changes[a] for a in p.order if a in p.changes) if c.action != "noop" or c.drift]
    drifted = [c.address for c in shown if c.drift]
    if drifted:
        click.echo(f"Drift: {len(drifted)} resource(s) changed outside the tool (lines marked 'drift'; apply "
                   "repairs them): " + ", ".join(drifted))
    for c in shown:
        label = c.action if c.action != "noop" else "drift only"
        marks = (" [DESTROYS DATA]" if c.destroys_data else "") + \
            (" [delete first]" if c.action == "replace" and c.order == "delete_first" else "")
        click.echo(f"{SYMBOL[c.action]:>3} {c.address} ({c.type}) {label}" + (f": {c.reason}" if c.reason else "")
                   + marks)
        if c.drift:
            for k, (a, b) in c.drift.items():
                click.echo(f"      drift {k}: recorded {fmt(a)} -> in AWS {fmt(b)}")
        if verbose and c.action in ("update", "replace"):
            for k, (a, b) in c.diff.items():
                click.echo(f"      {k}: {fmt(a)} -> {fmt(b)}")
    for a, lc in getattr(p, "lifecycle_updates", {}).items():
        click.echo(f"    {a} lifecycle recorded in state: {json.dumps(lc, sort_keys=True)}")
    n = p.counts()
    click.echo(f"Plan: {n['create']} to create, {n['update']} to update, {n['replace']} to replace, "
               f"{n['delete'] + n['forget']} to delete, {n['noop']} unchanged.")


class Progress:
    """One line per resource event, on stderr so --json stays clean."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, addr: str, kind: str, info: Any) -> None:
        with self.lock:
            if kind == "start":
                click.echo(f"  {addr}: {info}...", err=True)
            elif kind == "done":
                verb, result, secs = info
                click.echo(f"  {addr}: {verb} done ({result}) [{secs:.1f}s]", err=True)
            elif kind == "failed":
                verb, msg = info
                click.echo(f"  {addr}: {verb} FAILED: {msg}", err=True)
            elif kind == "skipped":
                click.echo(f"  {addr}: skipped (depends on failed {info})", err=True)


def live_view(operation: str, as_json: bool) -> Any:
    """The live view on a terminal (stderr is a TTY and not --json); None means the plain log."""
    if as_json or not sys.stderr.isatty() or os.environ.get("INFRA_PLAIN"):
        return None
    from rich.console import Console

    from orchestrator.apply import usual_seconds
    from orchestrator.live import LiveView

    return LiveView(operation, Console(stderr=True), usual_seconds)


def print_report(report: Any, as_json: bool, operation: str = "apply") -> None:
    s = report.summary()
    if as_json:
        click.echo(json.dumps({"ok": report.ok, **s, "errors": {k: str(v) for k, v in report.outcome.failed.items()}},
                              indent=2))
        return
    parts = [f"{len(v)} {k.replace('_', ' ')}" for k, v in s.items() if v]
    click.echo((f"{operation.capitalize()} complete: " if report.ok else "Run incomplete: ") + (", ".join(parts) or "nothing to do") + ".")
    for step, exc in report.outcome.failed.items():
        click.echo(f"  failed {step}: {exc}", err=True)
    if s["skipped"]:
        click.echo(f"  skipped because a dependency failed: {', '.join(s['skipped'])}", err=True)
    if not report.ok:
        click.echo("  Run apply again to finish: what succeeded is recorded.", err=True)


# --------------------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="genai-infra", prog_name="infra")
def main() -> None:
    """Provision, inspect and tear down AWS infrastructure with boto3 (GenAI Demo)."""


@main.command()
@common
@click.option("--format", "fmt_", type=click.Choice(["table", "json", "sarif"]), default="table",
              show_default=True, help="sarif: SARIF 2.1.0, for CI systems that show findings on the code.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--severity", type=click.Choice(["low", "medium", "high", "critical"]), default="high",
              show_default=True, help="Exit 1 when an unwaived finding at or above this severity remains.")
@handle_errors
def check(fmt_: str, as_json: bool, severity: str, **kw: Any) -> None:
    """The policy check: checkov/trivy/FSBP-style rules over the planned resources and graph; no AWS call."""
    from orchestrator import check as policy

    ws = workspace(kw)
    findings = policy.evaluate(ws.plan, ws.stacks)
    unknown = policy.unknown_waivers(ws.plan)
    if unknown:
        raise InfraError(f"the plan waives rule(s) that do not exist: {', '.join(sorted(set(unknown)))} "
                         "(`infra check --format json` lists the rules that fired; docs/security.md lists all)")
    failing = policy.gate(findings, severity)
    fmt_ = "json" if as_json else fmt_
    if fmt_ == "json":
        click.echo(json.dumps({"ok": not failing, "severity": severity,
                               "findings": [f.to_dict() for f in findings]}, indent=2))
    elif fmt_ == "sarif":
        cwd = Path.cwd()
        locs = {}
        for r in ws.plan.resources(ws.stacks):
            file, line = getattr(r, "declared_at", ("", 0))
            if file:
                path = Path(file)
                locs[r.address] = (str(path.relative_to(cwd)) if path.is_relative_to(cwd) else path.as_uri(), line)
        click.echo(json.dumps(policy.sarif(findings, locs), indent=2))
    else:
        click.echo(policy.table(findings, severity))
    if failing:
        sys.exit(1)


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--project", default=None, help="Project name (default: the directory's name).")
@click.option("--force", is_flag=True, help="Overwrite plan.py / test_plan.py if they exist.")
def init(directory: str, project: str | None, force: bool) -> None:
    """Write a starter plan (a VPC, a bucket, two parameters, two profiles) and its sandbox test."""
    import re
    from importlib import resources as pkg

    target = Path(directory).resolve()
    name = project or re.sub(r"[^a-z0-9-]+", "-", target.name.lower()).strip("-") or "my-infra"
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,30}", name):
        click.echo(f"Error: project name {name!r} must be 2-31 characters: lower-case letters, digits and "
                   "hyphens, starting with a letter (--project NAME).", err=True)
        sys.exit(2)
    files = {"plan.py": "plan.py.txt", "test_plan.py": "test_plan.py.txt"}
    existing = [f for f in files if (target / f).exists()]
    if existing and not force:
        click.echo(f"Error: {', '.join(existing)} already exist(s) in {target}; nothing was written "
                   "(--force overwrites).", err=True)
        sys.exit(1)
    target.mkdir(parents=True, exist_ok=True)
    for out, template in files.items():
        text = pkg.files("plans.starter").joinpath(template).read_text()
        (target / out).write_text(text.format(project=name))
    click.echo(f"Wrote {target / 'plan.py'} and {target / 'test_plan.py'} (project {name!r}). Next:")
    click.echo(f"  cd {directory} && pytest                          # the plan's test, offline on the strict sandbox")
    click.echo("  infra sandbox up")
    click.echo("  infra validate --plan plan.py --env dev")
    click.echo("  infra apply --plan plan.py --env dev --sandbox --auto-approve")
    click.echo("  infra destroy --plan plan.py --env dev --sandbox --auto-approve")


@main.command()
@common
@handle_errors
def validate(**kw: Any) -> None:
    """Check the plan (properties, references, cycles) without calling AWS."""
    ws = workspace(kw)
    g = ws.full_graph
    click.echo(f"Plan {ws.plan.project}/{ws.opts.env} is valid: {g.number_of_nodes()} resources, "
               f"{g.number_of_edges()} dependencies, stacks {', '.join(ws.plan.stacks)}.")
    from orchestrator import check as policy

    findings = policy.evaluate(ws.plan, ws.stacks)
    failing = policy.gate(findings)
    waived = sum(1 for f in findings if f.waived)
    click.echo(f"Policy check: {len(findings)} findings, {len(failing)} unwaived at high or above, {waived} waived"
               + (f" (`infra check --env {ws.opts.env}` lists them)." if findings else "."))


@main.command()
@common
@click.option("--refresh", type=click.BOOL, default=True, show_default=True, help="Read AWS to detect drift.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--destroy", is_flag=True, help="Plan a destroy.")
@click.option("--replace", "replace", multiple=True, metavar="ADDR",
              help="Plan replacing ADDR (repeatable); also consents to ADDR's data loss or refused change.")
@click.option("--allow-data-loss", is_flag=True, help=ALLOW_DATA_LOSS)
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Save the plan to FILE; `infra apply FILE` then applies exactly it.")
@targeting
@handle_errors
def plan(refresh: bool, detailed_exitcode: bool, as_json: bool, destroy: bool, replace: tuple[str, ...],
         allow_data_loss: bool, out: str | None, targets: tuple[str, ...], exclude: tuple[str, ...],
         **kw: Any) -> None:
    """Show what apply would change."""
    ws = workspace(kw, refresh=refresh)
    # Shown, a data-destroying replacement is marked; saved (--out, applied as it is) it needs consent now.
    p, *_ = ws.make_plan(destroy=destroy, allow_protected=out is None, replace=replace, targets=targets,
                         exclude=exclude, allow_data_loss=allow_data_loss or out is None)
    if out:
        from orchestrator import day2

        doc = day2.plan_document(ws, p, destroy=destroy, options={
            "targets": list(targets), "exclude": list(exclude), "replace": list(replace), "refresh": refresh})
        day2.write_plan(out, doc)
        click.echo(f"Saved the plan to {out} (state serial {p.serial}, {doc['hash']}); apply it with "
                   f"`infra apply {out}`.", err=True)
    if as_json:
        click.echo(json.dumps({"serial": p.serial, "counts": p.counts(),
                               "changes": [p.changes[a].to_json() for a in p.order if a in p.changes]}, indent=2))
    else:
        print_plan(p)
    if detailed_exitcode and p.has_changes:
        sys.exit(2)


def _run_changes(ws: Any, operation: str, auto_approve: bool, as_json: bool,
                 runner: Callable[..., Any] | None = None, **plan_kw: Any) -> None:
    from orchestrator.runs import run_changes

    view = live_view(operation, as_json)

    def approved(p: Any) -> bool:
        if not as_json:
            print_plan(p)
        if auto_approve:
            return True
        if not sys.stdin.isatty():
            raise InfraError(f"{operation} needs confirmation: pass --auto-approve when not on a terminal")
        if click.confirm(f"Do you want to {operation} these changes?", default=False):
            return True
        click.echo("Cancelled; nothing changed.")
        return False

    def confirm(p: Any) -> bool:
        ok = approved(p)
        if ok and view is not None:  # the live view starts with the run, after any prompt
            view.plan(p)
            view.__enter__()
        return ok

    from orchestrator.interrupt import EXIT_CODE, Interrupted

    run = runner or (lambda **k: run_changes(ws, operation, **k, **plan_kw))
    try:
        try:
            p, report = run(confirm=confirm, on_event=view if view is not None else Progress(),
                            warn=lambda m: click.echo(f"Warning: {m}", err=True))
        finally:
            if view is not None:
                view.__exit__(None, None, None)
    except Interrupted as exc:
        click.echo(f"Interrupted ({exc.signame}) before any change started: nothing changed, lock released.",
                   err=True)
        sys.exit(EXIT_CODE)
    if report is None:
        if not p.has_changes:
            if as_json:
                click.echo(json.dumps({"ok": True, "changes": 0}))
            else:
                print_plan(p)
                click.echo("No changes. Infrastructure matches the plan.")
        return
    print_report(report, as_json, operation)
    if report.retries:
        click.echo("  Retries made: " + ", ".join(f"{n} {k}" for k, n in sorted(report.retries.items())) + ".",
                   err=True)
        for r in report.retry_log:
            click.echo(f"    {r.address} {r.phase}: {r.code} x{r.attempts} over {r.seconds:.1f} s", err=True)
    if report.interrupted:
        click.echo(f"Interrupted ({report.interrupted}): changes in flight finished and were recorded, no new "
                   "change started, lock released. Run it again to finish.", err=True)
        sys.exit(EXIT_CODE)
    if not report.ok:
        sys.exit(1)


@main.command()
@common
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--refresh", type=click.BOOL, default=True, show_default=True)
@click.option("--replace", "replace", multiple=True,
              help="Force replacement of ADDR (repeatable); also consents to ADDR's data loss or refused change.")
@click.option("--allow-data-loss", is_flag=True, help=ALLOW_DATA_LOSS)
@click.option("--json", "as_json", is_flag=True)
@targeting
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False))
@handle_errors
def apply(auto_approve: bool, refresh: bool, replace: tuple[str, ...], allow_data_loss: bool, as_json: bool,
          targets: tuple[str, ...], exclude: tuple[str, ...], plan_file: str | None, **kw: Any) -> None:
    """Create, update or replace resources so AWS matches the plan (or apply exactly a saved PLAN_FILE)."""
    if plan_file:
        _apply_plan_file(plan_file, auto_approve, as_json, bool(replace or targets or exclude or allow_data_loss),
                         kw)
        return
    ws = workspace(kw, refresh=refresh)
    _run_changes(ws, "apply", auto_approve, as_json, replace=replace, targets=targets, exclude=exclude,
                 allow_data_loss=allow_data_loss)


def _apply_plan_file(path: str, auto_approve: bool, as_json: bool, selecting: bool, kw: dict[str, Any]) -> None:
    from orchestrator import day2

    if selecting:
        raise click.UsageError("a saved plan is applied as it is: --replace/--target/--exclude/--allow-data-loss "
                               "belong to "
                               "`infra plan --out`")
    doc = day2.read_plan(path)
    src = click.get_current_context().get_parameter_source
    # What the plan was made for, unless the command line says otherwise (then it must agree).
    if src("env") != click.core.ParameterSource.COMMANDLINE:
        kw["env"] = doc["env"]
    if src("plan_name") != click.core.ParameterSource.COMMANDLINE:
        kw["plan_name"] = doc["plan"]
    if not kw["stacks"]:
        kw["stacks"] = tuple(doc["stacks"])
    ws = workspace(kw)
    _run_changes(ws, "apply", auto_approve, as_json, runner=lambda **k: day2.apply_plan_file(ws, doc, **k))


main.add_command(apply, name="provision")


@main.command()
@common
@click.option("--auto-approve", is_flag=True)
@click.option("--destroy-protected", metavar="ENV", default=None,
              help="Also destroy protected data stores; must name the environment being destroyed.")
@click.option("--json", "as_json", is_flag=True)
@targeting
@handle_errors
def destroy(auto_approve: bool, destroy_protected: str | None, as_json: bool, targets: tuple[str, ...],
            exclude: tuple[str, ...], **kw: Any) -> None:
    """Delete every resource of the selected stacks (or the targets and their dependents), dependents first."""
    ws = workspace(kw)
    if destroy_protected is not None and destroy_protected != ws.opts.env:
        raise InfraError(f"--destroy-protected names {destroy_protected!r} but this run is env {ws.opts.env!r}; "
                         "it must name the environment being destroyed")
    _run_changes(ws, "destroy", auto_approve, as_json, destroy=True,
                 allow_protected=destroy_protected == ws.opts.env, targets=targets, exclude=exclude)


@main.command()
@common
@click.option("--json", "as_json", is_flag=True)
@targeting
@handle_errors
def drift(as_json: bool, targets: tuple[str, ...], exclude: tuple[str, ...], **kw: Any) -> None:
    """Read AWS and report what changed outside the tool; exit 2 when anything drifted (for scheduled CI)."""
    from orchestrator import day2

    ws = workspace(kw, refresh=True)
    found = day2.drift(ws, targets, exclude)
    if as_json:
        click.echo(json.dumps({"drifted": len(found), "resources": [
            {"address": a, "type": c.type, "action": c.action, "reason": c.reason,
             "drift": {k: [v[0], v[1]] for k, v in c.drift.items()}} for a, c in sorted(found.items())]},
            indent=2, default=str))
    else:
        for a, c in sorted(found.items()):
            click.echo(f"{a} ({c.type}): " + ("deleted outside the tool" if "(resource)" in c.drift else
                                              "changed outside the tool"))
            for k, (before, now) in c.drift.items():
                if k != "(resource)":
                    click.echo(f"    {k}: recorded {fmt(before)} -> in AWS {fmt(now)}")
        click.echo(f"{len(found)} resource(s) drifted" + ("; `infra apply` repairs them." if found else "."))
    if found:
        sys.exit(2)


@main.command("import")
@common
@click.argument("address")
@click.argument("physical_id")
@handle_errors
def import_(address: str, physical_id: str, **kw: Any) -> None:
    """Adopt the existing AWS resource PHYSICAL_ID as ADDRESS (declared in the code); no AWS change."""
    from orchestrator import day2

    ws = workspace(kw)
    rec = day2.import_resource(ws, address, physical_id)
    click.echo(f"Imported {physical_id} as {address} ({rec.type}). Run `infra plan` to see how it differs "
               "from the code.")


@main.command()
@common
@click.option("--adopt", is_flag=True, help="Import orphans whose infra:address tag names a planned address.")
@click.option("--delete", "delete_", is_flag=True, help="Delete the orphans that cannot be adopted.")
@click.option("--auto-approve", is_flag=True, help="Delete without asking.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def scan(adopt: bool, delete_: bool, auto_approve: bool, as_json: bool, **kw: Any) -> None:
    """Find resources tagged for this project and env that no state record knows (orphans)."""
    from orchestrator import day2

    if delete_ and not auto_approve and not sys.stdin.isatty():
        raise InfraError("scan --delete needs confirmation: pass --auto-approve when not on a terminal")
    ws = workspace(kw)
    res = day2.scan(ws)
    for e in res.errors:
        click.echo(f"Warning: could not list {e}", err=True)
    adopted: list[str] = []
    deleted: list[str] = []
    if adopt:
        for f in [f for f in res.orphans if f.adopt_as]:
            day2.adopt(ws, f)
            adopted.append(f.arn)
            click.echo(f"adopted {f.arn} as {f.adopt_as}", err=True)
    rest = [f for f in res.orphans if f.arn not in adopted and not (adopt and f.adopt_as)]
    if delete_ and rest:
        if not auto_approve:
            for f in rest:
                click.echo(f"  delete {f.arn}")
            if not click.confirm(f"Delete these {len(rest)} resources from AWS?", default=False):
                click.echo("Cancelled; nothing deleted.")
                rest = []
        for f in rest:
            pid = day2.delete_orphan(ws, f)
            deleted.append(f.arn)
            click.echo(f"deleted {f.arn}" + (f" ({pid})" if pid else " (already gone)"), err=True)
    if as_json:
        click.echo(json.dumps({"orphans": [{"arn": f.arn, "service": f.service, "type": f.type,
                                            "address": f.address, "adoptable_as": f.adopt_as}
                                           for f in res.orphans],
                               "known": len(res.known), "adopted": adopted, "deleted": deleted,
                               "errors": res.errors}, indent=2))
        return
    for service, items in res.by_service().items():
        click.echo(f"{service}:")
        for f in items:
            note = f"adoptable as {f.adopt_as}" if f.adopt_as else (f"tagged {f.address}" if f.address else "untracked")
            done = " [adopted]" if f.arn in adopted else " [deleted]" if f.arn in deleted else ""
            click.echo(f"  {f.arn}  ({f.type or 'unknown type'}; {note}){done}")
    click.echo(f"{len(res.orphans)} orphan(s), {len(res.known)} tagged resource(s) known to state.")


@main.command()
@common
@click.option("--format", "fmt_", type=click.Choice(["text", "dot", "mermaid", "json", "svg"]), default="text",
              show_default=True, help="svg needs Graphviz's dot (Debian package graphviz).")
@click.option("--level", type=click.Choice(["resource", "service"]), default="resource", show_default=True,
              help="One node per resource, or one per AWS service as in the architecture document.")
@click.option("--doc", is_flag=True, help="Print docs/architecture.md: every profile, service level, generated.")
@click.option("--dependents", metavar="ADDR", default=None, help="Everything affected if ADDR is replaced/destroyed.")
@click.option("--path", nargs=2, metavar="FROM TO", default=None, help="Why FROM needs TO.")
@click.option("--order", type=click.Choice(["create", "destroy"]), default=None, help="Order in waves.")
@click.option("--critical-path", is_flag=True, help="The longest chain of creates, with estimated durations.")
@click.option("--measured", is_flag=True,
              help="With --critical-path: use create durations measured in this env's state history (reads state).")
@click.option("--json", "as_json", is_flag=True, help="JSON output for --dependents/--path/--order/--critical-path.")
@handle_errors
def graph(fmt_: str, level: str, doc: bool, dependents: str | None, path: tuple[str, str] | None, order: str | None,
          critical_path: bool, measured: bool, as_json: bool, **kw: Any) -> None:
    """Inspect the dependency graph (no AWS call, except --measured)."""
    from orchestrator import architecture, render
    from orchestrator import graph as G
    from orchestrator.diagram import doc_of

    if doc:
        click.echo(architecture.document(kw["plan_name"]))
        return
    ws = workspace(kw)
    g = ws.full_graph.subgraph([n for n in ws.full_graph if ws.full_graph.nodes[n]["stack"] in ws.stacks])
    out: Any = None
    if dependents:
        out = sorted(G.dependents(g, dependents))
        lines = out
    elif path:
        out = G.why(g, path[0], path[1])
        if out is None:
            click.echo(json.dumps(None) if as_json else f"{path[0]} does not need {path[1]}")
            sys.exit(1)
        lines = [" -> ".join(out)]
    elif order:
        out = G.creation_waves(g) if order == "create" else G.destroy_waves(g)
        lines = [f"wave {i}: {', '.join(w)}" for i, w in enumerate(out, 1)]
    elif critical_path:
        out, lines = _critical_path(ws, g, measured)
    else:
        click.echo(render.render(g, fmt_, title=f"{ws.plan.project} {ws.opts.env}", level=level, env=ws.opts.env,
                                 doc=doc_of(ws.plan)))
        return
    click.echo(json.dumps(out, indent=2) if as_json else "\n".join(lines))


def _critical_path(ws: Any, g: Any, measured: bool) -> tuple[dict[str, Any], list[str]]:
    """The chain that bounds a full create however wide the parallelism, each step with its estimate."""
    from orchestrator import graph as G

    per_type = {}
    if measured:
        per_type = G.measured_create_seconds(ws.store.history(10000), {n: g.nodes[n]["type"] for n in g})
    est = G.create_estimates(g, per_type)
    total, chain = G.critical_path(g, lambda n: est[n][0])
    steps, start = [], 0.0
    for n in chain:
        secs, source = est[n]
        steps.append({"address": n, "type": g.nodes[n]["type"], "start": start, "seconds": secs, "source": source})
        start += secs
    lines = [f"Critical path of {ws.plan.project} {ws.opts.env} (create): {_hms(total)} estimated, "
             f"{len(chain)} resources" + ("" if measured else "; durations the resource types declare "
                                          f"({G.DEFAULT_CREATE_SECONDS:g}s where a type declares none), "
                                          "--measured uses this env's recorded applies")]
    lines += [f"  {_hms(s['start']):>8} +{_hms(s['seconds']):<8} {s['address']} ({s['type']}) [{s['source']}]"
              for s in steps]
    return {"total_seconds": total, "measured_types": sorted(per_type), "path": steps}, lines


def _hms(secs: float) -> str:
    secs = round(secs)
    h, m, s = secs // 3600, secs % 3600 // 60, secs % 60
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s" if m else f"{s}s"


@main.group()
def state() -> None:
    """Inspect and repair the recorded state."""


@state.command("list")
@common
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def state_list(as_json: bool, **kw: Any) -> None:
    ws = workspace(kw)
    recs = ws.store.read(ws.stacks)
    if as_json:
        click.echo(json.dumps([{"address": r.address, "type": r.type, "physical_id": r.physical_id,
                                "status": r.status, **({"reason": r.reason} if r.reason else {})}
                               for r in recs.values()], indent=2))
        return
    for r in sorted(recs.values(), key=lambda r: r.address):
        note = f"  [tainted: {r.reason}]" if r.status == "tainted" else f"  [{r.status}]" if r.pending else ""
        click.echo(f"{r.address:50} {r.type:32} {r.physical_id or '-'}{note}")
    click.echo(f"{len(recs)} resources in state.", err=True)


@state.command("show")
@common
@click.argument("address")
@handle_errors
def state_show(address: str, **kw: Any) -> None:
    ws = workspace(kw)
    recs = ws.store.read(ws.plan.stacks)
    if address not in recs:
        raise InfraError(f"no state record for {address}")
    r = recs[address]
    click.echo(json.dumps({"address": r.address, "type": r.type, "physical_id": r.physical_id, "status": r.status,
                           "reason": r.reason,
                           "props": r.props, "outputs": r.outputs, "deps": r.deps, "lifecycle": r.lifecycle,
                           "serial": r.serial, "updated_by": r.updated_by}, indent=2, default=str))


@state.command("unlock")
@common
@click.option("--force", is_flag=True, required=True, help="Required: clears the lock whoever holds it.")
@handle_errors
def state_unlock(force: bool, **kw: Any) -> None:
    ws = workspace(kw)
    held = ws.store.force_unlock()
    click.echo(f"Lock released (was held by {held['owner']}, operation {held['operation']})." if held
               else "The state was not locked.")


@state.command("rm")
@common
@click.argument("address")
@handle_errors
def state_rm(address: str, **kw: Any) -> None:
    """Forget ADDR (AWS is not touched)."""
    ws = workspace(kw)
    recs = ws.store.read(ws.plan.stacks)
    if address not in recs:
        raise InfraError(f"no state record for {address}")
    ws.store.acquire("state rm")
    try:
        ws.store.remove(address, "state rm")
    finally:
        ws.store.release()
    click.echo(f"Removed {address} from state; {recs[address].physical_id} still exists in AWS.")


@state.command("mv")
@common
@click.argument("old")
@click.argument("new")
@handle_errors
def state_mv(old: str, new: str, **kw: Any) -> None:
    """Re-address a record (after a rename in the code); AWS is not touched."""
    from orchestrator import day2

    ws = workspace(kw)
    rec = day2.state_mv(ws, old, new)
    click.echo(f"Moved {old} to {new} ({rec.type} {rec.physical_id}); AWS was not touched.")


@state.command("history")
@common
@click.option("--limit", default=30, show_default=True)
@handle_errors
def state_history(limit: int, **kw: Any) -> None:
    ws = workspace(kw)
    import time as _t

    for e in ws.store.history(limit):
        when = _t.strftime("%Y-%m-%d %H:%M:%S", _t.gmtime(e["when"]))
        click.echo(f"{e['serial']:>6} {when} {e['who']:30} {e.get('change', ''):16} {e.get('address', '')}")


@main.command()
@common
@click.option("--json", "as_json", is_flag=True)
@click.argument("addresses", nargs=-1, metavar="[ADDRESS|STACK]...")
@handle_errors
def output(as_json: bool, addresses: tuple[str, ...], **kw: Any) -> None:
    """Outputs of recorded resources (ids, ARNs, endpoints) and of stacks (null until applied).

    Several addresses or stack names in one call read state once (one process, one Query per stack)."""
    from resources.base import UNKNOWN, contains_unknown, resolve

    ws = workspace(kw)
    recs = ws.store.read(ws.plan.stacks)
    wanted = set(addresses)
    data = {a: r.outputs for a, r in sorted(recs.items()) if (not wanted or a in wanted) and r.stack in ws.stacks}
    # Stack outputs (keyed by the stack's name), resolved from the recorded outputs of what they refer to.
    for s in ws.stacks:
        declared = ws.plan.stacks[s].outputs
        if declared and (not wanted or s in wanted):
            vals = resolve(declared, lambda ref: recs[ref.address].outputs.get(ref.attr, UNKNOWN)
                           if ref.address in recs else UNKNOWN)
            data[s] = {k: (None if contains_unknown(v) else v) for k, v in vals.items()}
    missing = sorted(wanted - set(data))
    if missing:
        raise InfraError(f"no state record or stack named {', '.join(missing)}")
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    for a, outs in data.items():
        for k, v in outs.items():
            click.echo(f"{a}.{k} = {v}")


# --------------------------------------------------------------------------- sandbox


@main.group("sandbox")
def sandbox_group() -> None:
    """A local moto server standing in for AWS (127.0.0.1 only)."""


@sandbox_group.command("up")
@click.option("--port", type=int, default=None, help="Port to listen on (default: a free one).")
@click.option("--no-warm", is_flag=True, help="Return as soon as it answers; services load on first use.")
@click.option("--log-requests", is_flag=True,
              help="A line per request in the sandbox's server.log (off by default: it costs the server time).")
@handle_errors
def sandbox_up(port: int | None, no_warm: bool, log_requests: bool) -> None:
    from sandbox import server

    st = server.up(port=port, warm=not no_warm, log_requests=log_requests)
    click.echo(f"Sandbox running at {st.endpoint_url} (pid {st.pid}). Use --sandbox on any command.")


@sandbox_group.command("down")
@handle_errors
def sandbox_down() -> None:
    from sandbox import server

    click.echo("Sandbox stopped." if server.down() else "Sandbox was not running.")


@sandbox_group.command("status")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def sandbox_status(as_json: bool) -> None:
    from sandbox import server

    st = server.status()
    if as_json:
        click.echo(json.dumps({"running": st is not None, **({"pid": st.pid, "port": st.port,
                                                              "endpoint_url": st.endpoint_url} if st else {})}))
    elif st is None:
        click.echo("Sandbox is not running.")
    else:
        click.echo(f"Sandbox running at {st.endpoint_url} (pid {st.pid}).")
    if st is None:
        sys.exit(1)


@sandbox_group.command("reset")
@handle_errors
def sandbox_reset() -> None:
    from sandbox import server

    server.reset()
    click.echo("Sandbox reset: every resource in it is gone.")


if __name__ == "__main__":
    main()
