#!/usr/bin/env bash
# test-witness.sh: keremony against two real keripy 1.3.6 witnesses (../shared/keripy-witness),
# on free loopback ports. Devices exchange only files (and, in the TUI part, a drop folder):
#
#   1. a 2-of-3 group (alice, bob, carol on devices A, B, C) is incepted with witnesses wan and
#      wil by OOBI (toad 2); wil is stopped, so publishing names it with the reason and exits 1
#      holding wan's receipt; wil restarts and publishing completes;
#   2. an anchoring (ixn), then a rotation that cuts wil (toad 1) and one that adds it back
#      (toad 2; wil is caught up on the events it missed), each published;
#   3. the exported KEL, receipts attached, is checked by keripy's own verifier
#      (../shared/keripy/verify.py), and without its receipts keripy does not accept it;
#   4. a late joiner (device D) rebuilds the group's state with kel fetch from each witness;
#   5. the TUI: three instances in a private tmux server incept a 2-of-3 group with both
#      witnesses through the wizard and publish it from the collect screen (p).
#
# Without ../shared it says so and exits 0. WITNESS_DIR=dir keeps the homes, the witnesses'
# traces (every HTTP request and answer) and the KELs there. Needs tmux for part 5.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared}
W=$shared/keripy-witness
V=$shared/keripy
if [ ! -x "$W/start-witness.sh" ] || [ ! -x "$V/verify.py" ]; then
  echo "test-witness: $W or $V not found: skipped"
  exit 0
fi
start=$(date +%s)

