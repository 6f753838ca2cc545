#!/usr/bin/env bash
# Installs the real servers and clients some tests talk to. Each one is optional: a test whose
# tool is missing prints a loud SKIPPED line (and `deno task test` still passes on its own).
#   s3rver   (npm)     an S3 implementation, into ${RT_TOOLS_DIR}/s3rver
#   awscli   (Debian)  reads back what the tracker uploaded
#   moto     (where the machine has it, or Debian's python3-moto) S3 + IAM that checks SigV4
set -uo pipefail
tools="${RT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/resource-tracker-ci}"
mkdir -p "$tools"

say() { echo "install_test_tools: $*" >&2; }

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

apt_install() {
  [ "$(id -u)" = 0 ] || return 1
  command -v apt-get >/dev/null || return 1
  if [ -z "${apt_updated:-}" ]; then apt-get update -qq >/dev/null && apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if command -v aws >/dev/null; then
  say "aws CLI present: $(aws --version 2>&1 | head -n 1)"
elif apt_install awscli; then
  say "awscli installed from Debian"
else
  say "WARNING: no aws CLI and it could not be installed; S3 read-back tests will be skipped"
fi

if command -v moto_server >/dev/null; then
  say "moto_server present"
elif apt-cache show python3-moto >/dev/null 2>&1 && apt_install python3-moto; then
  say "python3-moto installed from Debian"
else
  say "NOTE: no moto_server on this machine; the SigV4-checking S3 tests will be skipped"
fi
echo "$tools"
