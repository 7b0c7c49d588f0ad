#!/usr/bin/env bash
# The main job on the embedded sandbox: provision the GenAI Demo dev environment
# into a local moto server, show what exists, tear it down, stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
INFRA=".venv/bin/infra"
export INFRA_SANDBOX_DIR="${INFRA_SANDBOX_DIR:-$PWD/.infra/sandbox}"

cleanup() { "$INFRA" sandbox down >/dev/null 2>&1 || true; }
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Start the sandbox (moto on 127.0.0.1)"
"$INFRA" sandbox up
step "Validate the plan (no AWS call)"
"$INFRA" validate --env dev
step "Plan"
"$INFRA" plan --sandbox --env dev | tail -n 5
step "Apply the dev environment"
"$INFRA" apply --sandbox --env dev --auto-approve
step "What exists now (from state)"
"$INFRA" state list --sandbox --env dev
step "A second plan finds nothing to change"
"$INFRA" plan --sandbox --env dev --detailed-exitcode | tail -n 1
step "Destroy it"
"$INFRA" destroy --sandbox --env dev --auto-approve
"$INFRA" state list --sandbox --env dev
step "Stop the sandbox"
