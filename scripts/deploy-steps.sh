# shellcheck shell=bash
# The steps deploy_production.sh and rollback.sh share: migrations, images, services, smoke,
# and bringing a release back. Sourced after deploy-common.sh, never run on its own.

# ---- migrations: knex names (without extension) of a release, and reverting newer ones ----

migrations_of() {
  git -C "$REPO" ls-tree --name-only "refs/tags/$1^{commit}" db/migrations/ | sed -E 's|.*/||; s/\.(ts|js)$//' | sort
}

# Migrations release $1 has and release $2 does not.
migrations_only_in() {
  comm -23 <(migrations_of "$1") <(migrations_of "$2")
}

db_query() {
  # shellcheck disable=SC2016 # expanded inside the postgres container, from its own environment
  compose exec -T postgres sh -c 'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atc "$1"' sh "$1"
}

applied_migrations() {
  local exists
  exists=$(db_query "select to_regclass('public.knex_migrations') is not null") || return 1
  [[ $exists == t ]] || return 0
  db_query "select name from knex_migrations" | sed -E 's/\.(ts|js)$//' | sort
}

latest_batch() {
  db_query "select name from knex_migrations where batch = (select max(batch) from knex_migrations)" |
    sed -E 's/\.(ts|js)$//' | sort
}

# Reverts, newest batch first and with the images of $1 (which hold their down()), every
# migration $1 has and $2 does not. Answers 2 when a revert fails: that migration is irreversible.
revert_migrations() {
  local newer keep applied last still round
  newer=$(migrations_only_in "$1" "$2")
  if [[ -z $newer ]]; then
    say "nothing to revert: $2 has every migration of $1"
    return 0
  fi
  say "to revert: $(paste -sd ' ' <<<"$newer")"
  if [[ $DRY_RUN -eq 1 ]]; then
    say "+ (repeated while any of them is applied; a batch that holds a migration of $2 is never reverted)"
    simulated revert && return 2
    compose_as "$1" run --rm --no-deps -T api node dist/scripts/migrate.js rollback
    return 0
  fi
  keep=$(migrations_of "$2")
  for round in $(seq 1 50); do
    applied=$(applied_migrations) || return 1
    still=$(comm -12 <(printf '%s\n' "$applied") <(printf '%s\n' "$newer"))
    [[ -n $still ]] || return 0
    last=$(latest_batch) || return 1
    if [[ -n $(comm -12 <(printf '%s\n' "$last") <(printf '%s\n' "$keep")) ]]; then
      warn "the newest migration batch also holds migrations of $2: revert by hand"
      return 1
    fi
    say "revert round $round: still applied: $(paste -sd ' ' <<<"$still")"
    compose_as "$1" run --rm --no-deps -T api node dist/scripts/migrate.js rollback || return 2
  done
  return 1
}

# ---- database restore: only for an irreversible migration, and only with --allow-db-restore ----

# Restores archive $2 with the worker image of release $1 (the newer one: it has restore.js), with
# the API and worker stopped.
restore_database() {
  local database="<POSTGRES_DB>"
  simulated restore && return 1
  if [[ $DRY_RUN -eq 0 ]]; then
    # shellcheck disable=SC2016 # expanded inside the postgres container
    database=$(compose exec -T postgres sh -c 'printf %s "$POSTGRES_DB"') || return 1
  fi
  run docker compose --env-file "$ENV_FILE" -f "$COMPOSE_FILE" stop api worker || return 1
  compose_as "$1" run --rm --no-deps -T worker node dist/scripts/restore.js "$2" --database "$database" --force
}

# ---- images, services, smoke ----

# Builds the images of release $1 (checked out); with "if-missing", only when absent.
build_images() {
  if [[ $DRY_RUN -eq 1 && ${2:-} == if-missing ]]; then
    say "+ (skipped when docker image inspect finds cafe-flow-api:$1 and cafe-flow-worker:$1)"
  elif [[ ${2:-} == if-missing ]] &&
    docker image inspect "cafe-flow-api:$1" "cafe-flow-worker:$1" >/dev/null 2>&1; then
    say "images cafe-flow-api:$1 and cafe-flow-worker:$1 already built"
    return 0
  fi
  compose_as "$1" build api worker
}

