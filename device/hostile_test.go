package device

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/internal/benchkel"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
)

// TestDropFolderKeepsLargeKEL: a KEL over 1 MiB (a group a few thousand
// events old) that arrives through the drop folder is imported, not moved
// to rejected/ (the folder once refused every file over 1 MiB, the limit
// of a QR message).
func TestDropFolderKeepsLargeKEL(t *testing.T) {
	k, err := benchkel.Build(2000)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Stream) <= 1<<20 {
		t.Fatalf("the fixture KEL has %d bytes, want more than 1 MiB", len(k.Stream))
	}
	drop := filepath.Join(cliSetup(t), "drop")
	a := newTUIDevice(t, "A", drop)
	// A holds the first ten events: the rest concerns it.
	var head []byte
	for _, m := range k.Messages[:10] {
		head = append(head, m...)
	}
	s, err := transport.ParseCESR(head)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.dev.ImportStream(s, "big"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(drop, "kel-big.cesr"), k.Stream, 0o644); err != nil {
		t.Fatal(err)
	}
	ns := noticeTexts(a.poll())
	mustContain(t, "poll", ns, "kel of big: 1990 new events (sn 10 to 1999) accepted")
	if _, err := os.Stat(filepath.Join(drop, "kel-big.cesr")); err != nil {
		t.Fatalf("the KEL left the folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(drop, transport.RejectedDir)); err == nil {
		t.Fatalf("something was rejected: %s", ns)
	}
	if strings.Contains(ns, "refused") {
		t.Fatalf("poll: %s", ns)
	}
}

// junkCard is a valid member card of a fresh key: anyone can make
// thousands.
func junkCard(t *testing.T, i int) []byte {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	card, err := transport.NewCard(fmt.Sprintf("junk%d", i), kel.EncodeVerKey(pub), kel.Digest([]byte{byte(i), byte(i >> 8)}),
		func(b []byte) ([]byte, error) { return ed25519.Sign(priv, b), nil })
	if err != nil {
		t.Fatal(err)
	}
	return card.Marshal()
}

// TestInboxFloodKeepsProposals: 1,100 junk cards fill the inbox; a real
// proposal for this device's group still gets in and stays, the inbox
// keeps the newest cards, and its size stays bounded. (The inbox once
// refused the proposal: "inbox full … not kept".)
func TestInboxFloodKeepsProposals(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	a, b := newTUIDevice(t, "A", drop), newTUIDevice(t, "B", drop)
	a.newMember("alice")
	b.newMember("bob")
	const junk = 1100
	for i := range junk {
		if _, err := a.Receive(fmt.Sprintf("junk%d.card", i), junkCard(t, i)); err != nil {
			t.Fatal(err)
		}
	}
	// B proposes the inception of alice and bob.
	b.poll()
	cards := inboxOf(b.snapshot(), api.InboxCard)
	if len(cards) != 1 || cards[0].Label != "alice" {
		t.Fatalf("B's cards: %+v", cards)
	}
	id, err := b.ProposeInception(api.InceptionRequest{Alias: "team", Local: []string{"bob"}, Cards: []ceremony.Card{cards[0].Card},
		Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)})
	if err != nil {
		t.Fatal(err)
	}
	b.poll() // B's notices: the proposal is in the folder
	mustContain(t, "A's notices", noticeTexts(a.poll()), "proposal "+ShortID(id))
	// More junk after it does not push it out.
	for i := junk; i < junk+200; i++ {
		if _, err := a.Receive(fmt.Sprintf("junk%d.card", i), junkCard(t, i)); err != nil {
			t.Fatal(err)
		}
	}
	s := a.snapshot()
	props := inboxOf(s, api.InboxProposal)
	if len(props) != 1 || props[0].ID != id {
		t.Fatalf("A's proposals: %+v", props)
	}
	junkCards := inboxOf(s, api.InboxCard)
	if len(s.Inbox) > maxInbox+1 || len(junkCards) != maxInbox {
		t.Fatalf("A's inbox holds %d items, %d cards; want at most %d cards", len(s.Inbox), len(junkCards), maxInbox)
	}
	if newest := junkCards[0].Label; newest != fmt.Sprintf("junk%d", junk+199) {
		t.Errorf("the newest card kept is %s", newest)
	}
	if rev, err := a.Review(id); err != nil || !rev.CanSign {
		t.Fatalf("A's review of the proposal: %+v %v", rev, err)
	}
}

