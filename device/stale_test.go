package device

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
)

// rotatePair rotates team: alice and bob both reveal their next keys.
func rotatePair(t *testing.T, a, b *tuiDevice) {
	t.Helper()
	contrib, err := b.Contribute("team", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Drop(contrib.Name, contrib.Data); err != nil {
		t.Fatal(err)
	}
	a.poll()
	parts := inboxOf(a.snapshot(), api.InboxContribution)
	if len(parts) != 1 {
		t.Fatalf("A's contributions: %+v", parts)
	}
	rid, err := a.ProposeRotation(api.RotationRequest{Group: "team", Parts: []ceremony.Contribution{parts[0].Contribution}, Local: []string{"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	a.cosign(rid, b)
	a.poll()
	mustContain(t, "B's notices", noticeTexts(b.poll()), "member bob: rotation committed")
}

// TestStaleAndOwnCards: after bob rotates, his old card is stale on a
// device that holds the group's KEL (marked, with the reason), never in
// his own device's inbox, and a proposal made from it says nobody can
// sign for bob.
func TestStaleAndOwnCards(t *testing.T) {
	a, b, drop, _ := inceptPair(t)
	var oldCard []byte
	entries, _ := os.ReadDir(drop)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "card-bob") {
			oldCard, _ = os.ReadFile(filepath.Join(drop, e.Name()))
		}
	}
	if oldCard == nil {
		t.Fatal("no card of bob in the drop folder")
	}
	rotatePair(t, a, b)

	// B: its old card is its own, before the rotation; not in its inbox.
	if _, err := b.Receive("bob-old.card", oldCard); err != nil {
		t.Fatal(err)
	}
	for _, c := range inboxOf(b.snapshot(), api.InboxCard) {
		if c.Label == "bob" {
			t.Errorf("B's inbox holds its own old card: %+v", c)
		}
	}
	// A holds the KEL: the card is stale, and says why.
	if _, err := a.Receive("bob-old.card", oldCard); err != nil {
		t.Fatal(err)
	}
	var cards []api.InboxItem
	for _, c := range inboxOf(a.snapshot(), api.InboxCard) {
		if c.Label == "bob" {
			cards = append(cards, c)
		}
	}
	if len(cards) != 1 || !strings.Contains(cards[0].Stale, "bob's card is stale: bob rotated at sn 1 of team") {
		t.Fatalf("A's cards: %+v", cards)
	}
	// A proposal built from it reaches nobody: its collect screen says so.
	id, err := a.ProposeInception(api.InceptionRequest{Alias: "club", Local: []string{"alice"}, Cards: []ceremony.Card{cards[0].Card}})
	if err != nil {
		t.Fatal(err)
	}
	ci, _ := a.snapshot().Ceremony(id)
	if len(ci.Stale) != 1 || !strings.Contains(ci.Stale[0], "bob's card is stale: bob rotated at sn 1 of team") ||
		!strings.Contains(ci.Stale[0], "nobody can review this proposal for bob") {
		t.Errorf("A's ceremony: %+v", ci.Stale)
	}
	// A fresh card of bob is not stale.
	fresh, err := b.Card("bob", "club")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Receive("bob-new.card", fresh.Data); err != nil {
		t.Fatal(err)
	}
	for _, c := range inboxOf(a.snapshot(), api.InboxCard) {
		if c.Label == "bob" && (c.Source == "bob-new.card") != (c.Stale == "") {
			t.Errorf("card %s: stale %q", c.Source, c.Stale)
		}
	}
}