# Release $1 in place of release $2 (optional). Workers first: they must know new workflow code
# before the API starts it (docs/runbook.md). With versioning, the worker of $2 is parked beside
# them first, and $1 becomes the deployment's current version before the API restarts.
restart_services() {
  if [[ -n ${2:-} && $2 != "$1" ]]; then park_worker "$2" || return 1; fi
  compose_as "$1" up -d --no-deps worker || return 1
  if versioned; then
    # A rollback: the service runs $1 again, so a parked copy of it is no longer needed.
    unpark "$1" || return 1
    set_current "$1" || return 1
  fi
  compose_as "$1" up -d --no-deps api || return 1
  wait_healthy "$1"
}

wait_healthy() {
  say "waiting up to ${HEALTH_TIMEOUT}s for every api and worker container of $1 to be healthy"
  if [[ $DRY_RUN -eq 1 ]]; then
    say "+ (poll docker inspect every 5s: health status and image of each api and worker container)"
    run curl -fsS --max-time 10 "$BASE_URL/ready"
    return 0
  fi
  local deadline=$((SECONDS + HEALTH_TIMEOUT))
  until containers_healthy "$1"; do
    if ((SECONDS >= deadline)); then
      warn "the api and worker of $1 are not healthy after ${HEALTH_TIMEOUT}s"
      compose ps api worker >&2 || true
      return 1
    fi
    sleep 5
  done
  run curl -fsS --max-time 10 "$BASE_URL/ready" || return 1
  say ""
}

containers_healthy() {
  local ids id state parked
  ids=$(compose ps -q api worker) || return 1
  [[ -n $ids ]] || return 1
  parked=$(parked_workers | cut -d ' ' -f 1)
  for id in $ids; do
    if grep -qxF "$id" <<<"$parked"; then continue; fi
    state=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.Config.Image}}' "$id") ||
      return 1
    [[ $state == "healthy cafe-flow-"*":$1" ]] || return 1
  done
}

# The deploySmokeCheck workflow (npm run smoke) from the worker image of release $1.
run_smoke() {
  compose_as "$1" run --rm --no-deps -T worker node dist/scripts/smoke.js --url "$BASE_URL"
}

checkout() {
  run git -C "$REPO" checkout --quiet --detach "refs/tags/$1"
}

# ---- worker versions: a replaced release's workers stay until its pinned workflows finish ----
# The workers of release <tag> poll as build id <tag> of the deployment $DEPLOYMENT_NAME
# (docker-compose.production.yml passes CAFE_FLOW_VERSION as WORKER_BUILD_ID), and orders are
# pinned to the build that started them. Before the worker service moves to a new release, the
# running release's worker is "parked": a one-off container of its image, labelled
# $PARKED_LABEL=<tag>, that keeps serving its orders until they finish (drain), then is retired.

PARKED_LABEL=cafe-flow.parked-release

versioned() { [[ $VERSIONING == on ]]; }

# The Temporal CLI of the admin-tools image (release $1's compose file), aimed at the cluster and
# namespace by that service's environment.
temporal_cli() {
  compose_as "$1" run --rm --no-deps -T --entrypoint temporal temporal-namespace-setup "${@:2}"
}

# "<container id> <release>" for each parked worker, running or not.
parked_workers() {
  docker ps -a --no-trunc --filter "label=$PARKED_LABEL" --format "{{.ID}} {{.Label \"$PARKED_LABEL\"}}"
}

park_worker() {
  versioned || return 0
  say "parking the worker of $1: the workflows pinned to $1 finish on it"
  unpark "$1" || return 1
  compose_as "$1" run -d --no-deps --label "$PARKED_LABEL=$1" --name "cafe-flow-worker-$1" worker
}

# Stops (with the service's grace period) and removes the parked workers of release $1.
unpark() {
  if [[ $DRY_RUN -eq 1 ]]; then
    say "+ (docker stop --time 60, then docker rm, each container labelled $PARKED_LABEL=$1, if any)"
    return 0
  fi
  local id
  for id in $(parked_workers | awk -v t="$1" '$2 == t { print $1 }'); do
    run docker stop --time 60 "$id" >/dev/null || return 1
    run docker rm "$id" >/dev/null || return 1
  done
}

