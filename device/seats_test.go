package device

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
)

// The three ways a key could serve the wrong identifier, through the TUI's
// backend and one shared drop folder: each must leave every group able to
// anchor and rotate.

// incept runs a 2-of-2 inception of alias between p (proposing with its
// local member) and o (through the card o dropped), finalized on p and
// imported by o from the drop folder; it returns the prefix.
func incept(t *testing.T, p, o *tuiDevice, alias, local, other string) string {
	t.Helper()
	id, err := p.ProposeInception(api.InceptionRequest{Alias: alias, Local: []string{local}, Cards: []ceremony.Card{cardOf(t, p, other)},
		Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)})
	if err != nil {
		t.Fatalf("%s: propose %s: %v", p.name, alias, err)
	}
	out := p.cosign(id, o)
	o.poll()
	return kel.Replay(out.Data).Prefixes[0]
}

// cardOf polls d and returns the card of label from its inbox.
func cardOf(t *testing.T, d *tuiDevice, label string) ceremony.Card {
	t.Helper()
	d.poll()
	for _, it := range inboxOf(d.snapshot(), api.InboxCard) {
		if it.Label == label {
			return it.Card
		}
	}
	t.Fatalf("%s: no card of %s in the inbox", d.name, label)
	return ceremony.Card{}
}

// rotate2 rotates a 2-of-2 group of p and o, both rotating; it returns
// the notices of both devices from the end of the ceremony.
func rotate2(t *testing.T, p, o *tuiDevice, group, local string) string {
	t.Helper()
	contrib, err := o.Contribute(group, "")
	if err != nil {
		t.Fatalf("%s: contribute to %s: %v", o.name, group, err)
	}
	if _, err := o.Drop(contrib.Name, contrib.Data); err != nil {
		t.Fatal(err)
	}
	p.poll()
	g, _ := p.snapshot().Group(group)
	var parts []ceremony.Contribution
	for _, it := range inboxOf(p.snapshot(), api.InboxContribution) {
		if it.ID == g.Prefix {
			parts = append(parts, it.Contribution)
		}
	}
	id, err := p.ProposeRotation(api.RotationRequest{Group: group, Parts: parts, Local: []string{local}})
	if err != nil {
		t.Fatalf("%s: propose the rotation of %s: %v", p.name, group, err)
	}
	p.cosign(id, o)
	return noticeTexts(p.poll()) + "\n" + noticeTexts(o.poll())
}

// anchor2 anchors a digest in a 2-of-2 group of p and o.
func anchor2(t *testing.T, p, o *tuiDevice, group string) {
	t.Helper()
	id, err := p.ProposeAnchoring(api.AnchoringRequest{Group: group, Seals: []kel.Seal{kel.DigestSeal([]byte("minutes of " + group))}})
	if err != nil {
		t.Fatalf("%s: propose an anchoring of %s: %v", p.name, group, err)
	}
	p.cosign(id, o)
	o.poll()
}

// TestSeatsOneMemberTwoGroups: alice (the member the wizard pre-selects)
// joins team1 with bob and wgroup2 with carol. Rotating wgroup2 must not
// touch the key alice signs team1 with: team1 still anchors and rotates.
func TestSeatsOneMemberTwoGroups(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	a, b, c := newTUIDevice(t, "A", drop), newTUIDevice(t, "B", drop), newTUIDevice(t, "C", drop)
	a.newMember("alice")
	b.newMember("bob")
	c.newMember("carol")
	team1 := incept(t, a, b, "team1", "alice", "bob")
	wgroup2 := incept(t, a, c, "wgroup2", "alice", "carol")

	s := a.snapshot()
	g1, _ := s.Group(team1)
	g2, _ := s.Group(wgroup2)
	for _, k := range g1.State.Keys {
		if slices.Contains(g2.State.Keys, k) {
			t.Fatalf("team1 and wgroup2 share the key %s", k)
		}
	}
	for _, n := range g1.State.Next {
		if slices.Contains(g2.State.Next, n) {
			t.Fatalf("team1 and wgroup2 share the next digest %s", n)
		}
	}

	bothGroupsMoveOn(t, a, b, c)
}

// bothGroupsMoveOn rotates and anchors team1 (alice on a, bob on b) and
// wgroup2 (alice on a, carol on c) in turn: a ceremony of one group must
// leave the keys alice signs the other with alone.
func bothGroupsMoveOn(t *testing.T, a, b, c *tuiDevice) {
	t.Helper()
	rotate2(t, a, c, "wgroup2", "alice")
	anchor2(t, a, b, "team1")
	rotate2(t, a, b, "team1", "alice")
	anchor2(t, a, b, "team1")
	anchor2(t, a, c, "wgroup2")
	rotate2(t, a, c, "wgroup2", "alice")
}