// pairTeam is a 2-of-2 group "team" of alice (A) and bob (B), finalized on
// both, sharing drop.
func pairTeam(t *testing.T, drop string) (a, b *tuiDevice, prefix string) {
	t.Helper()
	a, b = newTUIDevice(t, "A", drop), newTUIDevice(t, "B", drop)
	a.newMember("alice")
	b.newMember("bob")
	a.poll()
	cards := inboxOf(a.snapshot(), api.InboxCard)
	if len(cards) != 1 {
		t.Fatalf("A's cards: %+v", cards)
	}
	id, err := a.ProposeInception(api.InceptionRequest{Alias: "team", Local: []string{"alice"}, Cards: []ceremony.Card{cards[0].Card},
		Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)})
	if err != nil {
		t.Fatal(err)
	}
	a.poll()
	out := a.cosign(id, b)
	b.poll()
	a.poll()
	prefix = kel.Replay(out.Data).Prefixes[0]
	if _, ok := b.snapshot().Group(prefix); !ok {
		t.Fatal("B does not hold the group")
	}
	return a, b, prefix
}

// anchoringWithID is an anchoring proposal of the group, under ceremony
// id, signed by sign as key (labelled label).
func anchoringWithID(t *testing.T, d *tuiDevice, prefix, id, doc, label, key string, sign func([]byte) ([]byte, error)) []byte {
	t.Helper()
	st, _ := d.dev.store.State(prefix)
	cp, err := ceremony.ProposeAnchoring(st, ceremony.AnchoringParams{Prefix: prefix, Seals: []kel.Seal{kel.DigestSeal([]byte(doc))}})
	if err != nil {
		t.Fatal(err)
	}
	cp.ID = id
	if err := cp.Sign(ceremony.Proposer{Group: "team", Label: label, Key: key}, sign); err != nil {
		t.Fatal(err)
	}
	pk, err := transport.NewProposal(cp, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pk.Marshal()
}

// TestProposalIDHijack: an outsider copies a real proposal's id into a
// proposal of the same group, signed by its own key, and drops it first.
// It is refused (its key may not propose), and the real one still reaches
// the inbox; nothing real goes to rejected/. (The proposal's "from" was
// once a plain field: the hijacker's proposal took the id, and every
// honest device moved the real one to rejected/ as "conflicting".)
func TestProposalIDHijack(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	a, b, prefix := pairTeam(t, drop)
	id, err := a.ProposeAnchoring(api.AnchoringRequest{Group: "team", Seals: []kel.Seal{kel.DigestSeal([]byte("minutes"))}})
	if err != nil {
		t.Fatal(err)
	}
	real, err := os.ReadFile(filepath.Join(drop, proposalName(id)))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(drop, proposalName(id)))
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	hijack := anchoringWithID(t, b, prefix, id, "forged minutes", "alice", kel.EncodeVerKey(pub),
		func(m []byte) ([]byte, error) { return ed25519.Sign(priv, m), nil })
	if err := os.WriteFile(filepath.Join(drop, "0-hijack.json"), hijack, 0o644); err != nil {
		t.Fatal(err)
	}
	ns := noticeTexts(b.poll())
	mustContain(t, "B's notices", ns, "refused file 0-hijack.json", ErrProposer.Error(), "which is not a current key of team")
	if err := os.WriteFile(filepath.Join(drop, "proposal-real.json"), real, 0o644); err != nil {
		t.Fatal(err)
	}
	ns = noticeTexts(b.poll())
	mustContain(t, "B's notices", ns, "proposal "+ShortID(id))
	if strings.Contains(ns, "refused") {
		t.Fatalf("B refused the real proposal: %s", ns)
	}
	if _, err := os.Stat(filepath.Join(drop, "proposal-real.json")); err != nil {
		t.Fatalf("the real proposal left the folder: %v", err)
	}
	props := inboxOf(b.snapshot(), api.InboxProposal)
	if len(props) != 1 || props[0].ID != id || props[0].Conflict != "" {
		t.Fatalf("B's proposals: %+v", props)
	}
	rev, err := b.Review(id)
	if err != nil || !rev.CanSign || rev.From != "alice" || rev.FromKey == "" {
		t.Fatalf("B's review: %+v %v", rev, err)
	}
}

