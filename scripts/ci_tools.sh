#!/bin/sh
# The system tools the test suite uses (tests that miss one skip and say which): installed with
# apt-get when running as root on Debian/Ubuntu, otherwise listed.
set -eu
need=""
for pair in python3:python3 make:make /usr/bin/time:time ps:procps timeout:coreutils \
  unshare:util-linux curl:curl tar:tar gzip:gzip sha256sum:coreutils; do
  tool=${pair%%:*}
  pkg=${pair#*:}
  if ! command -v "$tool" >/dev/null 2>&1; then
    case " $need " in *" $pkg "*) ;; *) need="$need $pkg" ;; esac
  fi
done
[ -n "$need" ] || exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ci_tools: installing$need" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
else
  echo "ci_tools: missing$need (the tests that need them will skip)" >&2
fi
