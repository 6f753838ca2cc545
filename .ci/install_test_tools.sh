#!/usr/bin/env bash
# Installs the real servers and clients the tests drive. Each one is optional: a test whose tool
# is missing prints a SKIPPED line naming it (and `deno task test` still passes on its own).
#   Debian: python3, procps, coreutils, util-linux (unshare), curl, tar, gzip: what tests drive
#           time, make        GNU time as the CPU reference (tests/accuracy_test.ts, cgroup tests)
#           prometheus        promtool + a real Prometheus for /metrics and remote write
#           chromium          headless browser for the report and the dashboard
#           tmux              drives --live in a real terminal
#           awscli            reads back what the tracker uploaded to S3
#           python3-moto      S3 + IAM that checks SigV4 (where the machine lacks moto_server)
#   npm:    s3rver            an S3 implementation, into ${RT_TOOLS_DIR}/s3rver
# Prints the tools directory as its last line.
set -uo pipefail
tools="${RT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/resource-tracker-ci}"
mkdir -p "$tools"

say() { echo "install_test_tools: $*" >&2; }

# One apt-get run for every missing Debian package (root only; otherwise the tests skip).
need=()
for pair in python3:python3 ps:procps timeout:coreutils sha256sum:coreutils unshare:util-linux \
  curl:curl tar:tar gzip:gzip; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
[ -x /usr/bin/time ] || need+=(time)
command -v make >/dev/null || need+=(make)
{ command -v prometheus >/dev/null && command -v promtool >/dev/null; } || need+=(prometheus)
command -v chromium >/dev/null || need+=(chromium)
command -v tmux >/dev/null || need+=(tmux)
command -v aws >/dev/null || need+=(awscli)
command -v moto_server >/dev/null || need+=(python3-moto)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
    # Each package alone, so one that is missing from the archive does not stop the others.
    for p in $(printf '%s\n' "${need[@]}" | sort -u); do
      apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
        say "WARNING: could not install $p; the tests that need it will be skipped"
    done
  else
    say "not root: missing ${need[*]}; the tests that need them will be skipped"
  fi
fi

s3rver_version=3.7.1
if [ -f "$tools/s3rver/node_modules/s3rver/package.json" ] &&
  grep -q "\"version\": \"$s3rver_version\"" "$tools/s3rver/node_modules/s3rver/package.json"; then
  say "s3rver $s3rver_version already in $tools/s3rver"
else
  mkdir -p "$tools/s3rver"
  (cd "$tools/s3rver" && echo '{"private":true}' >package.json &&
    npm install --no-audit --no-fund --loglevel=error "s3rver@$s3rver_version" >&2) &&
    say "s3rver $s3rver_version installed in $tools/s3rver" ||
    say "WARNING: could not install s3rver; its tests will be skipped"
fi

command -v aws >/dev/null && say "aws CLI: $(aws --version 2>&1 | head -n 1)"
command -v moto_server >/dev/null && say "moto_server present"
echo "$tools"