// TestConflictingProposalsBothKept: a member (here alice's own key) signs
// two different proposals under one ceremony id: both reach the inbox,
// each flagged with the other; neither goes to rejected/, and the review
// of either names the other. Once one is signed, the other stays, flagged,
// and cannot be signed here.
func TestConflictingProposalsBothKept(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	a, b, prefix := pairTeam(t, drop)
	alice, err := a.dev.ks.Member("alice")
	if err != nil {
		t.Fatal(err)
	}
	seat := alice.Seats[0]
	sign := func(m []byte) ([]byte, error) { return a.dev.ks.SignProof(seat.SeatRef, m) }
	key := kel.EncodeVerKey(seat.PublicKey)
	id := ceremony.NewID()
	first := anchoringWithID(t, b, prefix, id, "one", "alice", key, sign)
	second := anchoringWithID(t, b, prefix, id, "two", "alice", key, sign)
	os.WriteFile(filepath.Join(drop, "p1.json"), first, 0o644)
	os.WriteFile(filepath.Join(drop, "p2.json"), second, 0o644)
	ns := noticeTexts(b.poll())
	mustContain(t, "B's notices", ns, "shares its ceremony id with proposal "+id)
	if strings.Contains(ns, "refused") {
		t.Fatalf("a proposal was refused: %s", ns)
	}
	for _, f := range []string{"p1.json", "p2.json"} {
		if _, err := os.Stat(filepath.Join(drop, f)); err != nil {
			t.Errorf("%s left the folder: %v", f, err)
		}
	}
	props := inboxOf(b.snapshot(), api.InboxProposal)
	if len(props) != 2 || props[0].ID == props[1].ID || props[0].Conflict == "" || props[1].Conflict == "" {
		t.Fatalf("B's proposals: %+v", props)
	}
	var refs []string
	for _, p := range props {
		refs = append(refs, p.ID)
		rev, err := b.Review(p.ID)
		if err != nil || !strings.Contains(strings.Join(rev.Warnings, "\n"), "CONFLICT: ceremony id shared with") {
			t.Fatalf("review of %s: %+v %v", p.ID, rev, err)
		}
	}
	// B signs one; the other stays in the inbox, flagged, and refused.
	if _, err := b.Sign(refs[0]); err != nil {
		t.Fatal(err)
	}
	props = inboxOf(b.snapshot(), api.InboxProposal)
	if len(props) != 1 || props[0].ID != refs[1] || !strings.Contains(props[0].Conflict, "this device's ceremony "+id) {
		t.Fatalf("B's proposals after signing one: %+v", props)
	}
	if rev, err := b.Review(refs[1]); err != nil || rev.CanSign || len(rev.Refusals) == 0 {
		t.Fatalf("review of the other after signing one: %+v %v", rev, err)
	}
	if _, err := os.Stat(filepath.Join(drop, transport.RejectedDir)); err == nil {
		t.Error("something went to rejected/")
	}
}

// TestInboxBoundPerSender: one member's key floods the inbox with
// proposals: it keeps that sender's newest maxPerSender, and the other
// senders' packets stay.
func TestInboxBoundPerSender(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	a, b, prefix := pairTeam(t, drop)
	if _, err := b.Receive("junk.card", junkCard(t, 1)); err != nil {
		t.Fatal(err)
	}
	alice, _ := a.dev.ks.Member("alice")
	seat := alice.Seats[0]
	sign := func(m []byte) ([]byte, error) { return a.dev.ks.SignProof(seat.SeatRef, m) }
	const flood = maxPerSender + 5
	var ids []string
	for i := range flood {
		id := ceremony.NewID()
		ids = append(ids, id)
		p := anchoringWithID(t, b, prefix, id, fmt.Sprintf("doc %d", i), "alice", kel.EncodeVerKey(seat.PublicKey), sign)
		if _, err := b.Receive(fmt.Sprintf("p%d.json", i), p); err != nil {
			t.Fatal(err)
		}
	}
	s := b.snapshot()
	props := inboxOf(s, api.InboxProposal)
	if len(props) != maxPerSender {
		t.Fatalf("%d proposals of one sender kept, want %d", len(props), maxPerSender)
	}
	for i, p := range props { // newest first
		if want := ids[flood-1-i]; p.ID != want {
			t.Errorf("proposal %d is %s, want %s (the newest kept)", i, p.ID, want)
		}
	}
	if cards := inboxOf(s, api.InboxCard); len(cards) != 1 {
		t.Errorf("the other sender's card: %+v", cards)
	}
}
