package device

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
	"github.com/keremony/keremony/transport"
)

// reopen closes a test device and opens its home again (a restart).
func (d *tuiDevice) reopen(drop string) {
	d.t.Helper()
	home := d.dev.Home()
	d.dev.Close()
	pass := func(bool) ([]byte, error) { return []byte("test passphrase"), nil }
	dev, err := Open(Options{Home: home, Keystore: "file", Drop: drop, Passphrase: pass, KDF: testKDF})
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { dev.Close() })
	d.dev, d.Backend = dev, dev.Backend()
}

// writeRecordV1 rewrites member alias's record as keremony wrote it before
// seats: its first seat's keys in a version 1 record.
func writeRecordV1(t *testing.T, home, alias string) {
	t.Helper()
	path := filepath.Join(home, "members", alias+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v2 struct {
		Seats []struct {
			Current, Next map[string]string
		} `json:"seats"`
		Created string `json:"created"`
	}
	if err := json.Unmarshal(data, &v2); err != nil {
		t.Fatal(err)
	}
	v1, _ := json.Marshal(map[string]any{"v": 1, "alias": alias, "current": v2.Seats[0].Current, "next": v2.Seats[0].Next, "created": v2.Created})
	if err := os.WriteFile(path, v1, 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkText is a device's member check, in words.
func checkText(t *testing.T, d *tuiDevice) (string, bool) {
	t.Helper()
	r, err := d.Check()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(r.Lines, "\n"), r.Ready
}

// inceptWithLegacyPair incepts the 2-of-2 group wgroup2 of alice on a,
// with the keys of her version 1 seat legacy (as an earlier keremony did:
// the same pair in two groups), and carol on c; it returns its prefix.
func inceptWithLegacyPair(t *testing.T, a, c *tuiDevice, legacy keystore.Seat) string {
	t.Helper()
	p, err := a.dev.ProposeInception(Inception{Alias: "wgroup2", From: "alice", Kt: ptr(kel.IntThreshold(2)), Nt: ptr(kel.IntThreshold(2)),
		Members: []ceremony.Card{{Label: "alice", Key: kel.EncodeVerKey(legacy.PublicKey), Next: legacy.NextDigest}, cardOf(t, a, "carol")}})
	if err != nil {
		t.Fatal(err)
	}
	a.cosign(p.Ceremony.ID(), c)
	c.poll()
	return p.Ceremony.Event().Prefix()
}

// TestSeatsLegacyHomeMigrated: a home made before seats, whose member
// alice sits in team1 and wgroup2 with one key pair, is settled when it
// opens: a seat per group sharing the keys, none destroyed while a group
// lists it, member check explains it, and both groups go on anchoring and
// rotating until their keys are separate.
func TestSeatsLegacyHomeMigrated(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	a, b, c := newTUIDevice(t, "A", drop), newTUIDevice(t, "B", drop), newTUIDevice(t, "C", drop)
	a.newMember("alice")
	b.newMember("bob")
	c.newMember("carol")
	team1 := incept(t, a, b, "team1", "alice", "bob")

	// Before seats, alice joined wgroup2 with the same keys.
	writeRecordV1(t, a.dev.Home(), "alice")
	m, _ := a.dev.Member("alice")
	legacy := m.Seats[0]
	if !legacy.Legacy || legacy.Group != "" {
		t.Fatalf("version 1 seat %+v", legacy)
	}
	wgroup2 := inceptWithLegacyPair(t, a, c, legacy)

	// Opening the home settles alice's seat: one per group, sharing keys.
	a.reopen(drop)
	m, _ = a.dev.Member("alice")
	if len(m.Seats) != 2 || m.Seats[0].Group != team1 || m.Seats[1].Group != wgroup2 || m.Seats[0].Legacy ||
		!m.Seats[1].PublicKey.Equal(legacy.PublicKey) || len(m.Seats[1].SharesWith) != 1 {
		t.Fatalf("settled seats %+v", m.Seats)
	}
	text, ready := checkText(t, a)
	mustContain(t, "member check", text, "alice in team1: ready", "alice in wgroup2: ready", "shares keys with alice in wgroup2", "shares keys with alice in team1")
	if !ready {
		t.Fatalf("member check not ready:\n%s", text)
	}

	bothGroupsMoveOn(t, a, b, c)
	rotate2(t, a, b, "team1", "alice")
	text, ready = checkText(t, a)
	if !ready || strings.Contains(text, "shares keys") {
		t.Fatalf("after the groups rotated, member check:\n%s", text)
	}
	m, _ = a.dev.Member("alice")
	if m.Seats[0].PublicKey.Equal(m.Seats[1].PublicKey) || m.Seats[0].NextDigest == m.Seats[1].NextDigest {
		t.Fatalf("the seats still share keys: %+v", m.Seats)
	}
}

func ptr[T any](v T) *T { return &v }

// TestSeatsReviewSaysWhatItDoes: the review tells each member what a
// rotation does to it (rotate, reserve, removed), and a member dropped by
// a rotation hears it on its own device when the KEL arrives.
func TestSeatsReviewSaysWhatItDoes(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	a, b, c := newTUIDevice(t, "A", drop), newTUIDevice(t, "B", drop), newTUIDevice(t, "C", drop)
	a.newMember("alice")
	b.newMember("bob")
	c.newMember("carol")
	a.poll()
	var cards []ceremony.Card
	for _, it := range inboxOf(a.snapshot(), api.InboxCard) {
		cards = append(cards, it.Card)
	}
	id, err := a.ProposeInception(api.InceptionRequest{Alias: "team", Local: []string{"alice"}, Cards: cards, Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2),
		Order: []string{"alice", "bob", "carol"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*tuiDevice{b, c} {
		d.poll()
		rev, err := d.Review(id)
		if err != nil || !strings.Contains(rev.Effect, "this inception makes") || !strings.Contains(rev.Effect, "signer of team") {
			t.Fatalf("%s: review of the inception: %+v %v", d.name, rev.Effect, err)
		}
		if _, err := d.Sign(id); err != nil {
			t.Fatal(err)
		}
	}
	a.poll()
	if _, err := a.Finalize(id); err != nil {
		t.Fatal(err)
	}
	b.poll()
	c.poll()

	rotation := func(role ceremony.Role) string {
		t.Helper()
		contrib, err := b.Contribute("team", "")
		if err != nil {
			t.Fatal(err)
		}
		b.Drop(contrib.Name, contrib.Data)
		a.poll()
		g, _ := a.snapshot().Group("team")
		parts := []ceremony.Contribution{{Label: "carol", Role: role, Prior: g.State.Next[2]}}
		for _, it := range inboxOf(a.snapshot(), api.InboxContribution) {
			parts = append(parts, it.Contribution)
		}
		rid, err := a.ProposeRotation(api.RotationRequest{Group: "team", Parts: parts, Local: []string{"alice"}, Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Sign(rid); err != nil {
			t.Fatal(err)
		}
		b.poll()
		if rev, err := b.Review(rid); err != nil || !strings.HasPrefix(rev.Effect, "you rotate: the key you reveal becomes k[1] of team") {
			t.Fatalf("bob's review: %q %v", rev.Effect, err)
		}
		if _, err := b.Sign(rid); err != nil {
			t.Fatal(err)
		}
		mustContain(t, "C's notices", noticeTexts(c.poll()), "proposal", "in the inbox")
		rev, err := c.Review(rid)
		if err != nil || rev.CanSign || rev.Member != "carol" {
			t.Fatalf("carol's review: %+v %v", rev, err)
		}
		a.poll()
		if _, err := a.Finalize(rid); err != nil {
			t.Fatal(err)
		}
		b.poll()
		return rev.Effect
	}
	if e := rotation(ceremony.RoleReserve); !strings.HasPrefix(e, "you stay in reserve") {
		t.Fatalf("carol in reserve is told %q", e)
	}
	if ns := noticeTexts(c.poll()); strings.Contains(ns, "no longer a signer") {
		t.Fatalf("a reserve rotation told carol she left:\n%s", ns)
	}
	if e := rotation(ceremony.RoleDrop); e != "this rotation removes you from team: after it, team lists neither your key nor your next digest" {
		t.Fatalf("dropped carol is told %q", e)
	}
	mustContain(t, "C's notices", noticeTexts(c.poll()), "carol is no longer a signer of team")
	text, ready := checkText(t, c)
	mustContain(t, "C's member check", text, "carol in team: ready (no longer a signer")
	if !ready {
		t.Fatalf("C's check:\n%s", text)
	}
	g, _ := c.snapshot().Group("team")
	if len(g.Seats) != 1 || !strings.Contains(g.Seats[0].Role, "no longer a signer") {
		t.Fatalf("C's group page seats: %+v", g.Seats)
	}
}

// TestSeatsCards: a card is for a new group: a member's seat in no group
// yet (the same one until it joins), a fresh seat per group named with
// --for, and one for a member that sits in groups already.
func TestSeatsCards(t *testing.T) {
	d := newTUIDevice(t, "A", "")
	if err := d.NewMember("alice"); err != nil {
		t.Fatal(err)
	}
	card := func(forGroup string) (transport.Card, Seat, string) {
		t.Helper()
		c, ks, note, err := d.dev.CardPacket("alice", forGroup)
		if err != nil {
			t.Fatal(err)
		}
		return c, ks, note
	}
	c1, s1, note := card("")
	c2, s2, _ := card("")
	if c1.Key != c2.Key || s1.N != 1 || note != "" {
		t.Fatalf("two cards without a group: %+v %+v (%q)", s1, s2, note)
	}
	cx, sx, note := card("x")
	if cx.Key != c1.Key || sx.For != "x" || note != "" {
		t.Fatalf("a card for x took %+v (%q), want the free seat 1 marked for x", sx, note)
	}
	cy, sy, note := card("y")
	if cy.Key == cx.Key || sy.N != 2 || sy.For != "y" || !strings.Contains(note, "fresh seat") {
		t.Fatalf("a card for y: %+v (%q), want a fresh seat 2", sy, note)
	}
	if _, sx2, _ := card("x"); sx2.N != 1 {
		t.Fatalf("a second card for x: %+v, want seat 1 again", sx2)
	}
	out, err := d.Card("alice", "y")
	if err != nil || out.Title != "member card of alice for y" {
		t.Fatalf("backend card: %+v %v", out, err)
	}
	if _, err := d.dev.ks.BindSeat(s1.SeatRef, kel.Digest([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	if _, err := d.dev.ks.BindSeat(sy.SeatRef, kel.Digest([]byte("y"))); err != nil {
		t.Fatal(err)
	}
	_, s3, note := card("")
	if s3.N != 3 || !strings.Contains(note, "member alice already sits in") {
		t.Fatalf("a card of a member with no free seat: %+v (%q)", s3, note)
	}
	// A rotation contribution is signed by the seat's current key, and
	// cancelling names the seat's group when the member has several.
	if _, err := d.dev.CancelRotation("alice", ""); !errors.Is(err, keystore.ErrNoPendingRotation) {
		t.Fatalf("cancel without a rotation: %v", err)
	}
}

// TestSeatsForgedProposalAndKEL: a forged proposal listing alice's key in
// team1 and the matching forged KEL, dropped together: the proposal is not
// for this device, so the KEL is not taken in, and nothing changes.
func TestSeatsForgedProposalAndKEL(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	a, b := newTUIDevice(t, "A", drop), newTUIDevice(t, "B", drop)
	a.newMember("alice")
	b.newMember("bob")
	incept(t, a, b, "team1", "alice", "bob")
	contrib, err := a.Contribute("team1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	cc, _ := transport.ParseContribution(contrib.Data)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	eve := kel.EncodeVerKey(pub)
	p, err := ceremony.ProposeInception(ceremony.InceptionParams{Members: []ceremony.Card{{Label: "alice", Key: cc.Key, Next: cc.Next},
		{Label: "eve", Key: eve, Next: kel.Digest([]byte("eve's next"))}}, Kt: kel.IntThreshold(1), Nt: kel.IntThreshold(1)})
	if err != nil {
		t.Fatal(err)
	}
	p.ID = ceremony.NewID()
	// Eve proposes (her key is one the inception lists).
	if err := p.Sign(ceremony.Proposer{Group: "team1-new", Label: "eve", Key: eve}, func(m []byte) ([]byte, error) { return ed25519.Sign(priv, m), nil }); err != nil {
		t.Fatal(err)
	}
	pk, err := transport.NewProposal(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := kel.ParseEvent(p.Event)
	sig, _ := kel.NewSiger(ed25519.Sign(priv, ev.Raw()), 1, 1, false)
	before := a.snapshot().Members
	os.WriteFile(filepath.Join(drop, "proposal-forged.json"), pk.Marshal(), 0o644)
	os.WriteFile(filepath.Join(drop, "kel-forged.cesr"), kel.NewMessage(ev, []kel.Siger{sig}).Bytes(), 0o644)
	ns := noticeTexts(a.poll())
	if strings.Contains(ns, "accepted") || strings.Contains(ns, "committed") || len(inboxOf(a.snapshot(), api.InboxProposal)) != 0 {
		t.Fatalf("the forged proposal and kel were taken in:\n%s", ns)
	}
	if after := a.snapshot().Members; !slices.EqualFunc(after, before, func(x, y api.MemberInfo) bool { return x.Key == y.Key && x.Next == y.Next }) {
		t.Fatalf("alice changed: %+v", after)
	}
	// Reviewed on purpose, the proposal is refused: it lists alice's keys in team1.
	if _, err := a.Receive("proposal-forged.json", pk.Marshal()); err != nil {
		t.Fatal(err)
	}
	// Alice's card in it carries no signature of hers (eve cannot make
	// one), so the labels are refused before the seat is: either refusal
	// keeps alice from signing.
	rev, err := a.Review(p.ID)
	refusals := strings.Join(rev.Refusals, "\n")
	if err != nil || rev.CanSign || !strings.Contains(refusals, "which serves team1") && !strings.Contains(refusals, ceremony.ErrUnboundLabel.Error()) {
		t.Fatalf("review of the forged proposal: %+v %v", rev.Refusals, err)
	}
}

// TestSeatsCheckKeysOnly: with the ceremony store in use by another
// process, the check covers the keys and says so.
func TestSeatsCheckKeysOnly(t *testing.T) {
	d := newTUIDevice(t, "A", "")
	if err := d.NewMember("alice"); err != nil {
		t.Fatal(err)
	}
	pass := func(bool) ([]byte, error) { return []byte("test passphrase"), nil }
	ko, err := Open(Options{Home: d.dev.Home(), Keystore: "file", Passphrase: pass, KDF: testKDF, KeysOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ko.Close()
	chk, err := ko.CheckMembers()
	if err != nil || !chk.KeysOnly || !chk.Ready() {
		t.Fatalf("keys-only check: %+v %v", chk, err)
	}
	if l := chk.Lines(); !strings.Contains(l[len(l)-1], "checked against their keys only") {
		t.Fatalf("keys-only check lines: %q", l)
	}
}

// TestSeatsLegacyBrokenHomeRepaired: a home where keremony before seats
// already destroyed the key team1 lists (a rotation of wgroup2 committed
// alice's shared key pair) is settled with a seat for team1 that cannot
// sign but still holds the key team1 commits: member check says so and
// what to do, and a rotation of team1 makes it anchor again.
func TestSeatsLegacyBrokenHomeRepaired(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	a, b, c := newTUIDevice(t, "A", drop), newTUIDevice(t, "B", drop), newTUIDevice(t, "C", drop)
	a.newMember("alice")
	b.newMember("bob")
	c.newMember("carol")
	incept(t, a, b, "team1", "alice", "bob")
	writeRecordV1(t, a.dev.Home(), "alice")
	m, _ := a.dev.Member("alice")
	legacy := m.Seats[0]
	inceptWithLegacyPair(t, a, c, legacy)
	// wgroup2 rotates with alice's shared pair, and the old keremony
	// committed it there, destroying the key team1 lists.
	rot, err := a.dev.ks.PrepareRotation(legacy.SeatRef)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := c.dev.Contribute("wgroup2", "carol")
	if err != nil {
		t.Fatal(err)
	}
	rp, err := a.dev.ProposeRotation(Rotation{Group: "wgroup2", Parts: []ceremony.Contribution{
		{Label: "alice", Role: ceremony.RoleRotate, Key: kel.EncodeVerKey(rot.NewKey), Next: rot.NewNextDigest}, cc.Packet.Contribution}})
	if err != nil {
		t.Fatal(err)
	}
	a.cosign(rp.Ceremony.ID(), c)
	c.poll()
	a.dev.ks.SetKeyInUse(func(ed25519.PublicKey, string) bool { return false })
	if _, err := a.dev.ks.CommitRotation(legacy.SeatRef); err != nil {
		t.Fatal(err)
	}
	writeRecordV1(t, a.dev.Home(), "alice")

	a.reopen(drop)
	text, ready := checkText(t, a)
	mustContain(t, "member check", text, "alice in wgroup2: ready", "alice in team1: NOT READY", "its current key was destroyed before seats",
		"keremony rotate contribute --group team1 --member alice")
	if ready {
		t.Fatalf("a seat that cannot sign is ready:\n%s", text)
	}
	rotate2(t, a, b, "team1", "alice")
	anchor2(t, a, b, "team1")
	anchor2(t, a, c, "wgroup2")
	rotate2(t, a, c, "wgroup2", "alice")
	if text, ready := checkText(t, a); !ready {
		t.Fatalf("after team1 rotated:\n%s", text)
	}
}
