#!/bin/sh
# e2e.sh: the real keremony binary, three instances in a private tmux server
# (separate homes, file keystores, one shared drop folder), runs every kind of
# ceremony through the TUI:
#   1. a 2-of-3 group inception: members, cards, the inception wizard, review
#      and sign on two devices, live progress, finalize, the KEL reaching the
#      third;
#   2. a rotation that drops carol: bob contributes, alice proposes, both
#      review (the review says carol is dropped) and sign, the devices commit
#      their rotations, and bob's old card turns stale in alice's inbox;
#   3. an anchoring of a document's digest: the proposal carries the file's
#      name and size, bob opens his copy of the document on the review, sees
#      the seal checked, and signs.
# Assertions read the screens; every wait polls for text. The drop folder
# ends with the group's KEL (icp, rot, ixn), which keremony verify replays.
#
# E2E_DIR=dir keeps the homes, the drop folder (with the final KEL, also
# copied to dir/acme.kel.cesr) and the last screens there; E2E_SHOTS=dir saves the share, collect and review
# screens with their colours (tmux capture-pane -e) for scripts/screenshots.sh.
set -eu
cd "$(dirname "$0")/.."
command -v tmux >/dev/null || { echo "e2e: tmux is required (apt-get install tmux)" >&2; exit 1; }

DIR=${E2E_DIR:-$(mktemp -d)}
mkdir -p "$DIR/drop" "$DIR/docs"
BIN="$DIR/keremony"
go build -o "$BIN" .

export TERM=${TERM:-xterm-256color}
SOCK=keremony-e2e-$$
. ./scripts/tmux-lib.sh
trap 'status=$?; [ $status -eq 0 ] || tm_dump >&2; tm_cleanup; [ -n "${E2E_DIR:-}" ] || rm -rf "$DIR"; exit $status' EXIT INT TERM

step() { printf 'e2e: %s\n' "$*"; }
shot() { [ -z "${E2E_SHOTS:-}" ] || { mkdir -p "$E2E_SHOTS"; tm capture-pane -p -e -t "$2" > "$E2E_SHOTS/$1.ansi"; }; }
fail() { echo "e2e: $*" >&2; exit 1; }
# pick NAME REGEX: on a list, move the cursor (> ) to the first row matching
# REGEX, from the top.
pick() {
  i=0; while [ $i -lt 25 ]; do tm_keys "$1" Up; i=$((i + 1)); done
  i=0
  while ! tm_screen "$1" | grep -Eq -- "^> $2"; do
    [ $i -lt 25 ] || fail "screen $1 has no row /$2/"
    tm_keys "$1" Down; i=$((i + 1)); sleep 0.05
  done
}

# carol's terminal has no colours (NO_COLOR): her screens must read the same.
run_cmd() {
  env=""; [ "$1" != carol ] || env="NO_COLOR=1 "
  echo "${env}KEREMONY_PASSPHRASE=e2e-passphrase KEREMONY_KEYSTORE=file $BIN --home $DIR/$1 --drop $DIR/drop"
}
for n in alice bob carol; do
  tm_start "$n" 80 24 "$(run_cmd "$n")"
done

step "first run: each device creates its member and drops its card"
for n in alice bob carol; do
  tm_wait "$n" 'Welcome to keremony'
  tm_keys "$n" m; tm_wait "$n" 'Create a member'
  tm_type "$n" "$n"; tm_keys "$n" Enter
done
for n in alice bob carol; do
  tm_wait "$n" "created member $n"
  tm_keys "$n" c; tm_wait "$n" 'frame [0-9]+/'
  [ "$n" != alice ] || shot share alice
  tm_keys "$n" d; tm_wait "$n" 'put in the drop folder'
  tm_keys "$n" Escape; tm_wait "$n" 'Members of this device'
done

