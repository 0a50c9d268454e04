#!/bin/sh
# fuzz.sh [DURATION]: run every Fuzz target of every package for DURATION (default 10s).
# New interesting inputs land in each package's testdata/fuzz/ and should be committed.
set -eu
d=${1:-10s}
for pkg in $(go list ./...); do
  for f in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "fuzz: $pkg $f ($d)"
    go test -run '^$' -fuzz "^$f\$" -fuzztime "$d" "$pkg"
  done
done
