#!/bin/sh
# Packs each compiled binary dist/resource-tracker-TARGET into the release artifact
# resource-tracker-TARGET.tar.gz (one file inside: resource-tracker, mode 0755) and writes
# resource-tracker-TARGET.tar.gz.sha256 ("HASH  NAME", as sha256sum prints it), which install.sh
# checks. Usage: sh scripts/pack.sh [DIR]   (default dist; artifacts are written to DIR)
set -eu
dir=${1:-dist}
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
else
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
fi
n=0
for bin in "$dir"/resource-tracker-*; do
  case $bin in *.tar.gz | *.sha256) continue ;; esac
  [ -f "$bin" ] || continue
  target=${bin##*/resource-tracker-}
  name=resource-tracker-$target.tar.gz
  stage=$(mktemp -d)
  cp "$bin" "$stage/resource-tracker"
  chmod 0755 "$stage/resource-tracker"
  # Reproducible: fixed owner, no timestamps from the build machine beyond the file's own.
  tar -czf "$dir/$name" -C "$stage" --owner=0 --group=0 --numeric-owner resource-tracker 2>/dev/null ||
    tar -czf "$dir/$name" -C "$stage" resource-tracker
  rm -rf "$stage"
  (cd "$dir" && echo "$(sha256 "$name")  $name" >"$name.sha256")
  echo "$dir/$name"
  n=$((n + 1))
done
if [ "$n" -eq 0 ]; then
  echo "pack.sh: error: no $dir/resource-tracker-TARGET binary (run deno task compile first)" >&2
  exit 1
fi
