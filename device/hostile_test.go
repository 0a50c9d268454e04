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
