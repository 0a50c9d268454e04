#!/usr/bin/env bash
# bench-home.sh: whole-process cost of commands on a home whose store holds an
# N-event 3-of-5 KEL (internal/benchkel), against `keremony verify` of the same
# KEL, each the median of RUNS runs. BIN=path measures another build (e.g. an
# older commit's); N (default 10000), RUNS (default 5); BENCH_KEYRING=0 skips
# the figures with the OS keyring.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
RUNS=${RUNS:-5}

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

# A 1-of-1 ceremony on another group (incept, sign, finalize: three
# processes), on the home and on an empty one. With the file keystore each of
# the two signing processes unlocks it (argon2id, 64 MiB: a cost of the
# keystore, not of the history); with the OS keyring there is none.
ceremony() { # the files go to $KEREMONY_HOME.out/
  local d="$KEREMONY_HOME.out" n
  mkdir -p "$d"
  n=$(($(find "$d" -name '*.proposal' | wc -l) + 1))
  "$BIN" group incept --group "solo$n" --member alice --out "$d/solo$n.proposal" &&
    "$BIN" sign "$d/solo$n.proposal" --member alice --yes &&
    "$BIN" finalize "solo$n" --out "$d/solo$n.cesr"
}
ceremonies() { # label
  local t home
  for home in "$KEREMONY_HOME" "$KEREMONY_HOME-empty"; do
    KEREMONY_HOME="$home" "$BIN" member new alice >/dev/null 2>&1
    t=$(KEREMONY_HOME="$home" median ceremony)
    if [ "$home" = "$KEREMONY_HOME" ]; then
      printf '%-24s %8.3f s  %.3fx verify\n' "1-of-1 ceremony ($1)" "$t" "$(echo "$t / $verify" | bc -l)"
    else
      printf '%-24s %8.3f s  (the same on an empty home)\n' "" "$t"
    fi
    [ "$(find "$home.out" -name '*.cesr' -size +0 | wc -l)" = "$RUNS" ] || echo "warning: a 1-of-1 ceremony did not finalize in $home" >&2
  done
}

if [ -n "${KEREMONY_BENCH_INNER:-}" ]; then
  # This script again, inside a private session bus with an unlocked
  # gnome-keyring (scripts/ci-keyring.sh): the ceremonies only.
  read -r work verify <<<"$KEREMONY_BENCH_INNER"
  "$BIN" kel import "$work/kel.cesr" --group bench >/dev/null
  ceremonies keyring
  exit 0
fi

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

verify=$(median "$BIN" verify "$work/kel.cesr")
printf 'home with a %d-event KEL; median of %d runs, whole process\n' "$N" "$RUNS"
printf '%-24s %8.3f s\n' "verify" "$verify"
printf '%-24s %8.3f s  %.2fx verify (once)\n' "kel import" "$import_s" "$(echo "$import_s / $verify" | bc -l)"
for cmd in "kel list" "group list" "status"; do
  t=$(median "$BIN" $cmd)
  printf '%-24s %8.3f s  %.3fx verify\n' "$cmd" "$t" "$(echo "$t / $verify" | bc -l)"
done

ceremonies file
if [ "${BENCH_KEYRING:-1}" = 1 ]; then
  if KEREMONY_HOME="$work/home-keyring" KEREMONY_KEYSTORE=keyring KEREMONY_BENCH_INNER="$work $verify" BIN="$BIN" \
    ./scripts/ci-keyring.sh "$0" 2>"$work/keyring.err"; then :; else
    echo "(OS keyring figures skipped: $(tail -1 "$work/keyring.err"))"
  fi
fi

# Peak resident memory of verify, the median of RUNS runs (GNU time; skipped without it).
if [ -x /usr/bin/time ]; then
  kb=$(for _ in $(seq "$RUNS"); do
    /usr/bin/time -v "$BIN" verify "$work/kel.cesr" 2>&1 >/dev/null | awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}'
  done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-24s %8.1f MiB\n' "verify peak RSS" "$(echo "$kb / 1024" | bc -l)"
fi
