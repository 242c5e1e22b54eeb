#!/usr/bin/env bash
# Installs the Debian packages the ops tests and the backup activity need:
#   - nginx: `nginx -t` validates nginx/nginx.prod.conf
#   - prometheus: provides promtool (check config, check rules, test rules)
#   - openssl: throwaway self-signed certificates for the nginx test
#   - shellcheck: lints the scripts under scripts/
#   - postgresql-client-15: pg_dump / pg_restore used by the backup workflow
#   - chromium: the staff board's browser test drives it with puppeteer-core (no browser download)
#
# Idempotent: packages already present are left alone and `apt-get update` runs
# at most once, only when something is missing. Package post-install scripts are
# prevented from starting nginx or prometheus as services, so nothing holds
# port 80 or 9090 afterwards (there is no systemd on the dev/CI machines).
set -euo pipefail

readonly PACKAGES=(nginx prometheus openssl shellcheck postgresql-client-15 chromium)
readonly POLICY_RC=/usr/sbin/policy-rc.d

log() { printf '[install-system-deps] %s\n' "$*"; }

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == "installed" ]]
}

missing_packages() {
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    is_installed "$pkg" || printf '%s\n' "$pkg"
  done
}

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  else
    sudo "$@"
  fi
}

# policy-rc.d answering 101 tells invoke-rc.d "action forbidden": the packages
# install without their init scripts starting the daemons. We only add it when
# none exists, and remove only the one we added.
block_service_starts() {
  if [[ -e "$POLICY_RC" ]]; then
    return 1
  fi
  printf '#!/bin/sh\nexit 101\n' | as_root tee "$POLICY_RC" >/dev/null
  as_root chmod 0755 "$POLICY_RC"
}

disable_services() {
  local svc
  for svc in nginx prometheus; do
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
      as_root systemctl disable --now "$svc" >/dev/null 2>&1 || true
    elif command -v update-rc.d >/dev/null 2>&1 && [[ -e "/etc/init.d/$svc" ]]; then
      as_root update-rc.d "$svc" disable >/dev/null 2>&1 || true
    fi
  done
}

# An existing policy-rc.d may have let the post-install scripts start the daemons
# we just installed; stop those (and only those).
stop_started_services() {
  local pkg
  for pkg in "$@"; do
    case "$pkg" in
      nginx | prometheus) as_root invoke-rc.d "$pkg" stop >/dev/null 2>&1 || true ;;
    esac
  done
}

main() {
  local missing
  mapfile -t missing < <(missing_packages)
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "all present: ${PACKAGES[*]}"
  else
    log "installing: ${missing[*]}"
    local added_policy=false
    if block_service_starts; then
      added_policy=true
      trap 'as_root rm -f "$POLICY_RC"' EXIT
    fi
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    if [[ "$added_policy" == true ]]; then
      as_root rm -f "$POLICY_RC"
      trap - EXIT
    else
      stop_started_services "${missing[@]}"
    fi
  fi
  disable_services

  local tool
  for tool in nginx promtool openssl shellcheck pg_dump pg_restore chromium; do
    if ! command -v "$tool" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$tool" ]]; then
      log "ERROR: $tool not found after install" >&2
      exit 1
    fi
  done
  log "promtool: $(promtool --version 2>&1 | head -n 1)"
}

main "$@"
