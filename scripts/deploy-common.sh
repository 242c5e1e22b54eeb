# shellcheck shell=bash
# shellcheck disable=SC2034 # the options are read by the scripts that source this file
# Shared by deploy_production.sh and rollback.sh: options, printing, the history file, and the
# steps both run (build, migrations, restart, smoke). Sourced, never run on its own.
#
# Releases are git tags; images are cafe-flow-{api,worker}:<tag>. Every command is printed
# before it runs; with --dry-run it is only printed. Read-only lookups (git) run either way.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ENV_FILE=""
COMPOSE_FILE=""
STATE_DIR=""
BASE_URL=""
DRY_RUN=0
ALLOW_DB_RESTORE=0
HEALTH_TIMEOUT=300
# Orders last up to about an hour (payment and accept deadlines, then the kitchen).
DRAIN_TIMEOUT=3900
SIMULATE=","
# From the env file (finish_options): Worker Deployment Versioning, and the deployment's name.
VERSIONING=on
DEPLOYMENT_NAME=cafe-flow

say() { printf '%s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
usage_error() {
  printf 'error: %s\n' "$1" >&2
  printf "run '%s --help' for usage\n" "$(basename "$0")" >&2
  exit 2
}

# Sets one of the options both scripts take; USED says how many arguments it took (0: not ours).
USED=0
common_option() {
  USED=1
  case $1 in
    --dry-run) DRY_RUN=1 && return ;;
    --allow-db-restore) ALLOW_DB_RESTORE=1 && return ;;
  esac
  USED=0
  [[ $1 =~ ^--(repo|env-file|compose-file|state-dir|url|health-timeout|drain-timeout|simulate-failure)$ ]] || return 0
  [[ $# -ge 2 && -n $2 && $2 != --* ]] || usage_error "$1 needs a value"
  USED=2
  case $1 in
    --repo) REPO=$(cd "$2" 2>/dev/null && pwd) || usage_error "--repo $2: no such directory" ;;
    --env-file) ENV_FILE=$2 ;;
    --compose-file) COMPOSE_FILE=$2 ;;
    --state-dir) STATE_DIR=$2 ;;
    --url) BASE_URL=${2%/} ;;
    --health-timeout)
      [[ $2 =~ ^[0-9]+$ ]] || usage_error "--health-timeout needs a number of seconds"
      HEALTH_TIMEOUT=$2
      ;;
    --drain-timeout)
      [[ $2 =~ ^[0-9]+$ ]] || usage_error "--drain-timeout needs a number of seconds"
      DRAIN_TIMEOUT=$2
      ;;
    --simulate-failure) SIMULATE=",$2," ;;
  esac
}

# Options only one script takes: each script defines script_option, which sets USED the same way.
script_option() { USED=0; }

# The command line of either script: -h, its own options, the common ones and one tag (in TAG).
TAG=""
parse_arguments() {
  while (($#)); do
    case $1 in
      -h | --help) usage && exit 0 ;;
      --*)
        script_option "$@"
        ((USED > 0)) || common_option "$@"
        ((USED > 0)) || usage_error "unknown option: $1"
        shift "$USED"
        ;;
      -*) usage_error "unknown option: $1" ;;
      *)
        [[ -z $TAG ]] || usage_error "one tag only (got $TAG and $1)"
        TAG=$1 && shift
        ;;
    esac
  done
}