step "alice proposes a 2-of-3 group from the two cards in her inbox"
tm_wait alice 'card +bob'
tm_wait alice 'card +carol'
tm_keys alice g; tm_wait alice 'Choose the members of the new group'
tm_keys alice Down Space Down Space; tm_wait alice '3 chosen'
tm_keys alice Enter; tm_wait alice 'Signing threshold'
tm_wait alice '› kt> 2'
tm_wait alice 'any 2 of 3'
tm_keys alice Enter Enter; tm_wait alice 'alias> e.g. acme'
tm_type alice acme
tm_keys alice Enter Enter Enter Enter Enter Enter; tm_wait alice 'p proposes'
tm_keys alice p; tm_wait alice 'signatures: 0 signed, 2 needed'

step "alice reviews and signs: 1 of 2"
tm_keys alice s; tm_wait alice 'Read the six words'
WORDS=$(tm_screen alice | sed -n 's/.*words 1 \([a-z]*\) .*/\1/p')
[ -n "$WORDS" ] || fail "no fingerprint words on alice's review"
tm_wait alice 'alice +k\[0\] +D.*from this device \(you\)'
tm_keys alice s; tm_wait alice 'Sign this event'
tm_keys alice y; tm_wait alice 'signatures: 1 signed, 2 needed'

step "bob's device puts the proposal first, with the cursor on it; he sees the same words and signs"
tm_wait bob 'proposal from alice: enter to review'
tm_wait bob '^> proposal +inception of acme'
tm_keys bob Enter; tm_wait bob 'Read the six words'
tm_wait bob "words 1 $WORDS "
tm_wait bob 'alice +k\[0\] +D.*from a card in the inbox'
tm_keys bob s; tm_wait bob 'Sign this event'
tm_keys bob y; tm_wait bob 'signed as bob'

step "alice sees the threshold met the moment bob's signature lands, finalizes"
tm_wait alice 'signatures: 2 signed, 2 needed'
tm_wait alice 'threshold met'
shot collect alice
tm_keys alice f; tm_wait alice 'finalized'

step "carol (who did not sign) and bob receive the group's KEL"
tm_keys carol Escape
tm_wait carol 'acme +E[A-Za-z0-9_-]+… +sn 0 +any 2 of 3'
tm_keys bob Escape
tm_wait bob 'acme +E[A-Za-z0-9_-]+… +sn 0'
tm_wait bob 'inception +acme sn 0 +✓ finalized'

step "rotation: bob contributes; alice drops carol and proposes 2 of 2"
pick bob acme
tm_keys bob t; tm_wait bob 'rotation contribution of bob'
tm_keys bob d; tm_wait bob 'put in the drop folder'
tm_keys bob Escape; tm_wait bob 'Members of this device'
tm_keys alice Escape; tm_wait alice 'Members of this device'
tm_wait alice 'contribution +bob'
pick alice acme
tm_keys alice r; tm_wait alice 'n\[[0-9]\] +bob +\[rotate\] +contribution'
tm_wait alice 'n\[[0-9]\] +carol +\[reserve\]'
pick alice 'n\[[0-9]\] +carol'
tm_keys alice Space; tm_wait alice 'n\[[0-9]\] +carol +\[drop\]'
tm_keys alice Enter; tm_wait alice 'Signing threshold'
tm_wait alice 'signing 2 of 3 → 2 of 2'
tm_keys alice Enter Enter Enter; tm_wait alice 'Rotation of acme to sn 1'
tm_keys alice p; tm_wait alice 'rotation of acme · sn 1'
tm_wait alice 'prior next keys: 0 revealed, 2 needed'

step "bob reviews the rotation: carol is dropped; both sign, alice finalizes"
tm_wait bob 'proposal from alice: enter to review'
tm_keys bob Enter; tm_wait bob 'rotation of acme · sn 1'
tm_keys bob PageDown PageDown; tm_wait bob 'carol is dropped'
tm_keys bob s; tm_wait bob 'Sign this event'
tm_keys bob y; tm_wait bob 'signed as bob'
tm_keys alice s; tm_wait alice 'Read the six words'
tm_keys alice s; tm_wait alice 'Sign this event'
tm_keys alice y; tm_wait alice 'threshold met'
tm_wait alice 'prior next keys: 2 revealed, 2 needed'
tm_wait alice 'codes: A = signed with both lists'
tm_keys alice f; tm_wait alice 'finalized'
tm_keys bob Escape
tm_wait bob 'rotation +acme sn 1 +✓ finalized'
tm_wait carol 'acme +E[A-Za-z0-9_-]+… +sn 1'

