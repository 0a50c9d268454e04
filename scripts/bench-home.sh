#!/usr/bin/env bash
# bench-home.sh: whole-process cost of commands on a home whose store holds an
# N-event 3-of-5 KEL (internal/benchkel), against `keremony verify` of the same
# KEL, each the median of RUNS runs. BIN=path measures another build (e.g. an
# older commit's); N (default 10000), RUNS (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
RUNS=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
BIN=${BIN:-}
if [ -z "$BIN" ]; then
  BIN="$work/keremony"
  go build -o "$BIN" .
fi
go run ./internal/benchkel/cmd/benchkel "$N" "$work/kel.cesr"
export KEREMONY_HOME="$work/home" KEREMONY_KEYSTORE=file KEREMONY_PASSPHRASE=bench
t0=$(date +%s.%N)
"$BIN" kel import "$work/kel.cesr" --group bench >/dev/null
t1=$(date +%s.%N)
import_s=$(echo "$t1 - $t0" | bc)

# median wall seconds of RUNS runs of a command
median() {
  local times=()
  for _ in $(seq "$RUNS"); do
    local a b
    a=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    b=$(date +%s.%N)
    times+=("$(echo "$b - $a" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

verify=$(median "$BIN" verify "$work/kel.cesr")
printf 'home with a %d-event KEL; median of %d runs, whole process\n' "$N" "$RUNS"
printf '%-22s %8.3f s\n' "verify" "$verify"
printf '%-22s %8.3f s  %.2fx verify (once)\n' "kel import" "$import_s" "$(echo "$import_s / $verify" | bc -l)"
for cmd in "kel list" "group list" "status"; do
  t=$(median "$BIN" $cmd)
  printf '%-22s %8.3f s  %.3fx verify\n' "$cmd" "$t" "$(echo "$t / $verify" | bc -l)"
done
