#!/bin/sh
# e2e-recovery.sh: a recovery drill through the TUI. Three homes (alice, bob,
# carol) hold the 2-of-3 group acme, set up with the command line: inception
# and two interactions signed by alice and bob. Then, through the real binary
# in a private tmux server at 80x24 under NO_COLOR (one shared drop folder):
# every member contributes its pre-rotated next key, carol opens the rotation
# wizard, makes it a recovery with R, proposes, reviews (the review lists the
# superseded interactions) and signs; alice signs from her inbox; carol
# finalizes; the KEL reaches alice and bob, whose group page shows the
# superseded events. Assertions read the screens; every wait polls for text.
#
# E2E_DIR=dir keeps the homes, the drop folder and the final screens there.
set -eu
cd "$(dirname "$0")/.."
command -v tmux >/dev/null || { echo "e2e-recovery: tmux is required (apt-get install tmux)" >&2; exit 1; }

DIR=${E2E_DIR:-$(mktemp -d)}
mkdir -p "$DIR/drop" "$DIR/wire"
BIN="$DIR/keremony"
go build -o "$BIN" .

export TERM=${TERM:-xterm-256color}
SOCK=keremony-e2e-recovery-$$
. ./scripts/tmux-lib.sh
trap 'status=$?; [ $status -eq 0 ] || tm_dump >&2; tm_cleanup; [ -n "${E2E_DIR:-}" ] || rm -rf "$DIR"; exit $status' EXIT INT TERM

step() { printf 'e2e-recovery: %s\n' "$*"; }
W=$DIR/wire
k() { h=$1; shift; KEREMONY_KEYSTORE=file KEREMONY_PASSPHRASE=e2e-passphrase "$BIN" "$@" --home "$DIR/$h" >>"$DIR/setup.log" 2>&1; }

step "set-up through the command line: acme (2 of 3) and two interactions"
k alice member new alice
k bob member new bob
k carol member new carol
k bob member card bob --out "$W/bob.card"
k carol member card carol --out "$W/carol.card"
k alice group incept --group acme --member alice --card "$W/bob.card" --card "$W/carol.card" --kt 2 --nt 2 --out "$W/icp.proposal"
k alice sign "$W/icp.proposal" --member alice --yes
k bob sign "$W/icp.proposal" --member bob --out "$W/icp.bob.sig" --yes
k alice collect acme "$W/icp.bob.sig"
k alice finalize acme --out "$W/icp.cesr"
for i in 1 2; do
  echo "minutes $i" >"$W/doc$i.txt"
  k alice anchor --group acme --seal-file "$W/doc$i.txt" --out "$W/ixn$i.proposal"
  k alice sign "$W/ixn$i.proposal" --member alice --yes
  k bob sign "$W/ixn$i.proposal" --member bob --out "$W/ixn$i.bob.sig" --yes
  k alice collect acme "$W/ixn$i.bob.sig"
  k alice finalize acme --out "$W/ixn$i.cesr"
done
k alice kel export acme --out "$W/acme.cesr"
k bob kel import "$W/acme.cesr" --group acme
k carol kel import "$W/acme.cesr" --group acme

for n in alice bob carol; do
  tm_start "$n" 80 24 "NO_COLOR=1 KEREMONY_PASSPHRASE=e2e-passphrase KEREMONY_KEYSTORE=file $BIN --home $DIR/$n --drop $DIR/drop"
done

# home_group NAME: put the home screen's cursor on the group acme.
home_group() {
  i=0
  while ! tm_screen "$1" | grep -Eq '^> acme '; do
    [ $i -lt 12 ] || { echo "e2e-recovery: no acme row on $1's home" >&2; exit 1; }
    tm_keys "$1" Down; sleep 0.1; i=$((i + 1))
  done
}

# page_until NAME REGEX: page down a long screen until it shows REGEX.
page_until() {
  i=0
  while ! tm_screen "$1" | grep -Eq -- "$2"; do
    [ $i -lt 8 ] || { echo "e2e-recovery: $1 never showed /$2/" >&2; tm_dump >&2; exit 1; }
    tm_keys "$1" PageDown; sleep 0.2; i=$((i + 1))
  done
}

step "every member contributes its pre-rotated next key (t on the group, d drops it)"
for n in alice bob carol; do
  tm_wait "$n" 'acme +E'
  home_group "$n"
  tm_keys "$n" Enter; tm_wait "$n" 'the latest 2 events are interactions: r, then R'
  # The share screen's title, not "rotation contribution of": that is also
  # the notice of another member's contribution arriving.
  tm_keys "$n" t; tm_wait "$n" 'keremony · Share'
  tm_keys "$n" d; tm_wait "$n" 'put in the drop folder'
  tm_keys "$n" Escape; tm_wait "$n" 'Group acme'
  tm_keys "$n" Escape; tm_wait "$n" 'Groups'
done

step "carol opens the rotation wizard and makes it a recovery (R)"
tm_wait carol 'contribution +alice'
tm_wait carol 'contribution +bob'
home_group carol
tm_keys carol r; tm_wait carol 'Rotate acme'
tm_wait carol 'R makes this a RECOVERY rotation'
tm_keys carol R; tm_wait carol 'RECOVERY at sn 1: supersedes ixn sn 1 .*, ixn sn 2'
tm_keys carol Enter; tm_wait carol 'Signing threshold'
tm_keys carol Enter Enter Enter; tm_wait carol 'RECOVERY rotation of acme at sn 1'
tm_keys carol p; tm_wait carol 'rotation of acme · sn 1'
tm_wait carol 'signatures: 0 signed, 2 needed'

step "carol's review says what the recovery supersedes; she signs"
tm_keys carol s; tm_wait carol 'Read the six words'
WORDS=$(tm_screen carol | sed -n 's/.*words 1 \([a-z]*\) .*/\1/p')
[ -n "$WORDS" ] || { echo "e2e-recovery: no fingerprint words on carol's review" >&2; exit 1; }
page_until carol 'this rotation takes sn 1 and supersedes 2 events'
tm_keys carol s; tm_wait carol 'Sign this event'
tm_keys carol y; tm_wait carol 'signatures: 1 signed, 2 needed'

step "alice finds the recovery in her inbox, reads the same words and what it supersedes, signs"
tm_wait alice 'proposal from carol: enter to review'
tm_keys alice Enter; tm_wait alice 'Read the six words'
tm_wait alice "words 1 $WORDS "
page_until alice 'this rotation takes sn 1 and supersedes 2 events'
tm_keys alice s; tm_wait alice 'Sign this event'
tm_keys alice y; tm_wait alice 'signed as alice'

step "carol finalizes; the recovery reaches alice and bob"
tm_wait carol 'threshold met'
tm_keys carol f; tm_wait carol 'finalized'
for n in alice bob; do
  tm_keys "$n" Escape
  tm_wait "$n" 'acme +E[A-Za-z0-9_-]+… +sn 1 '
done
home_group bob
tm_keys bob Enter; tm_wait bob 'Superseded by a recovery'
tm_wait bob 'SUPERSEDED by rot sn 1 .*: ixn sn 1 .*, ixn sn 2'
tm_screen bob >"$DIR/bob-group.screen"

step "the dropped KEL verifies, the superseded events marked"
kel=$(ls -t "$DIR"/drop/kel-acme-*.cesr | head -1)
"$BIN" verify "$kel" | tee "$DIR/verify.txt" | tail -1
grep -q 'all 4 events valid (2 superseded by a recovery rotation)' "$DIR/verify.txt"

for n in alice bob carol; do tm_screen "$n" > "$DIR/$n.screen"; tm_keys "$n" q; done
step "ok"