// forgeKEL builds what anyone holding a rotation contribution can build: a
// new identifier signed only by the forger whose k lists the revealed key
// and whose n lists the prepared digest.
func forgeKEL(t *testing.T, contrib []byte) []byte {
	t.Helper()
	cc, err := transport.ParseContribution(contrib)
	if err != nil {
		t.Fatal(err)
	}
	return forgeFrom(t, cc.Key, cc.Next)
}

func forgeFrom(t *testing.T, key, next string) []byte {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mine := kel.EncodeVerKey(pub)
	ev, err := kel.Incept(kel.InceptionOptions{Keys: []string{key, mine}, Kt: kel.IntThreshold(1),
		Next: []string{next, kel.NextDigest(mine)}, Nt: kel.IntThreshold(1)})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := kel.NewSiger(ed25519.Sign(priv, ev.Raw()), 1, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	msg := kel.NewMessage(ev, []kel.Siger{sig})
	if rep := kel.Replay(msg.Bytes()); !rep.OK() {
		t.Fatalf("the forged kel does not replay: %+v", rep)
	}
	return msg.Bytes()
}

// TestSeatsForgedKELInDropFolder: a KEL of an unrelated identifier, built
// from alice's public contribution and dropped in the folder the TUI
// watches, changes no key: team1's rotation still completes with alice's
// prepared keys, and team1 anchors afterwards.
func TestSeatsForgedKELInDropFolder(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	a, b := newTUIDevice(t, "A", drop), newTUIDevice(t, "B", drop)
	a.newMember("alice")
	b.newMember("bob")
	team1 := incept(t, a, b, "team1", "alice", "bob")

	contrib, err := a.Contribute("team1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Drop(contrib.Name, contrib.Data); err != nil {
		t.Fatal(err)
	}
	before := a.snapshot().Members
	forged := forgeKEL(t, contrib.Data)
	if err := os.WriteFile(filepath.Join(drop, "kel-forged.cesr"), forged, 0o644); err != nil {
		t.Fatal(err)
	}
	ns := noticeTexts(a.poll())
	if strings.Contains(ns, "rotation committed") || strings.Contains(ns, "accepted") {
		t.Fatalf("the forged kel was taken in:\n%s", ns)
	}
	s := a.snapshot()
	if len(s.Groups) != 1 || s.Groups[0].Prefix != team1 {
		t.Fatalf("A's groups after the forged kel: %+v", s.Groups)
	}
	if fmt.Sprint(s.Members) != fmt.Sprint(before) {
		t.Fatalf("the forged kel changed alice:\n%+v\n%+v", before, s.Members)
	}
	// Taken in on purpose, it still changes no key.
	if _, err := a.Receive("kel-forged.cesr", forged); err != nil {
		t.Fatal(err)
	}
	if after := a.snapshot().Members; fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("the forged kel, received on purpose, changed alice:\n%+v\n%+v", before, after)
	}
	ns = rotate2(t, a, b, "team1", "alice")
	mustContain(t, "notices", ns, "alice", "rotation committed")
	anchor2(t, a, b, "team1")
	rotate2(t, a, b, "team1", "alice")
}

// TestSeatsConcurrentMembers: the TUI's device and seven command-line
// processes (keys-only devices on the same home) create members at the
// same moment: each either succeeds with its keys in the keystore or
// fails as busy; none reports success while losing a key.
func TestSeatsConcurrentMembers(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	home := t.TempDir()
	pass := func(bool) ([]byte, error) { return []byte("test passphrase"), nil }
	tuiDev, err := Open(Options{Home: home, Keystore: "file", Drop: drop, Passphrase: pass, KDF: testKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer tuiDev.Close()
	if err := tuiDev.NewMember("first"); err != nil {
		t.Fatal(err)
	}
	const n = 8
	devs := []*Device{tuiDev}
	for range n - 1 {
		d, err := Open(Options{Home: home, Keystore: "file", Passphrase: pass, KDF: testKDF, KeysOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		devs = append(devs, d)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, d := range devs {
		wg.Go(func() { errs[i] = d.NewMember(fmt.Sprintf("m%d", i)) })
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrBusy):
			t.Errorf("m%d: %v, want success or busy", i, err)
		}
	}
	chk, err := tuiDev.CheckMembers()
	if err != nil {
		t.Fatal(err)
	}
	ready := 0
	for _, r := range chk.Seats {
		if r.Ready {
			ready++
		} else {
			t.Errorf("%s: %v", r.Name, r.Err)
		}
	}
	if ready != ok+1 {
		t.Errorf("%d members ready, want %d (first and the %d that succeeded)", ready, ok+1, ok)
	}
	t.Logf("%d of %d concurrent member creations succeeded, %d members ready", ok, n, ready)
}