step "bob's old card no longer works: alice's inbox marks it stale and sinks it"
tm_keys alice Escape; tm_wait alice 'Members of this device'
tm_wait alice 'card +bob +⚠ stale'

step "bob quits and starts again: nothing is lost, and his card from before the rotation is not in his inbox"
tm_keys bob q; sleep 0.5
tm respawn-pane -k -t bob "$(run_cmd bob)"
tm_wait bob 'rotation +acme sn 1 +✓ finalized'
tm_wait bob 'card +alice +⚠ stale'
if tm_screen bob | grep -Eq '^. card +bob '; then fail "bob's inbox holds his own card"; fi

step "anchoring: alice anchors the minutes' digest; bob checks his copy on the review"
printf 'Minutes of the board meeting, 2026-11-20.\nResolved: rotate the keys.\n' > "$DIR/docs/minutes.txt"
cp "$DIR/docs/minutes.txt" "$DIR/docs/bob-minutes.txt"
pick alice acme
tm_keys alice a; tm_wait alice 'AID +>'
i=0; while ! tm_screen alice | grep -q '› file >'; do
  [ $i -lt 6 ] || fail "the anchoring wizard has no file field"; tm_keys alice Tab; i=$((i + 1)); sleep 0.1
done
tm_type alice "$DIR/docs/minutes.txt"; tm_keys alice Enter
tm_wait alice 'document minutes.txt'
tm_keys alice Tab Enter; tm_wait alice 'p proposes'
tm_keys alice p; tm_wait alice 'anchoring of acme · sn 2'
tm_wait bob 'proposal from alice: enter to review'
tm_keys bob Enter; tm_wait bob 'anchoring of acme · sn 2'
tm_keys bob PageDown; tm_wait bob 'proposer says: minutes.txt, [0-9]+ bytes'
tm_wait bob 'not checked on this device'
tm_keys bob o; tm_wait bob 'document>'
tm_type bob "$DIR/docs/bob-minutes.txt"; tm_keys bob Enter
tm_wait bob 'bob-minutes.txt \([0-9]+ bytes\) matches a digest seal'
tm_wait bob 'checked on this device'
shot review bob
tm_keys bob s; tm_wait bob 'Sign this event'
if tm_screen bob | grep -q 'unchecked'; then fail "bob's confirmation still warns of an unchecked seal"; fi
tm_keys bob y; tm_wait bob 'signed as bob'
tm_keys alice s; tm_wait alice 'Read the six words'
tm_keys alice s; tm_wait alice 'Sign this event'
tm_wait alice 'unchecked: the digest seal'
tm_keys alice y; tm_wait alice 'threshold met'
tm_keys alice f; tm_wait alice 'finalized'
tm_keys carol Escape
tm_wait carol 'acme +E[A-Za-z0-9_-]+… +sn 2'

step "the KEL in the drop folder holds icp, rot and ixn, and verifies"
KEL=$(ls "$DIR"/drop/kel-acme-*-sn2.cesr)
cp "$KEL" "$DIR/acme.kel.cesr"
"$BIN" verify "$KEL" | tee "$DIR/verify.txt"
for ilk in icp rot ixn; do
  grep -Eq " $ilk .* ok" "$DIR/verify.txt" || fail "the final KEL has no valid $ilk"
done
grep -q 'all 3 events valid' "$DIR/verify.txt" || fail "the final KEL does not verify"

for n in alice bob carol; do tm_screen "$n" > "$DIR/$n.screen"; tm_keys "$n" q; done
step "ok"
