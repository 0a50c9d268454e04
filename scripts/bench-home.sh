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

# A 1-of-1 ceremony on another group (incept, sign, finalize: three processes).
"$BIN" member new alice >/dev/null 2>&1
i=0
ceremony() {
  i=$((i + 1))
  "$BIN" group incept --group "solo$i" --member alice --out "$work/solo$i.proposal" &&
    "$BIN" sign "$work/solo$i.proposal" --member alice --yes &&
    "$BIN" finalize "solo$i" --out "$work/solo$i.cesr"
}
t=$(median ceremony)
printf '%-22s %8.3f s  %.3fx verify\n' "1-of-1 ceremony" "$t" "$(echo "$t / $verify" | bc -l)"
[ -s "$work/solo1.cesr" ] || echo "warning: the 1-of-1 ceremony did not finalize" >&2

# Peak resident memory of verify (GNU time; skipped without it).
if [ -x /usr/bin/time ]; then
  kb=$(/usr/bin/time -v "$BIN" verify "$work/kel.cesr" 2>&1 >/dev/null | awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}')
  printf '%-22s %8.1f MiB\n' "verify peak RSS" "$(echo "$kb / 1024" | bc -l)"
fi