if [ -n "${WITNESS_DIR:-}" ]; then
  mkdir -p "$WITNESS_DIR"
  dir=$(cd "$WITNESS_DIR" && pwd)
  rm -rf "${dir:?}"/{A,B,C,D,tui,wire,wan-state,wil-state} "$dir"/*.txt "$dir"/*.log
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/keremony-witness.XXXXXX")
fi
mkdir -p "$dir/wire"
wire=$dir/wire
bin=$dir/keremony
(cd "$root" && go build -o "$bin" .)

"$W/setup.sh" | tail -1
"$V/setup.sh" | tail -1

step() { printf '\n=== %s\n' "$*"; }
fail() { echo "test-witness: FAILED: $*" >&2; exit 1; }
has() { grep -qE -- "$2" "$1" || { cat "$1" >&2; fail "/$2/ not in $1"; }; }

# --- the witnesses -----------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
declare -A port pid
port[wan]=$(free_port)
port[wil]=$(free_port)
salt() { [ "$1" = wan ] && echo wann-the-witness || echo will-the-witness; }

# start_witness NAME: start it (state kept across restarts) and wait for READY.
start_witness() {
  local n=$1 log
  log=$dir/$n.$(date +%s%N).log
  mkdir -p "$dir/$n-state"
  WITNESS_NAME=$n WITNESS_SALT=$(salt "$n") WITNESS_STATE=$dir/$n-state WITNESS_TRACE=$dir/$n-trace.txt \
    "$W/start-witness.sh" "${port[$n]}" > "$log" 2>&1 &
  pid[$n]=$!
  for _ in $(seq 1 300); do
    grep -q READY "$log" && break
    kill -0 "${pid[$n]}" 2>/dev/null || { cat "$log" >&2; fail "witness $n exited"; }
    sleep 0.1
  done
  grep READY "$log" || { cat "$log" >&2; fail "witness $n is not ready after 30 s"; }
}
stop_witness() {
  local n=$1
  [ -n "${pid[$n]:-}" ] || return 0
  kill -TERM "${pid[$n]}" 2>/dev/null || true
  wait "${pid[$n]}" 2>/dev/null || true
  pid[$n]=
}
SOCK=keremony-witness-$$
cleanup() {
  status=$?
  stop_witness wan
  stop_witness wil
  command -v tmux >/dev/null && tmux -L "$SOCK" kill-server 2>/dev/null || true
  [ -n "${WITNESS_DIR:-}" ] || [ $status -ne 0 ] || rm -rf "$dir"
  [ $status -eq 0 ] || echo "test-witness: files kept in $dir" >&2
  exit $status
}
trap cleanup EXIT INT TERM

step "two real keripy witnesses on loopback"
start_witness wan
start_witness wil
WAN=BBilc4-L3tFUnfM_wJr4S4OJanAv_VmF_dJNN6vkf2Ha
WIL=BLskRTInXnMxWaGqcpSyMgo0nYbalW99cGZESrz3zapM
url() { echo "http://127.0.0.1:${port[$1]}"; }
WAN_OOBI="$(url wan)/oobi/$WAN/controller?name=wan"
WIL_OOBI="$(url wil)/oobi/$WIL/controller?name=wil"

# --- devices -------------------------------------------------------------------------------------
export KEREMONY_KEYSTORE=file KEREMONY_PASSPHRASE="witness test passphrase, not for real keys"
unset KEREMONY_HOME KEREMONY_DROP
# dev NAME ARGS...: run keremony on device NAME's home, showing the command and its output; the
# output is also in $dir/out.txt.
dev() {
  local d=$1; shift
  echo "$d\$ keremony $*"
  local rc=0
  "$bin" "$@" --home "$dir/$d" > "$dir/out.txt" 2>&1 || rc=$?
  sed 's/^/    /' "$dir/out.txt"
  { echo "$d\$ keremony $*"; sed 's/^/    /' "$dir/out.txt"; } >> "$dir/transcript.txt"
  return $rc
}
expect_fail() {
  local rc=0
  "$@" || rc=$?
  [ "$rc" -eq 1 ] || fail "expected exit status 1 from '$*', got $rc"
  echo "    (exit status 1, as expected)"
}

step "1. a 2-of-3 group named with two witnesses (toad 2)"
dev A member new alice
dev B member new bob
dev C member new carol
dev B member card bob --out "$wire/bob.card"
dev C member card carol --out "$wire/carol.card"
dev A group incept --group team --member alice --card "$wire/bob.card" --card "$wire/carol.card" \
  --kt 2 --nt 2 --witness "$WAN_OOBI" --witness "$WIL_OOBI" --out "$wire/icp.proposal"
has "$dir/out.txt" 'witnesses wan, wil \(toad 2 of 2\)'
dev B review "$wire/icp.proposal"
has "$dir/out.txt" "witnesses: +$WAN, $WIL: 2 of 2 must receipt every event \(toad 2\)"
dev A sign "$wire/icp.proposal" --yes --member alice
dev B sign "$wire/icp.proposal" --yes --member bob --out "$wire/icp.bob.sig"
dev A collect team "$wire/icp.bob.sig"
dev A finalize team --out "$wire/icp.cesr"
dev B kel import "$wire/icp.cesr"

step "   wil is down: publishing names it with the reason, keeps wan's receipt, exits 1"
stop_witness wil
expect_fail dev A publish team
has "$dir/out.txt" '^  wan +received$'
has "$dir/out.txt" '^  wil +failed: witness did not answer: POST http://127.0.0.1:[0-9]+/receipts: .*(refused|reset).*\(4 tries\)$'
has "$dir/out.txt" 'witnessed: 1 of 2 receipts \(toad 2\): wan ✓, wil waiting'
dev A status team
has "$dir/out.txt" '^witnessed: 1 of 2 receipts \(toad 2\): wan ✓, wil waiting$'

step "   wil is back: publishing completes; the receipts go to B as a file"
start_witness wil
dev A publish team --out "$wire/receipts0.cesr"
has "$dir/out.txt" '^  wan +held$'
has "$dir/out.txt" '^  wil +received$'
has "$dir/out.txt" 'witnessed: 2 of 2 receipts \(toad 2\): wan ✓, wil ✓'
dev B kel import "$wire/receipts0.cesr"
has "$dir/out.txt" '^2 new witness receipts kept$'

step "2. an anchoring, then a rotation that cuts wil (toad 1) and one that adds it back (toad 2)"
printf 'minutes of the meeting\n' > "$wire/minutes.txt"
dev A anchor --group team --seal-file "$wire/minutes.txt" --out "$wire/ixn.proposal"
dev A sign "$wire/ixn.proposal" --yes --member alice
dev B sign "$wire/ixn.proposal" --yes --member bob --out "$wire/ixn.bob.sig"
dev A collect team "$wire/ixn.bob.sig"
dev A finalize team --out "$wire/ixn.cesr"
dev B kel import "$wire/ixn.cesr"
dev A publish team --out "$wire/receipts1.cesr"
has "$dir/out.txt" '^sn 1 ixn '
has "$dir/out.txt" 'witnessed: 2 of 2 receipts \(toad 2\): wan ✓, wil ✓'
dev B kel import "$wire/receipts1.cesr"

# rotate NAME ARGS...: alice and bob rotate, carol stays in reserve.
rotate() {
  local n=$1; shift
  dev A rotate contribute --group team --member alice --out "$wire/$n.alice.contrib"
  dev B rotate contribute --group team --member bob --out "$wire/$n.bob.contrib"
  dev A rotate propose --group team "$wire/$n.alice.contrib" "$wire/$n.bob.contrib" --reserve carol "$@" --out "$wire/$n.proposal"
  cp "$dir/out.txt" "$dir/propose.txt"
  dev B review "$wire/$n.proposal"
  dev A sign "$wire/$n.proposal" --yes --member alice
  cp "$dir/out.txt" "$dir/review.txt" # A's review, naming the witnesses it resolved
  dev B sign "$wire/$n.proposal" --yes --member bob --out "$wire/$n.bob.sig"
  dev A collect team "$wire/$n.bob.sig"
  dev A finalize team --out "$wire/$n.cesr"
  dev B kel import "$wire/$n.cesr"
}
rotate cut --witness-cut wil --toad 1
has "$dir/propose.txt" 'witnesses wan, wil \(toad 2 of 2\) -> wan \(toad 1 of 1\)'
has "$dir/review.txt" "warning: witnesses change: cuts wil \(BLskRTInXnMx…\), toad 2 → 1; then 1 of 1 must receipt every event"
dev A publish team --out "$wire/receipts2.cesr"
has "$dir/out.txt" '^sn 2 rot '
has "$dir/out.txt" 'witnessed: 1 of 1 receipts \(toad 1\): wan ✓'
dev B kel import "$wire/receipts2.cesr"
rotate add --witness-add "$WIL_OOBI" --toad 2
has "$dir/propose.txt" 'witnesses wan \(toad 1 of 1\) -> wan, wil \(toad 2 of 2\)'
has "$dir/review.txt" "warning: witnesses change: adds wil \(BLskRTInXnMx…\), toad 1 → 2; then 2 of 2 must receipt every event"
dev A publish team --out "$wire/receipts3.cesr"
has "$dir/out.txt" '^sn 3 rot '
has "$dir/out.txt" 'witnessed: 2 of 2 receipts \(toad 2\): wan ✓, wil ✓'
has "$dir/out.txt" '^every published event holds its toad of receipts$'
dev B kel import "$wire/receipts3.cesr"

step "3. keripy's verifier accepts the exported KEL with its receipts, and not without them"
dev A kel export team --out "$dir/team.kel.cesr"
"$bin" verify "$dir/team.kel.cesr" | tail -1
"$V/verify.py" "$dir/team.kel.cesr" | tee "$dir/verify.txt" | sed 's/^/    /'
has "$dir/verify.txt" 'keripy 1.3.6 accepted 4 of 4 events'
dev B kel export team --out "$dir/team.B.kel.cesr"
cmp "$dir/team.kel.cesr" "$dir/team.B.kel.cesr" || fail "B's KEL differs from A's"
# The same events without their receipts (as finalize wrote them): keremony says not fully
# witnessed, keripy keeps them in escrow.
cat "$wire/icp.cesr" "$wire/ixn.cesr" "$wire/cut.cesr" "$wire/add.cesr" > "$dir/bare.kel.cesr"
expect_fail "$bin" verify "$dir/bare.kel.cesr"
"$bin" verify --ignore-witnesses "$dir/bare.kel.cesr" | tail -1
rc=0; "$V/verify.py" --quiet "$dir/bare.kel.cesr" > "$dir/verify-bare.txt" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "keripy accepted the KEL without its receipts (exit $rc)"
has "$dir/verify-bare.txt" 'keripy 1.3.6 accepted 0 of 4 events'
echo "    keripy without the receipts: $(tail -1 "$dir/verify-bare.txt")"

step "4. a late joiner rebuilds the group's state from each witness"
PRE=$(sed -n 's/^team  *\(E[A-Za-z0-9_-]*\) .*/\1/p' <("$bin" kel list --home "$dir/A"))
[ -n "$PRE" ] || fail "no prefix of team"
dev D kel fetch "$(url wan)/oobi/$PRE/witness/$WAN?name=wan" --group team
has "$dir/out.txt" "^fetched the kel of team \($PRE\) from http://127.0.0.1:${port[wan]}/oobi/"
has "$dir/out.txt" 'sn 3 witnessed: 2 of 2 receipts \(toad 2\): wan ✓'
dev D kel export team --out "$dir/team.D.kel.cesr"
cmp "$dir/team.kel.cesr" "$dir/team.D.kel.cesr" || fail "the late joiner's KEL differs"
dev C kel fetch "$(url wil)/oobi/$PRE/witness/$WIL?name=wil" --group team
has "$dir/out.txt" "^team \($PRE\) sn 3 rot E[A-Za-z0-9_-]+: accepted$"
dev C kel export team --out "$dir/team.C.kel.cesr"
cmp "$dir/team.kel.cesr" "$dir/team.C.kel.cesr" || fail "C's KEL differs"
"$V/verify.py" --quiet "$dir/team.C.kel.cesr" | tail -1

