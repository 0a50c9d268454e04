#!/usr/bin/env bash
# interop-keripy.sh: keripy 1.3.6, the reference KERI implementation, checks every kind of KEL
# keremony writes, and keremony checks KELs keripy wrote.
#
#   1. KELs made by the keremony binary through its ceremonies (file keystore, one home per
#      scenario): the demo (2-of-2 growing to 2-of-3, anchors), a weighted group, a partial
#      rotation with a reserve member, a rotation that drops a member, a recovery rotation, a
#      delegated inception and rotation (and a delegated recovery) with the delegator's KEL.
#      Each is replayed by keripy's own verifier (../shared/keripy/verify.py) and by
#      keremony verify.
#   2. The recovery and delegation rule cases of kel (go test ./kel -run TestRuleCases): keripy
#      must give the verdict each case records for it (scripts/keripy-cases.py).
#   3. KELs keripy wrote (../shared/keripy/keripy-delegation-kel.py, testdata/keripy,
#      testdata/vectors/group-2of3): keremony verify must accept them.
#
# Prints the table of verdicts; exit 1 on any disagreement. Needs ../shared/keripy (beside the
# repository): without it, says so and exits 0. Runs ../shared/keripy/setup.sh first (Debian
# packages through apt-get, a venv; idempotent). KERIPY_DIR=dir uses another oracle,
# INTEROP_KERIPY_DIR=dir keeps the files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
oracle=${KERIPY_DIR:-$root/../shared/keripy}
if [ ! -x "$oracle/verify.py" ]; then
  echo "interop-keripy: skipped: no keripy oracle at $oracle (../shared/keripy beside the repository)"
  exit 0
