#!/usr/bin/env bash
# The main job on the embedded sandbox: provision the GenAI Demo dev environment
# into a local moto server, show what exists and what the tool knows about it,
# tear it down, stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
INFRA=".venv/bin/infra"
export INFRA_SANDBOX_DIR="${INFRA_SANDBOX_DIR:-$PWD/.infra/sandbox}"

cleanup() { "$INFRA" sandbox down >/dev/null 2>&1 || true; }
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

mkdir -p "$(dirname "$INFRA_SANDBOX_DIR")"
# The sandbox warms every service before `sandbox up` returns; meanwhile the steps
# that need no AWS call run on the other core.
"$INFRA" sandbox up > "$INFRA_SANDBOX_DIR.up.log" 2>&1 &
UP=$!
step "Validate the plan (no AWS call)"
"$INFRA" validate --env dev
step "The platform, one node per AWS service (no AWS call)"
"$INFRA" graph --env dev --level service
step "The critical path of an apply, with AWS's usual durations (no AWS call)"
"$INFRA" graph --env dev --critical-path
step "Start the sandbox (moto on 127.0.0.1, every service warmed)"
wait "$UP" || { cat "$INFRA_SANDBOX_DIR.up.log"; exit 1; }
cat "$INFRA_SANDBOX_DIR.up.log"
step "Apply the dev environment (the plan first, then the live progress)"
"$INFRA" apply --sandbox --env dev --auto-approve
step "What exists now (from state)"
"$INFRA" state list --sandbox --env dev | tail -n 12
step "The endpoints and names the stacks publish"
"$INFRA" output --sandbox --env dev main observability
step "A second plan finds nothing to change"
"$INFRA" plan --sandbox --env dev --detailed-exitcode | tail -n 1
step "Destroy it"
"$INFRA" destroy --sandbox --env dev --auto-approve
"$INFRA" state list --sandbox --env dev
step "Stop the sandbox"
"$INFRA" sandbox down