step "5. the TUI: a 2-of-3 group with both witnesses, published from the collect screen"
if ! command -v tmux >/dev/null; then
  fail "tmux is required for the TUI part (apt-get install tmux)"
fi
export TERM=${TERM:-xterm-256color}
. "$root/scripts/tmux-lib.sh"
tui=$dir/tui
mkdir -p "$tui/drop"
for n in alice bob carol; do
  tm_start "$n" 80 24 "KEREMONY_PASSPHRASE=tui-passphrase KEREMONY_KEYSTORE=file NO_COLOR=1 $bin --home $tui/$n --drop $tui/drop"
done
for n in alice bob carol; do
  tm_wait "$n" 'Welcome to keremony'
  tm_keys "$n" m; tm_wait "$n" 'Create a member'
  tm_type "$n" "$n"; tm_keys "$n" Enter
done
for n in alice bob carol; do
  tm_wait "$n" "created member $n"
  tm_keys "$n" c; tm_wait "$n" 'frame [0-9]+/'
  tm_keys "$n" d; tm_wait "$n" 'put in the drop folder'
  tm_keys "$n" Escape; tm_wait "$n" 'Members of this device'
done
tm_wait alice 'card +bob'
tm_wait alice 'card +carol'
tm_keys alice g; tm_wait alice 'Choose the members of the new group'
tm_keys alice Down Space Down Space; tm_wait alice '3 chosen'
tm_keys alice Enter; tm_wait alice 'any 2 of 3'
tm_keys alice Enter Enter; tm_wait alice 'alias>'
tm_type alice tuiteam
tm_keys alice Enter Enter Enter Enter; tm_wait alice 'witnesses>'
tm_type alice "$WAN_OOBI $WIL_OOBI"
tm_keys alice Enter; tm_wait alice 'toad>'
tm_keys alice Enter; tm_wait alice 'witnesses 2, resolved when proposed; toad: a majority'
tm_keys alice p; tm_wait alice 'signatures: 0 signed, 2 needed'
tm_keys alice s; tm_wait alice 'Read the six words'
tm_keys alice s; tm_wait alice 'Sign this event'
tm_keys alice y; tm_wait alice 'signatures: 1 signed, 2 needed'
tm_wait bob 'proposal +inception of tuiteam'
tm_keys bob Up Up Up Up Up Up Enter; tm_wait bob 'Read the six words'
tm_keys bob s; tm_wait bob 'Sign this event'
tm_keys bob y; tm_wait bob 'signed as bob'
tm_wait alice 'threshold met'
tm_keys alice f; tm_wait alice 'press p to publish to the witnesses'
tm_wait alice 'witnessed: 0 of 2 receipts \(toad 2\): wan waiting, wil waiting'
tm_keys alice p; tm_wait alice 'witnessed: 2 of 2 receipts \(toad 2\): wan ✓, wil ✓ +\[#+\] ✓ met' 60
tm_screen alice | sed 's/^/    alice| /'
# The receipts reach bob and carol through the drop folder.
tm_wait bob '2 new witness receipts kept' 60
tm_wait carol '2 new witness receipts kept' 60
for n in alice bob carol; do
  for _ in 1 2 3; do
    tm_screen "$n" | grep -q 'Members of this device' && break
    tm_keys "$n" Escape; sleep 0.3
  done
  tm_wait "$n" 'Members of this device'
  tm_keys "$n" q
