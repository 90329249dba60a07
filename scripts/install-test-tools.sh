#!/usr/bin/env bash
# Installs the system tools some tests and measurements use, from Debian's
# packages: promtool (package `prometheus`), which lints heapmeter's metrics
# text, and wrk, which loads the tower layer's example. Tests that need a
# tool skip loudly without it; this makes them run. Needs root (or sudo).
set -euo pipefail

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
