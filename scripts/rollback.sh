#!/usr/bin/env bash
# Lists the releases (git tags) and puts an earlier one back in production. See --help.
set -euo pipefail
export LC_ALL=C

# shellcheck source=scripts/deploy-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/deploy-common.sh"
# shellcheck source=scripts/deploy-steps.sh
source "$(dirname "${BASH_SOURCE[0]}")/deploy-steps.sh"

usage() {
  cat <<EOF
usage: rollback.sh --list [--repo DIR] [--state-dir DIR]
       rollback.sh [options] <tag>

--list shows the releases, newest first, with the running one marked and when each was last
deployed (from <state-dir>/history).

With a tag, puts that release back, printing each step and command:
  1. revert-migrations  undo the migrations the running release has and <tag> lacks (newest batch first)
  2. restore-database   only if one of them is irreversible AND --allow-db-restore was given
  3. checkout           git checkout <tag>
  4. build              docker compose build api worker, unless its images are still there
  5. restart            the running release's worker is parked, docker compose up -d --no-deps
                        worker, <tag> becomes the current worker version, then api; waits for
                        health and /ready
  6. smoke              the deploySmokeCheck workflow against --url (npm run smoke)
  7. record             <tag> is appended to the history as rolled-back
  8. drain              the orders pinned to the release rolled back from finish on its parked
                        worker, which is then retired (--drain-timeout)
Rolling back to the release that already runs changes nothing. Safe to re-run.

options:
  --list                  list the releases and exit
  --backup FILE           archive to restore if a migration is irreversible (default: the backup
                          taken before the release after <tag> was deployed, from the history)
$COMMON_OPTIONS_HELP

exit codes: 0 rolled back (or nothing to do), 1 failed, 2 bad usage
EOF
}

LIST=0
BACKUP=""
script_option() {
  USED=0
  case $1 in
    --list) LIST=1 && USED=1 ;;
    --backup)
      [[ $# -ge 2 && -n $2 && $2 != --* ]] || usage_error "--backup needs a file"
      BACKUP=$2 && USED=2
      ;;
  esac
}
parse_arguments "$@"
TARGET=$TAG

list_releases() {
  local running tag last
  running=$(running_version)
  printf '%-2s%-24s%s\n' "" "release" "last event (history)"
  while read -r tag; do
    [[ -n $tag ]] || continue
    last=$(history_lines | awk -F'\t' -v t="$tag" '$2 == t { line = $4 " " $1 } END { print line }')
    printf '%-2s%-24s%s\n' "$([[ $tag == "$running" ]] && printf '*')" "$tag" "${last:--}"
  done < <(git -C "$REPO" tag --list --sort=-v:refname)
}

if ((LIST == 1)); then
  [[ -z $TARGET ]] || usage_error "--list takes no tag"
  finish_options read-only
  list_releases
  exit 0
fi
[[ -n $TARGET ]] || usage_error "which release? give its tag, or --list"
finish_options run
valid_tag "$TARGET"
tree_is_clean

RUNNING=$(running_version)
[[ -n $RUNNING ]] || die "no release is recorded in $HISTORY and HEAD is not at a tag: nothing to roll back from"
if [[ $RUNNING == "$TARGET" ]]; then
  say "$TARGET is the running release: nothing to do"
  exit 0
fi
BACKUP=${BACKUP:-$(backup_after "$TARGET")}
say "rolling back from $RUNNING to $TARGET; backup if needed: ${BACKUP:-none known}"
return_to "$TARGET" "$RUNNING" "$BACKUP"
say "rolled back to $TARGET"
