#!/usr/bin/env bash
# concurrent-members.sh: N processes run `keremony member new` on one home at
# the same moment (the file keystore with its real Argon2id cost), then
# `keremony member check` says which members have their keys. Every process
# must either succeed with its member's keys in the keystore or fail as busy;
# none may report success while losing a key. BIN=path measures another build
# (e.g. an older commit's); N (default 16), ROUNDS (default 3); a home that
# already has a keystore (WARM=1, the default) or a fresh one (WARM=0, the
# processes race to create the file).
set -uo pipefail
cd "$(dirname "$0")/.."
N=${N:-16}
ROUNDS=${ROUNDS:-3}
WARM=${WARM:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
BIN=${BIN:-}
if [ -z "$BIN" ]; then
  BIN="$work/keremony"
  go build -o "$BIN" .
fi
export KEREMONY_KEYSTORE=file KEREMONY_PASSPHRASE=concurrency
fail=0
for round in $(seq "$ROUNDS"); do
  home="$work/home$round"
  if [ "$WARM" = 1 ]; then
    "$BIN" member new first --home "$home" >/dev/null
  fi
  t0=$(date +%s.%N)
  for i in $(seq "$N"); do
    ( "$BIN" member new "m$i" --home "$home" >"$work/out$i" 2>&1; echo $? >"$work/rc$i" ) &
  done
  wait
  t1=$(date +%s.%N)
  ok=0 busy=0 other=0
  for i in $(seq "$N"); do
    rc=$(cat "$work/rc$i")
    if [ "$rc" = 0 ]; then ok=$((ok + 1))
    elif grep -q 'busy' "$work/out$i"; then busy=$((busy + 1))
    else other=$((other + 1)); sed 's/^/  other failure: /' "$work/out$i"
    fi
  done
  "$BIN" member check --home "$home" >"$work/check" 2>&1
  ready=$(grep -c -E '^m[0-9]+.*: ready' "$work/check" || true)
  lost=$(grep -c -E '^m[0-9]+.*NOT READY' "$work/check" || true)
  printf 'round %d: %d processes in %.2f s: %d exit 0, %d busy, %d other; member check: %d of the new members ready, %d without their keys\n' \
    "$round" "$N" "$(echo "$t1 - $t0" | bc)" "$ok" "$busy" "$other" "$ready" "$lost"
  if [ "$ready" != "$ok" ] || [ "$lost" != 0 ] || [ "$other" != 0 ]; then fail=1; fi
done
if [ "$fail" != 0 ]; then
  echo "concurrent-members: FAILED: a process reported success while losing a key, or failed other than busy"
  exit 1
fi
echo "concurrent-members: ok"
