#!/bin/sh
# e2e.sh: the real keremony binary, three instances in a private tmux server
# (separate homes, file keystores, one shared drop folder), completes a 2-of-3
# group inception through the TUI: members, cards, the inception wizard,
# review and sign on two devices, live progress, finalize, and the KEL reaching
# the third. Assertions read the screens; every wait polls for text.
#
# E2E_DIR=dir keeps the homes, the drop folder and the final screens there;
# E2E_SHOTS=dir saves the share and collect screens with their colours
# (tmux capture-pane -e) for scripts/screenshots.sh.
set -eu
cd "$(dirname "$0")/.."
command -v tmux >/dev/null || { echo "e2e: tmux is required (apt-get install tmux)" >&2; exit 1; }

DIR=${E2E_DIR:-$(mktemp -d)}
mkdir -p "$DIR/drop"
BIN="$DIR/keremony"
go build -o "$BIN" .

export TERM=${TERM:-xterm-256color}
SOCK=keremony-e2e-$$
. ./scripts/tmux-lib.sh
trap 'status=$?; [ $status -eq 0 ] || tm_dump >&2; tm_cleanup; [ -n "${E2E_DIR:-}" ] || rm -rf "$DIR"; exit $status' EXIT INT TERM

step() { printf 'e2e: %s\n' "$*"; }
shot() { [ -z "${E2E_SHOTS:-}" ] || { mkdir -p "$E2E_SHOTS"; tm capture-pane -p -e -t "$2" > "$E2E_SHOTS/$1.ansi"; }; }

for n in alice bob carol; do
  tm_start "$n" 80 24 "KEREMONY_PASSPHRASE=e2e-passphrase KEREMONY_KEYSTORE=file $BIN --home $DIR/$n --drop $DIR/drop"
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
tm_wait alice 'any 2 of 3'
tm_keys alice Enter Enter; tm_wait alice 'alias of this device|alias>'
tm_type alice acme
tm_keys alice Enter Enter Enter Enter Enter Enter; tm_wait alice 'p proposes'
tm_keys alice p; tm_wait alice 'signatures: 0 of 2'

step "alice reviews and signs: 1 of 2"
tm_keys alice s; tm_wait alice 'Read the six words'
WORDS=$(tm_screen alice | sed -n 's/.*words 1 \([a-z]*\) .*/\1/p')
[ -n "$WORDS" ] || { echo "e2e: no fingerprint words on alice's review" >&2; exit 1; }
tm_keys alice s; tm_wait alice 'Sign this event'
tm_keys alice y; tm_wait alice 'signatures: 1 of 2'

step "bob finds the proposal in his inbox, sees the same words, signs"
tm_wait bob 'proposal +inception of acme'
tm_keys bob Up Up Up Up Up Up Enter; tm_wait bob 'Read the six words'
tm_wait bob "words 1 $WORDS "
tm_keys bob s; tm_wait bob 'Sign this event'
tm_keys bob y; tm_wait bob 'signed as bob'

step "alice sees the threshold met the moment bob's signature lands, finalizes"
tm_wait alice 'signatures: 2 of 2'
tm_wait alice 'threshold met'
shot collect alice
tm_keys alice f; tm_wait alice 'finalized'

step "carol (who did not sign) and bob receive the group's KEL"
tm_keys carol Escape
tm_wait carol 'acme +E[A-Za-z0-9_-]+… +sn 0 +any 2 of 3'
tm_keys bob Escape
tm_wait bob 'acme +E[A-Za-z0-9_-]+… +sn 0'

step "the KEL in the drop folder verifies"
"$BIN" verify "$DIR"/drop/kel-acme-*.cesr

for n in alice bob carol; do tm_screen "$n" > "$DIR/$n.screen"; tm_keys "$n" q; done
step "ok"
