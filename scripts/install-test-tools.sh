#!/usr/bin/env bash
# Installs the servers and tools the tests and measurements use, from
# Debian's packages, with one `apt-get update`:
#   redis-server, redis-tools  the real-backend tests and the soak (Redis)
#   postgresql                 the real-backend tests and the soak (risky_users)
#   prometheus                 promtool lints the metrics text; scripts/staging
#   golang-go                  `go tool pprof` reads the profiler's pprof files
#   wrk                        HTTP load for the layer and service benchmarks
#   nodejs, npm                the incident's Node service (reference/service:
#                              npm ci, node --test) and the Node reference script
# Tests that need a missing one say SKIPPED and pass; this makes them run.
# Needs root (or sudo). Start the servers with scripts/ci-services.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v go >/dev/null 2>&1 || missing+=(golang-go)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
# NOTE: a machine whose nodejs package bundles npm has both commands and
# installs neither; Debian's nodejs (18 on bookworm) comes without npm.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "install-test-tools: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# NOTE: Debian's server packages try to start their services through systemd;
# without an init system that fails harmlessly: scripts/ci-services starts them.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