set_current() {
  local args=(worker deployment set-current-version --deployment-name "$DEPLOYMENT_NAME" --build-id "$1" --yes)
  if [[ $DRY_RUN -eq 1 ]]; then
    say "+ (repeated every 5s, up to ${HEALTH_TIMEOUT}s, until the worker of $1 has polled)"
    temporal_cli "$1" "${args[@]}"
    return 0
  fi
  local deadline=$((SECONDS + HEALTH_TIMEOUT))
  until temporal_cli "$1" "${args[@]}"; do
    if ((SECONDS >= deadline)); then
      warn "$1 could not become the current version of $DEPLOYMENT_NAME in ${HEALTH_TIMEOUT}s"
      return 1
    fi
    sleep 5
  done
}

# The drainage status of release $1: draining, drained, or unknown. A version the server does not
# know (its release ran unversioned) has nothing pinned to it: drained.
drainage() {
  local output
  if output=$(compose run --rm --no-deps -T --entrypoint temporal temporal-namespace-setup \
    worker deployment describe-version --deployment-name "$DEPLOYMENT_NAME" --build-id "$1" -o json 2>&1); then
    sed -n 's/.*"drainageStatus": *"\([a-z]*\)".*/\1/p' <<<"$output" | head -n 1 | grep . || printf 'unknown\n'
  elif [[ $output == *"not found"* ]]; then
    printf 'drained\n'
  else
    printf 'unknown\n'
  fi
}

# Waits up to DRAIN_TIMEOUT for the workflows pinned to release $1 to finish, then retires every
# parked worker whose release has drained, except release $2's (the one now running): this one,
# and any an earlier deploy had to leave behind.
drain_and_retire() {
  local replaced=$1 current=$2 deadline=$((SECONDS + DRAIN_TIMEOUT)) status release
  if [[ $DRY_RUN -eq 1 ]]; then
    say "+ (every 30s, up to ${DRAIN_TIMEOUT}s, until its drainageStatus is drained:)"
    temporal_cli "$replaced" worker deployment describe-version --deployment-name "$DEPLOYMENT_NAME" --build-id "$replaced" -o json
    unpark "$replaced"
    return 0
  fi
  until [[ $(drainage "$replaced") == drained ]] || ((SECONDS >= deadline)); do
    say "workflows pinned to $replaced are still running; checking again in 30s"
    sleep 30
  done
  for release in $(parked_workers | cut -d ' ' -f 2 | sort -u); do
    [[ $release != "$current" ]] || continue
    status=$(drainage "$release")
    if [[ $status == drained ]]; then
      say "retiring the worker of $release: every workflow pinned to it has finished"
      unpark "$release" || return 1
    else
      warn "the worker of $release stays ($status): workflows pinned to it still run. The next deploy retires it once drained"
    fi
  done
}

# ---- bringing a release back ----

# Puts release $1 back in place of $2: reverts the migrations $2 brought (the database is
# restored from archive $3 instead only when one is irreversible and --allow-db-restore was
# given), checks $1 out, restarts it and runs the smoke check. Exits non-zero when it cannot.
return_to() {
  local target=$1 from=$2 backup=$3 reverted=0
  step revert-migrations "undo the migrations $from brought, with the images of $from"
  revert_migrations "$from" "$target" || reverted=$?
  if ((reverted == 2)); then
    say "a migration of $from cannot be reverted (irreversible)"
    if ((ALLOW_DB_RESTORE == 0)); then
      die "stopped before touching the database. To restore the backup taken before $from, run:
  scripts/rollback.sh $target --allow-db-restore${backup:+ --backup $backup}"
    fi
    [[ -n $backup && $backup != - ]] || die "no backup is known to restore: pass --backup FILE"
    step restore-database "restore $backup (--allow-db-restore)"
    restore_database "$from" "$backup" || die "the restore failed: the database needs a hand (docs/runbook.md)"
  elif ((reverted != 0)); then
    die "the migrations of $from could not be checked or reverted: nothing else was changed"
  fi
  step checkout "git checkout $target"
  checkout "$target" || die "git checkout $target failed"
  step build "images of $target, unless still there"
  build_images "$target" if-missing || die "building $target failed"
  step restart "worker, then api, on $target; wait for health and /ready"
  restart_services "$target" "$from" || die "$target did not come back healthy"
  step smoke "smoke check of $target"
  if ! run_smoke "$target"; then
    record "$target" broken
    die "$target is back but its smoke check fails"
  fi
  step record "$target is running again"
  record "$target" rolled-back
  if versioned; then
    step drain "the workflows pinned to $from finish on its parked worker, which is then retired"
    drain_and_retire "$from" "$target" || warn "retiring parked workers failed: see docker ps --filter label=$PARKED_LABEL"
  fi
}