fi
oracle=$(cd "$oracle" && pwd)
if [ -n "${INTEROP_KERIPY_DIR:-}" ]; then
  mkdir -p "$INTEROP_KERIPY_DIR"; dir=$(cd "$INTEROP_KERIPY_DIR" && pwd)
  rm -rf "${dir:?}"/*
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/keremony-keripy.XXXXXX"); trap 'rm -rf "$dir"' EXIT
fi
echo "interop-keripy: setting up keripy ($oracle/setup.sh)"
"$oracle/setup.sh" >"$dir/setup.log" 2>&1 || { cat "$dir/setup.log"; echo "interop-keripy: keripy setup failed" >&2; exit 1; }
tail -1 "$dir/setup.log"

bin=$dir/keremony
(cd "$root" && go build -o "$bin" .)
export KEREMONY_KEYSTORE=file KEREMONY_PASSPHRASE="interop passphrase, not for real keys"
unset KEREMONY_HOME KEREMONY_DROP
kels=$dir/kels
mkdir -p "$kels"
log=$dir/ceremonies.log

# k HOME ARGS...: keremony on a home of its own, its output in the log.
k() { local h=$1; shift; echo "[$h]\$ keremony $*" >>"$log"; "$bin" "$@" --home "$dir/home-$h" >>"$log" 2>&1 || { tail -20 "$log"; echo "interop-keripy: 'keremony $*' failed on home $h" >&2; exit 1; }; }
# said FILE: the SAID of the event a proposal file proposes.
said() { python3 -c 'import json,sys; print(json.loads(json.load(open(sys.argv[1]))["proposal"]["event"])["d"])' "$1"; }
# sign_all HOME PROPOSAL MEMBER...: every member of the home signs.
sign_all() { local h=$1 p=$2; shift 2; for m in "$@"; do k "$h" sign "$p" --member "$m" --yes; done; }
# group HOME ALIAS KT NT MEMBER...: the members of one home incept a group.
group() {
  local h=$1 g=$2 kt=$3 nt=$4; shift 4
  local args=()
  for m in "$@"; do k "$h" member new "$m"; args+=(--member "$m"); done
  k "$h" group incept --group "$g" "${args[@]}" --kt "$kt" --nt "$nt" --out "$dir/$h-$g-icp.proposal"
  sign_all "$h" "$dir/$h-$g-icp.proposal" "$@"
  k "$h" finalize "$g"
}
# anchor HOME GROUP TEXT MEMBER...: the group anchors the digest of a text.
n_anchor=0
anchor() {
  local h=$1 g=$2 text=$3; shift 3
  n_anchor=$((n_anchor + 1))
  printf '%s\n' "$text" >"$dir/doc$n_anchor.txt"
  k "$h" anchor --group "$g" --seal-file "$dir/doc$n_anchor.txt" --out "$dir/anchor$n_anchor.proposal"
  sign_all "$h" "$dir/anchor$n_anchor.proposal" "$@"
  k "$h" finalize "$g"
}
# rotate HOME GROUP "PROPOSE FLAGS" MEMBER...: every member listed contributes and signs.
n_rot=0
rotate() {
  local h=$1 g=$2 flags=$3; shift 3
  n_rot=$((n_rot + 1))
  local contribs=()
  for m in "$@"; do k "$h" rotate contribute --group "$g" --member "$m" --out "$dir/rot$n_rot.$m.contrib"; contribs+=("$dir/rot$n_rot.$m.contrib"); done
  # shellcheck disable=SC2086
  k "$h" rotate propose --group "$g" "${contribs[@]}" $flags --out "$dir/rot$n_rot.proposal"
  sign_all "$h" "$dir/rot$n_rot.proposal" "$@"
}

echo "interop-keripy: keremony's ceremonies write the KELs (log: $log)"
DEMO_DIR="$dir/demo" KEREMONY="$bin" "$root/scripts/demo.sh" >"$dir/demo.log" 2>&1 || { tail -40 "$dir/demo.log"; echo "interop-keripy: the demo failed" >&2; exit 1; }
cp "$dir/demo/group.kel.cesr" "$kels/demo-group.cesr"

# A weighted group: ["1/2","1/4","1/4"], rotated and anchoring.
group W weighted 1/2,1/4,1/4 1/2,1/4,1/4 w1 w2 w3
anchor W weighted "weighted minutes" w1 w2 w3
rotate W weighted "" w1 w2 w3
k W finalize weighted
k W kel export weighted --out "$kels/weighted.cesr"

# A partial rotation: p3 stays in reserve (its digest carried unexposed).
group P partial 2 2 p1 p2 p3
rotate P partial "--reserve p3 --kt 2 --nt 2" p1 p2
k P finalize partial
k P kel export partial --out "$kels/partial-reserve.cesr"

# A rotation that drops a member.
group D dropper 2 2 d1 d2 d3
rotate D dropper "--drop d3 --kt 2 --nt 2" d1 d2
k D finalize dropper
k D kel export dropper --out "$kels/drop-member.cesr"

# A recovery rotation superseding two interactions, and the group going on after it.
group R recovered 2 2 r1 r2 r3
anchor R recovered "signed with keys an attacker also holds" r1 r2
anchor R recovered "signed again" r1 r2
rotate R recovered "--recover" r1 r2 r3
k R finalize recovered
anchor R recovered "after the recovery" r1 r2
k R kel export recovered --out "$kels/recovery.cesr"

# Delegation: boss (1 of 1) delegates sub (2 of 2): dip, ixn, drt, then a delegated recovery
# (a drt superseding sub's latest interaction); boss anchors each with an event seal.
group X boss 1 1 b1
k X member new s1
k X member new s2
k X group incept --group sub --member s1 --member s2 --kt 2 --nt 2 --delegator boss --out "$dir/dip.proposal"
sign_all X "$dir/dip.proposal" s1 s2
sub=$(said "$dir/dip.proposal")
k X anchor --group boss --seal-event "$sub:0:$sub" --out "$dir/approve-dip.proposal"
sign_all X "$dir/approve-dip.proposal" b1
k X finalize boss
k X finalize sub
anchor X sub "sub interacts" s1 s2
rotate X sub "" s1 s2
k X anchor --group boss --seal-event "$sub:2:$(said "$dir/rot$n_rot.proposal")" --out "$dir/approve-drt.proposal"
sign_all X "$dir/approve-drt.proposal" b1
k X finalize boss
k X finalize sub
anchor X sub "sub interacts again" s1 s2
rotate X sub "--recover" s1 s2
k X anchor --group boss --seal-event "$sub:3:$(said "$dir/rot$n_rot.proposal")" --out "$dir/approve-recovery.proposal"
sign_all X "$dir/approve-recovery.proposal" b1
k X finalize boss
k X finalize sub
k X kel export boss --out "$kels/delegator.cesr"
k X kel export sub --out "$kels/delegated.cesr"

# The verdicts. events FILE...: how many events the files hold.
events() { cat "$@" | grep -o '{"v":"KERI10JSON' | wc -l; }
fails=0
table=$dir/table.txt
printf '%-44s %-7s %-22s %s\n' "KEL keremony wrote" "events" "keremony verify" "keripy 1.3.6" >"$table"
n_check=0
check_ours() {
  local name=$1; shift
  local ours theirs out
  n_check=$((n_check + 1)); out=$dir/check$n_check
  if "$bin" verify "$@" >"$out.keremony.txt" 2>&1; then ours="valid"; else ours="INVALID"; fails=$((fails + 1)); grep INVALID "$out.keremony.txt" | head -3 >&2 || true; fi
  if "$oracle/verify.py" "$@" >"$out.keripy.txt" 2>&1; then theirs=$(tail -1 "$out.keripy.txt" | sed 's/^== keripy 1.3.6 //; s/ events in .*//'); theirs="$theirs events"
  else theirs="NOT ALL ACCEPTED"; fails=$((fails + 1)); grep -E 'NOT accepted' "$out.keripy.txt" | head -3 >&2 || true; fi
  printf '%-44s %-7s %-22s %s\n' "$name" "$(events "$@")" "$ours" "$theirs" >>"$table"
}
check_ours "demo (2-of-2 -> 2-of-3, anchors)" "$kels/demo-group.cesr"
check_ours "weighted 1/2,1/4,1/4 (icp, ixn, rot)" "$kels/weighted.cesr"
check_ours "partial rotation, reserve member" "$kels/partial-reserve.cesr"
check_ours "rotation dropping a member" "$kels/drop-member.cesr"
check_ours "recovery rotation (2 ixn superseded)" "$kels/recovery.cesr"
check_ours "delegator + delegated (dip,drt,recovery)" "$kels/delegator.cesr" "$kels/delegated.cesr"
check_ours "delegated, then its delegator" "$kels/delegated.cesr" "$kels/delegator.cesr"