COMMON_OPTIONS_HELP='  --dry-run               print every step and command, run nothing that changes anything
  --allow-db-restore      if a migration cannot be reverted, restore the pre-deploy backup
  --url URL               base URL for /ready and the smoke check (default: SMOKE_BASE_URL of the env file)
  --repo DIR              the checkout to deploy from (default: this script'"'"'s repository)
  --env-file FILE         compose --env-file (default: <repo>/.env.production)
  --compose-file FILE     (default: <repo>/docker-compose.production.yml)
  --state-dir DIR         deploy history and lock (default: <repo>/.deploy)
  --health-timeout SECS   how long to wait for healthy containers (default: 300)
  --drain-timeout SECS    how long to wait for the workflows pinned to the replaced release to
                          finish before its workers are retired (default: 3900; 0: do not wait,
                          retire only what has drained; the next deploy retires the rest)
  --simulate-failure S    with --dry-run: make steps S (comma list) fail, to rehearse the rollback
  -h, --help              this help'

# The last NAME=value of the env file, without quotes; $2 when absent or empty.
env_setting() {
  local value=""
  if [[ -f $ENV_FILE ]]; then value=$(sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1); fi
  value=${value%\"} && value=${value#\"}
  printf '%s' "${value:-$2}"
}

# Fills the defaults that depend on --repo, then checks what a run needs: "run", or "read-only" (--list).
finish_options() {
  ENV_FILE=${ENV_FILE:-$REPO/.env.production}
  COMPOSE_FILE=${COMPOSE_FILE:-$REPO/docker-compose.production.yml}
  STATE_DIR=${STATE_DIR:-$REPO/.deploy}
  HISTORY=$STATE_DIR/history
  git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1 || usage_error "$REPO is not a git checkout"
  [[ ${1:-} != read-only ]] || return 0
  if [[ $SIMULATE != "," && $DRY_RUN -eq 0 ]]; then usage_error "--simulate-failure only works with --dry-run"; fi
  if [[ -z $BASE_URL && -f $ENV_FILE ]]; then
    BASE_URL=$(sed -n 's/^SMOKE_BASE_URL=//p' "$ENV_FILE" | tail -n 1)
    BASE_URL=${BASE_URL%/}
  fi
  [[ $BASE_URL =~ ^https?://[^[:space:]]+$ ]] || usage_error "a base URL is needed: --url, or SMOKE_BASE_URL in $ENV_FILE"
  VERSIONING=$(env_setting WORKER_VERSIONING on)
  DEPLOYMENT_NAME=$(env_setting WORKER_DEPLOYMENT_NAME cafe-flow)
  [[ $VERSIONING =~ ^(on|off)$ ]] || usage_error "WORKER_VERSIONING in $ENV_FILE must be on or off"
  if [[ $DRY_RUN -eq 1 ]]; then
    say "DRY RUN: commands are printed, not run"
    return 0
  fi
  [[ -f $ENV_FILE ]] || die "$ENV_FILE not found"
  command -v docker >/dev/null || die "docker is not installed"
  mkdir -p "$STATE_DIR"
  # One deploy or rollback at a time; the lock goes when the process ends.
  exec 9>"$STATE_DIR/lock"
  flock -n 9 || die "another deploy or rollback holds $STATE_DIR/lock"
}

STEP=0
CURRENT=""
step() {
  STEP=$((STEP + 1))
  CURRENT=$1
  say ""
  say "==> [$STEP] $1: $2"
}

# Prints a command, then runs it (unless --dry-run).
run() {
  printf '+ %s\n' "$*"
  [[ $DRY_RUN -eq 1 ]] || "$@"
}

# With --dry-run and --simulate-failure, reports the named step as failed.
simulated() {
  [[ $DRY_RUN -eq 1 && $SIMULATE == *",$1,"* ]] || return 1
  say "! $1 failed (simulated)"
}

# Read-only compose calls (ps, exec psql), not printed.
compose() { docker compose --env-file "$ENV_FILE" -f "$COMPOSE_FILE" "$@"; }
# A compose command against the images of one release, printed.
compose_as() {
  local version=$1
  shift
  run env "CAFE_FLOW_VERSION=$version" docker compose --env-file "$ENV_FILE" -f "$COMPOSE_FILE" "$@"
}

valid_tag() {
  [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || usage_error "$1 is not a usable release tag (letters, digits, . _ -)"
  git -C "$REPO" rev-parse -q --verify "refs/tags/$1^{commit}" >/dev/null || usage_error "unknown tag: $1 (see rollback.sh --list)"
}

tree_is_clean() {
  git -C "$REPO" diff --quiet HEAD -- || die "$REPO has uncommitted changes: commit or stash them first"
}

# ---- history: time, tag, commit, status, backup archive (tab-separated, one line per event) ----
# deployed: running and passed its checks. rolled-back: running again after a rollback.
# broken: running but failed, and the rollback did not finish. failed: tried, not running.
# baseline: found running (at HEAD's tag) by the first deploy that keeps a history.

record() {
  local commit line
  commit=$(git -C "$REPO" rev-parse --short "refs/tags/$1^{commit}")
  line=$(printf '%s\t%s\t%s\t%s\t%s' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$commit" "$2" "${3:--}")
  if [[ $DRY_RUN -eq 1 ]]; then
    say "+ record in $HISTORY: $line"
  else
    printf '%s\n' "$line" >>"$HISTORY"
  fi
}

history_lines() {
  if [[ -f $HISTORY ]]; then cat "$HISTORY"; fi
}

# Whether the history knows which release runs.
history_knows_running() {
  [[ -n $(history_lines | awk -F'\t' '$4 ~ /^(deployed|rolled-back|broken|baseline)$/') ]]
}

# The release running now: the last one recorded as running, else the tag at HEAD.
running_version() {
  local last
  last=$(history_lines | awk -F'\t' '$4 ~ /^(deployed|rolled-back|broken|baseline)$/ { tag = $2 } END { print tag }')
  [[ -n $last ]] || last=$(git -C "$REPO" describe --tags --exact-match HEAD 2>/dev/null) || true
  printf '%s' "$last"
}

# The backup taken right before the first deploy that followed release $1 (what $1 last saw).
backup_after() {
  history_lines | awk -F'\t' -v t="$1" '
    $2 == t && $4 ~ /^(deployed|rolled-back|baseline)$/ { found = 1; backup = ""; next }
    found && backup == "" && $5 != "-" { backup = $5 }
    END { print backup }'
}
