#!/usr/bin/env bash
# demo.sh: three simulated devices (A, B and C, each its own --home) run keremony's ceremonies,
# exchanging nothing but files:
#
#   1. A and B incept a 2-of-2 group, "team";
#   2. C incepts its own 1-of-1 identifier, and team anchors C's inception (an ixn event seal);
#   3. a rotation signed by one device only cannot be finalized (status: thresholds not met) and
#      is aborted;
#   4. team grows into 2-of-3: C's member joins through the next commitment (same rotation,
#      proposed again), then a second rotation makes its key current (signed by B and C);
#   5. an anchoring signed by 2 of the 3;
#   6. keremony verify replays the exported group KEL.
#
# Usage: scripts/demo.sh (make demo). DEMO_DIR=dir keeps every file there (emptied first) and
# leaves the group's KEL at dir/group.kel.cesr; otherwise a temporary directory is removed.
# KEREMONY=path uses that binary instead of building one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s%N)

if [ -n "${DEMO_DIR:-}" ]; then
  mkdir -p "$DEMO_DIR"
  dir=$(cd "$DEMO_DIR" && pwd)
  rm -rf "${dir:?}/A" "${dir:?}/B" "${dir:?}/C" "${dir:?}/wire" "$dir/group.kel.cesr"
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/keremony-demo.XXXXXX")
  trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir/wire"
w=$dir/wire # everything the devices exchange

if [ -n "${KEREMONY:-}" ]; then
  bin=$KEREMONY
else
  bin=$dir/keremony
  (cd "$root" && go build -o "$bin" .)
fi

# The file keystore with a passphrase from the environment: no keyring, no prompts.
export KEREMONY_KEYSTORE=file KEREMONY_PASSPHRASE="demo passphrase, not for real keys"
unset KEREMONY_HOME

A() { echo "A\$ keremony $*"; "$bin" "$@" --home "$dir/A" 2>&1 | sed 's/^/    /'; return "${PIPESTATUS[0]}"; }
B() { echo "B\$ keremony $*"; "$bin" "$@" --home "$dir/B" 2>&1 | sed 's/^/    /'; return "${PIPESTATUS[0]}"; }
C() { echo "C\$ keremony $*"; "$bin" "$@" --home "$dir/C" 2>&1 | sed 's/^/    /'; return "${PIPESTATUS[0]}"; }
K() { echo "\$ keremony $*"; "$bin" "$@" 2>&1 | sed 's/^/    /'; return "${PIPESTATUS[0]}"; }
step() { printf '\n=== %s\n' "$*"; }
fail() { echo "demo: FAILED: $*" >&2; exit 1; }
# expect_fail CMD...: the command must exit 1.
expect_fail() {
  local rc=0
  "$@" || rc=$?
  [ "$rc" -eq 1 ] || fail "expected exit status 1 from '$*', got $rc"
  echo "    (exit status 1, as expected)"
}
# has FILE TEXT: FILE must contain TEXT.
has() { grep -qF -- "$2" "$1" || fail "'$2' not in $1"; }

step "Setup: one member per device (C has two: carol for the group, carol-solo for its own identifier)"
A member new alice
B member new bob
C member new carol
C member new carol-solo
A member card alice --out "$w/alice.card"
B member card bob --out "$w/bob.card"
C member card carol --out "$w/carol.card"

step "1. A and B incept the 2-of-2 group 'team'"
A group incept --group team --member alice --card "$w/bob.card" --kt 2 --nt 2 --out "$w/icp.proposal"
A sign "$w/icp.proposal" --yes --member alice
B review "$w/icp.proposal"
B sign "$w/icp.proposal" --yes --member bob --out "$w/icp.bob.sig"
A collect team "$w/icp.bob.sig"
A finalize team --out "$w/icp.cesr"
B kel import "$w/icp.cesr"

step "2. C incepts its own 1-of-1 identifier; team anchors C's inception with an event seal"
C group incept --group carol-aid --member carol-solo --kt 1 --out "$w/c-icp.proposal"
C sign "$w/c-icp.proposal" --yes --member carol-solo
C finalize carol-aid --out "$w/c-icp.cesr"
C kel export carol-aid --out "$w/c.kel.cesr"
A kel import "$w/c.kel.cesr" --group carol-aid
A anchor --group team --seal-event carol-aid --out "$w/anchor1.proposal"
A sign "$w/anchor1.proposal" --yes --member alice
B review "$w/anchor1.proposal" | tee "$w/anchor1.review"
has "$w/anchor1.review" "seal (checked):  anchors event 0 of"
B sign "$w/anchor1.proposal" --yes --member bob --out "$w/anchor1.bob.sig"
A collect team "$w/anchor1.bob.sig"
A finalize team --out "$w/anchor1.cesr"
B kel import "$w/anchor1.cesr"
A kel export team --out "$w/team-sn1.kel.cesr"
echo "verify links them: C's KEL, then the group's"
K verify "$w/c.kel.cesr" "$w/team-sn1.kel.cesr"
A kel show carol-aid | tee "$w/carol-aid.show"
has "$w/carol-aid.show" "anchored by team"

