#!/usr/bin/env bash
# Deploys a release (a git tag) to the production compose stack, and puts the previous release
# back when any step after the backup fails. See --help; docs/runbook.md has the manual steps.
set -euo pipefail
export LC_ALL=C

# shellcheck source=scripts/deploy-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/deploy-common.sh"
# shellcheck source=scripts/deploy-steps.sh
source "$(dirname "${BASH_SOURCE[0]}")/deploy-steps.sh"

usage() {
  cat <<EOF
usage: deploy_production.sh [options] <tag>

Deploys release <tag>, printing each step and command:
  1. backup    a verified backup through the backup workflow (npm run backup), by the running release
  2. checkout  git checkout <tag>
  3. build     docker compose build api worker (images cafe-flow-*:<tag>)
  4. migrate   knex migrations (npm run migrate)
  5. restart   the running release's worker is parked (kept running beside the new one), then
               docker compose up -d --no-deps worker, <tag> becomes the current worker version
               (temporal worker deployment set-current-version), then api; waits for health and /ready
  6. smoke     the deploySmokeCheck workflow against --url (npm run smoke)
  7. record    <tag> is appended to <state-dir>/history
  8. drain     waits (--drain-timeout) for the orders pinned to the replaced release to finish on
               its parked worker, then retires it; one still busy stays for the next deploy
With WORKER_VERSIONING=off in the env file, steps 5 and 8 only restart the services.
If a step after the backup fails, the previous release comes back: the migrations <tag>
brought are reverted; only when one is irreversible AND --allow-db-restore was given is the
database restored from the backup of step 1. Safe to re-run.

options:
  --first-deploy          nothing runs yet: no backup and no automatic rollback
$COMMON_OPTIONS_HELP

exit codes: 0 deployed, 1 failed (rolled back when possible), 2 bad usage
EOF
}

FIRST_DEPLOY=0
script_option() {
  USED=0
  if [[ $1 == --first-deploy ]]; then FIRST_DEPLOY=1 && USED=1; fi
}
parse_arguments "$@"
[[ -n $TAG ]] || usage_error "which release? give its tag"
finish_options run
valid_tag "$TAG"
tree_is_clean

# What to roll back to: the release running now, or if that is <tag> itself (a re-run), the
# one recorded before it.
previous_release() {
  local before
  if [[ -n $RUNNING && $RUNNING != "$TAG" ]]; then
    printf '%s' "$RUNNING"
    return
  fi
  before=$(history_lines | awk -F'\t' -v t="$TAG" '$4 ~ /^(deployed|rolled-back|baseline)$/ && $2 != t { tag = $2 } END { print tag }')
  printf '%s' "$before"
}

RUNNING=$(running_version)
PREVIOUS=$(previous_release)
BACKUP_FILE=-
if [[ -z $RUNNING && $FIRST_DEPLOY -eq 0 ]]; then
  die "no release is recorded in $HISTORY and HEAD is not at a tag; for the very first deploy pass --first-deploy"
fi
say "deploying $TAG; running: ${RUNNING:-none}; rollback target: ${PREVIOUS:-none}"
# The release found at HEAD goes in the history first, so a later rollback to it finds the
# backup this deploy takes.
if [[ -n $RUNNING ]] && ! history_knows_running; then record "$RUNNING" baseline; fi

take_backup() {
  step backup "verified backup through the backup workflow (npm run backup), by the running release ${RUNNING:-none}"
  if ((FIRST_DEPLOY == 1)); then
    say "first deploy: no release runs yet, nothing to back up"
    return 0
  fi
  simulated backup && return 1
  if ((DRY_RUN == 1)); then
    compose_as "$RUNNING" run --rm --no-deps -T worker node dist/scripts/backup.js
    BACKUP_FILE="<archive printed by the backup>"
    return 0
  fi
  local output
  output=$(mktemp)
  if ! compose_as "$RUNNING" run --rm --no-deps -T worker node dist/scripts/backup.js | tee "$output"; then
    rm -f "$output"
    return 1
  fi
  BACKUP_FILE=$(sed -n 's/^archive \([^ ]*\) .*/\1/p' "$output" | head -n 1)
  rm -f "$output"
  [[ -n $BACKUP_FILE ]] || { warn "the backup printed no archive" && return 1; }
}

# The forward steps; the failing one is left in CURRENT.
roll_out() {
  step checkout "git checkout $TAG"
  simulated checkout && return 1
  checkout "$TAG" || return 1
  step build "docker compose build api worker for $TAG"
  simulated build && return 1
  build_images "$TAG" || return 1
  step migrate "apply the migrations of $TAG (npm run migrate)"
  simulated migrate && return 1
  compose_as "$TAG" run --rm --no-deps -T api node dist/scripts/migrate.js latest || return 1
  step restart "worker, then api, on $TAG; wait for health and /ready"
  simulated restart && return 1
  restart_services "$TAG" "$RUNNING" || return 1
  step smoke "smoke check of $TAG"
  simulated smoke && return 1
  run_smoke "$TAG" || return 1
}

take_backup || die "the backup failed: nothing was changed"
if roll_out; then
  step record "$TAG is deployed"
  record "$TAG" deployed "$BACKUP_FILE"
  if versioned && [[ -n $RUNNING && $RUNNING != "$TAG" ]]; then
    step drain "the workflows pinned to $RUNNING finish on its parked worker, which is then retired"
    drain_and_retire "$RUNNING" "$TAG" || warn "retiring parked workers failed: see docker ps --filter label=$PARKED_LABEL"
  fi
  say "deployed $TAG"
  exit 0
fi

FAILED_AT=$CURRENT
warn "$FAILED_AT failed while deploying $TAG"
say ""
say "==> rolling back to ${PREVIOUS:-nothing} ($TAG failed at $FAILED_AT)"
case $FAILED_AT in
  restart | smoke) record "$TAG" broken "$BACKUP_FILE" ;;
  *) record "$TAG" failed "$BACKUP_FILE" ;;
esac
[[ -n $PREVIOUS ]] || die "no previous release to go back to"
case $FAILED_AT in
  checkout | build)
    # The services and the database were not touched: only the working tree goes back.
    step checkout "git checkout $PREVIOUS"
    checkout "$PREVIOUS" || die "git checkout $PREVIOUS failed"
    ;;
  *) return_to "$PREVIOUS" "$TAG" "$BACKUP_FILE" ;;
esac
say "rolled back to $PREVIOUS; $TAG was not deployed"
exit 1
