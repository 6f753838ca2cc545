#!/usr/bin/env bash
# Debian tools the live-view tests drive for real: Prometheus (+promtool) for /metrics and
# remote write, Chromium for the dashboard, tmux for --live. Tests that need one skip with a
# printed reason when it is missing, so a failure here is reported, not fatal.
set -uo pipefail
need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v promtool >/dev/null || need+=(prometheus)
command -v chromium >/dev/null || need+=(chromium)
command -v tmux >/dev/null || need+=(tmux)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-watch-tools: not root; missing ${need[*]} (those tests will skip)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null &&
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null ||
  echo "install-watch-tools: apt-get failed; missing ${need[*]} (those tests will skip)" >&2
exit 0