step "3. A rotation signed by one device cannot be finalized"
A rotate contribute --group team --member alice --out "$w/alice.contrib"
B rotate contribute --group team --member bob --out "$w/bob.contrib"
A rotate propose --group team "$w/alice.contrib" "$w/bob.contrib" --add-next "$w/carol.card" --kt 2 --nt 2 --out "$w/rot1.proposal"
A sign "$w/rot1.proposal" --yes --member alice
A status team | tee "$w/rot1.status"
has "$w/rot1.status" 'signing threshold kt "2"'
has "$w/rot1.status" "1 signed, 2 needed (alice): not met"
has "$w/rot1.status" "1 revealed, 2 needed (alice): not met"
expect_fail A finalize team --out "$w/rot1.cesr"
[ ! -e "$w/rot1.cesr" ] || fail "a refused finalize wrote $w/rot1.cesr"
A abort team --reason "bob is away" --out "$w/rot1.abort"
B abort --record "$w/rot1.abort"

step "4. team grows into 2-of-3: carol joins through the next commitment, then becomes current"
echo "The same rotation is proposed again: the same event, so alice's journal lets her sign it again."
A rotate propose --group team "$w/alice.contrib" "$w/bob.contrib" --add-next "$w/carol.card" --kt 2 --nt 2 --out "$w/rot1b.proposal"
C review "$w/rot1b.proposal" --member carol | tee "$w/rot1b.carol.review"
has "$w/rot1b.carol.review" "your next digest is committed"
A sign "$w/rot1b.proposal" --yes --member alice
B sign "$w/rot1b.proposal" --yes --member bob --out "$w/rot1b.bob.sig"
A collect team "$w/rot1b.bob.sig"
A finalize team --out "$w/rot1b.cesr"
B kel import "$w/rot1b.cesr"
A kel export team --out "$w/team-sn2.kel.cesr"
C kel import "$w/team-sn2.kel.cesr" --group team
echo "rot2: all three contribute; bob and carol sign (2 of 3 meet the prior next threshold), alice is away"
A rotate contribute --group team --member alice --out "$w/alice2.contrib"
B rotate contribute --group team --member bob --out "$w/bob2.contrib"
C rotate contribute --group team --member carol --out "$w/carol.contrib"
B rotate propose --group team "$w/alice2.contrib" "$w/bob2.contrib" "$w/carol.contrib" --kt 2 --nt 2 --out "$w/rot2.proposal"
B sign "$w/rot2.proposal" --yes --member bob
C sign "$w/rot2.proposal" --yes --member carol --out "$w/rot2.carol.sig"
B collect "$w/rot2.proposal" "$w/rot2.carol.sig" | tee "$w/rot2.status"
has "$w/rot2.status" "ready: keremony finalize"
B finalize team --out "$w/rot2.cesr"
A kel import "$w/rot2.cesr"
C kel import "$w/rot2.cesr"
C member list

step "5. An anchoring signed by 2 of the 3 (carol and alice)"
echo "Minutes of the meeting that welcomed carol." > "$w/minutes.txt"
C anchor --group team --seal-file "$w/minutes.txt" --out "$w/anchor2.proposal"
C sign "$w/anchor2.proposal" --yes --member carol
A review "$w/anchor2.proposal" --doc "$w/minutes.txt" | tee "$w/anchor2.review"
has "$w/anchor2.review" 'seal (checked):  commits to data with digest'
A sign "$w/anchor2.proposal" --yes --member alice --doc "$w/minutes.txt" --out "$w/anchor2.alice.sig"
C collect team "$w/anchor2.alice.sig"
C finalize team --out "$w/anchor2.cesr"
A kel import "$w/anchor2.cesr"
B kel import "$w/anchor2.cesr"
B status

step "6. The group's KEL, exported by B and replayed by keremony verify"
B kel export team --out "$dir/group.kel.cesr"
B kel list
K verify "$dir/group.kel.cesr" | tee "$w/verify.txt"
has "$w/verify.txt" "all 5 events valid"
for d in A B C; do
  "$bin" kel export team --home "$dir/$d" | cmp -s - "$dir/group.kel.cesr" || fail "device $d holds another KEL"
done
echo "A, B and C hold the same KEL."

ms=$((($(date +%s%N) - start) / 1000000))
printf '\ndemo: ok in %d.%d s; group KEL: %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$dir/group.kel.cesr"