echo "interop-keripy: kel's recovery and delegation rule cases against keripy"
mkdir -p "$dir/cases"
(cd "$root" && KEREMONY_KERIPY_CASES="$dir/cases" go test -count=1 -run 'TestRuleCases' ./kel/ >"$dir/cases.log" 2>&1) || { cat "$dir/cases.log"; echo "interop-keripy: the rule cases failed" >&2; exit 1; }
python3 "$root/scripts/keripy-cases.py" "$oracle/verify.py" "$dir/cases" >"$dir/cases.txt" || fails=$((fails + 1))

echo "interop-keripy: KELs keripy wrote, through keremony verify"
"$oracle/keripy-delegation-kel.py" "$dir/keripy" >"$dir/keripy-written.log" 2>&1 || { cat "$dir/keripy-written.log"; exit 1; }
rtable=$dir/rtable.txt
printf '%-52s %-7s %-16s %s\n' "KEL keripy wrote" "events" "keripy 1.3.6" "keremony verify" >"$rtable"
check_theirs() {
  local name=$1; shift
  local theirs ours
  if "$oracle/verify.py" "$@" >"$dir/r.keripy.txt" 2>&1; then theirs="valid"; else theirs="INVALID"; fi
  if "$bin" verify "$@" >"$dir/r.keremony.txt" 2>&1; then ours=$(tail -1 "$dir/r.keremony.txt"); else ours="INVALID"; fails=$((fails + 1)); grep INVALID "$dir/r.keremony.txt" | head -3 >&2 || true; fi
  printf '%-52s %-7s %-16s %s\n' "$name" "$(events "$@")" "$theirs" "$ours" >>"$rtable"
}
check_theirs "test_delegation, 5 messages as sent" "$dir/keripy/delegation.plain.cesr"
check_theirs "delegator + delegate, keripy clones" "$dir/keripy/delegator.clone.cesr" "$dir/keripy/delegate.clone.cesr"
check_theirs "delegate clone, then the delegator's" "$dir/keripy/delegate.clone.cesr" "$dir/keripy/delegator.clone.cesr"
check_theirs "test_weighted_threshold KEL" "$root/testdata/keripy/keripy_test_weighted_threshold.kel.cesr"
for f in "$root"/testdata/vectors/group-2of3/*.cesr; do
  check_theirs "group-2of3/$(basename "$f")" "$f"
done

echo
cat "$table"
echo
sed 's/^/  /' "$dir/cases.txt"
echo
cat "$rtable"
echo
if [ "$fails" -ne 0 ]; then
  echo "interop-keripy: FAILED: $fails disagreements (files in $dir)" >&2
  trap - EXIT
  exit 1
fi
echo "interop-keripy: ok: keripy 1.3.6 accepts every KEL keremony wrote and agrees with the rule cases ($(tail -1 "$dir/cases.txt")); keremony accepts every KEL keripy wrote"
