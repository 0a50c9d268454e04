#!/bin/sh
# fuzz.sh [DURATION]: run every Fuzz target of every package for DURATION (default 10s).
# New interesting inputs land in the Go cache; a crasher is written to the package's
# testdata/fuzz/ and fails the run. When a run ends with the fuzzing engine's own
# "context deadline exceeded" (fuzztime ran out while a worker was busy) and no failing
# input was written, that is the engine, not a finding: the target is run once more.
set -eu
d=${1:-10s}
log=$(mktemp); trap 'rm -f "$log"' EXIT
for pkg in $(go list ./...); do
  for f in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    for try in 1 2; do
      echo "fuzz: $pkg $f ($d)"
      if go test -run '^$' -fuzz "^$f\$" -fuzztime "$d" "$pkg" >"$log" 2>&1; then
        cat "$log"; break
      fi
      cat "$log"
      if [ "$try" = 1 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
        echo "fuzz: $f stopped on the engine's deadline without a finding; running it once more"
        continue
      fi
      exit 1
    done
  done
done
