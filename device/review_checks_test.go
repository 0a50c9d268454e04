package device

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
)

// inceptPair incepts the 2-of-2 group team of alice (A) and bob (B)
// through the shared drop folder and returns its prefix.
func inceptPair(t *testing.T) (a, b *tuiDevice, drop, prefix string) {
	t.Helper()
	drop = filepath.Join(cliSetup(t), "drop")
	a, b = newTUIDevice(t, "A", drop), newTUIDevice(t, "B", drop)
	a.newMember("alice")
	b.newMember("bob")
	a.poll()
	cards := inboxOf(a.snapshot(), api.InboxCard)
	if len(cards) != 1 {
		t.Fatalf("A's cards: %+v", cards)
	}
	id, err := a.ProposeInception(api.InceptionRequest{Alias: "team", Local: []string{"alice"}, Cards: []ceremony.Card{cards[0].Card}})
	if err != nil {
		t.Fatal(err)
	}
	out := a.cosign(id, b)
	b.poll()
	return a, b, drop, kel.Replay(out.Data).Prefixes[0]
}

// TestReviewDocuments: the co-signer checks a digest seal against a file
// it opens; the proposer's note (name and size) is shown, never trusted;
// the unchecked seal is a critical warning until a matching file is given.
func TestReviewDocuments(t *testing.T) {
	a, b, _, _ := inceptPair(t)
	dir := t.TempDir()
	minutes := filepath.Join(dir, "minutes.txt")
	if err := os.WriteFile(minutes, []byte(strings.Repeat("minutes of the board\n", 2000)), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.txt")
	if err := os.WriteFile(other, []byte("not the minutes"), 0o644); err != nil {
		t.Fatal(err)
	}
	id, err := a.dev.ProposeAnchoring(Anchoring{Group: "team", SealArgs: [][2]string{{"file", minutes}}})
	if err != nil {
		t.Fatal(err)
	}
	b.poll()
	rev, err := b.Review(id.Ceremony.ID())
	if err != nil {
		t.Fatal(err)
	}
	if !rev.CanSign || len(rev.Refusals) != 0 || rev.Review.Seals[0].Known || rev.Review.Seals[0].Proposer != "minutes.txt, 42 KB" {
		t.Fatalf("review without the document: %+v", rev)
	}
	mustContain(t, "critical", strings.Join(rev.Critical, "\n"), "unchecked: the digest seal "+rev.Review.Seals[0].Seal.D, "(the proposer says: minutes.txt, 42 KB)")
	// Where bob's device learned each key.
	want := map[string]string{"alice": "the group's KEL", "bob": "this device"}
	for _, l := range rev.Roster {
		if l.Source != want[l.Label] || l.You != (l.Label == "bob") || l.Key == "" || l.Digest {
			t.Errorf("roster line %+v", l)
		}
	}
	if len(rev.Roster) != 2 {
		t.Errorf("roster %+v", rev.Roster)
	}

	rev, err = b.Review(id.Ceremony.ID(), other, minutes, filepath.Join(dir, "missing.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !rev.Review.Seals[0].Known || !strings.Contains(rev.Review.Seals[0].Text, `the document "minutes.txt"`) || len(rev.Critical) != 0 {
		t.Errorf("review with the document: seals %+v critical %q", rev.Review.Seals, rev.Critical)
	}
	docs := rev.Documents
	if len(docs) != 3 || docs[0].Matches || docs[0].Size != 15 || !docs[1].Matches || docs[1].Digest != rev.Review.Seals[0].Seal.D ||
		docs[2].Err == "" || docs[2].Matches {
		t.Errorf("documents %+v", docs)
	}
}

// TestReviewPreflight: a member that already signed another event at this
// sequence number is refused in the review, with the reason, before any
// signature is tried.
func TestReviewPreflight(t *testing.T) {
	a, b, _, _ := inceptPair(t)
	first, err := a.dev.ProposeAnchoring(Anchoring{Group: "team", Seals: []kel.Seal{kel.DigestSeal([]byte("one"))}})
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.dev.ProposeAnchoring(Anchoring{Group: "team", Seals: []kel.Seal{kel.DigestSeal([]byte("two"))}})
	if err != nil {
		t.Fatal(err)
	}
	b.poll()
	if _, err := b.Sign(first.Ceremony.ID()); err != nil {
		t.Fatal(err)
	}
	rev, err := b.Review(second.Ceremony.ID())
	if err != nil {
		t.Fatal(err)
	}
	if rev.CanSign || len(rev.Refusals) != 1 {
		t.Fatalf("review of a second event at sn 1: %+v", rev)
	}
	// The ceremony store knows; the journal is not asked again.
	mustContain(t, "refusal", rev.Refusals[0], "the ceremony store shows member bob signed "+first.Ceremony.SAID())
	if _, err := b.Sign(second.Ceremony.ID()); err == nil || !strings.Contains(err.Error(), "the ceremony store shows member bob signed") {
		t.Errorf("sign: %v", err)
	}
	// Without the store's word, the journal's: the same refusal, with the
	// reason.
	in, err := b.dev.proposal(second.Ceremony.ID())
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.dev.Review(in, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Refusals = nil
	b.dev.preflight(r, false)
	if len(r.Refusals) != 1 {
		t.Fatalf("journal pre-flight: %q", r.Refusals)
	}
	mustContain(t, "journal refusal", r.Refusals[0], "member bob already signed a different event at sn 1 of team (the signing journal)",
		first.Ceremony.SAID(), "duplicity")
	// Signing the first again is fine: the same event.
	if rev, err := b.Review(first.Ceremony.ID()); err != nil || len(rev.Refusals) != 0 {
		t.Errorf("the signed event: %v %+v", err, rev.Refusals)
	}
}