done
for n in alice bob carol; do
  for _ in $(seq 1 100); do [ "$(tm list-panes -t "$n" -F '#{pane_dead}' 2>/dev/null)" = 1 ] && break; sleep 0.1; done
done
TUIPRE=$("$bin" kel list --home "$tui/alice" | sed -n 's/^tuiteam  *\(E[A-Za-z0-9_-]*\) .*/\1/p')
"$bin" status tuiteam --home "$tui/bob" | tee "$dir/out.txt" | grep witnessed | sed 's/^/    bob: /'
# (bob never resolved the witnesses' OOBIs, so it names them by prefix)
has "$dir/out.txt" '^witnessed: 2 of 2 receipts \(toad 2\): BBilc4-L3tFU… ✓, BLskRTInXnMx… ✓$'
"$bin" kel export tuiteam --home "$tui/carol" --out "$dir/tuiteam.kel.cesr"
"$V/verify.py" "$dir/tuiteam.kel.cesr" | tail -1 | tee "$dir/verify-tui.txt"
has "$dir/verify-tui.txt" 'keripy 1.3.6 accepted 1 of 1 events'
[ -n "$TUIPRE" ] || fail "no prefix of tuiteam"

step "what the witnesses saw (key lines of their traces; whole traces in ${WITNESS_DIR:-the test directory})"
for n in wan wil; do
  echo "--- $n ($(url $n)): requests by route and status"
  awk '/^>>> /{split($3,a,"?"); r=$2" "a[1]} /^<<< /{sub(/^<<< /,""); print r" -> "$0}' "$dir/$n-trace.txt" |
    sed -E 's#/oobi/E[A-Za-z0-9_-]{43}/#/oobi/AID/#; s#/oobi/B[A-Za-z0-9_-]{43}/#/oobi/WIT/#' | sort | uniq -c | sed 's/^/    /'
done
echo "--- wil: the catch-up and the receipt of the rotation that added it back (sn 3)"
awk '/^>>> /{r=$0} /^<<< /{sub(/^<<< /,""); print r" -> "$0}' "$dir/wil-trace.txt" | sed 's/^>>> /    /' | head -13 | tail -9
echo "--- keremony publish while wil was down, and once it was back"
grep -A7 'A\$ keremony publish team$' "$dir/transcript.txt" | head -8 | sed 's/^/  /'
grep -A7 'A\$ keremony publish team --out .*receipts0.cesr' "$dir/transcript.txt" | head -8 | sed 's/^/  /'
echo "--- the receipt wan returned for the inception"
grep -m1 -A1 '^<<< 200' <(sed -n '/^>>> POST \/receipts/,/^$/p' "$dir/wan-trace.txt") | tail -1 | cut -c1-300 | sed 's/^/    /'

echo
echo "test-witness: ok ($(( $(date +%s) - start )) s)"
