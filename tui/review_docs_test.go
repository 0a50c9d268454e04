package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
)

// documentReview: bob reviews the anchoring of the minutes' digest; the
// proposer says it is minutes.pdf, 41 KB.
func documentReview(t *testing.T) (*fx, kel.Seal) {
	x := fxIncept(t, fxMembers("alice", "bob"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice", "bob")
	if _, err := x.c.Finalize(); err != nil {
		t.Fatal(err)
	}
	seal := kel.DigestSeal([]byte("the minutes"))
	prefix := x.c.Event().Prefix()
	st, _ := x.v.State(prefix)
	p, err := ceremony.ProposeAnchoring(st, ceremony.AnchoringParams{Prefix: prefix, Seals: []kel.Seal{seal},
		Members:   []ceremony.Card{x.members[0].card(), x.members[1].card()},
		Documents: []ceremony.DocumentNote{{Digest: seal.D, Name: "minutes.pdf", Size: 41234}}})
	if err != nil {
		t.Fatal(err)
	}
	x.open(p)
	return x, seal
}

// TestReviewOpensDocument: o asks for a path, enter reviews again with
// the document, and the seal reads checked; the proposer's note is shown
// as a hint either way.
func TestReviewOpensDocument(t *testing.T) {
	x, seal := documentReview(t)
	unchecked := x.reviewInfo("bob")
	checked := unchecked
	me := x.member("bob").reviewer(0)
	me.Documents = map[string][]byte{"minutes.pdf": []byte("the minutes")}
	rev, err := ceremony.ReviewProposal(x.c.Proposal(), x.v, me)
	if err != nil {
		t.Fatal(err)
	}
	checked.Review, checked.Critical = rev, nil
	checked.Documents = []api.DocumentCheck{{Path: "/tmp/minutes.pdf", Size: 11, Digest: seal.D, Matches: true}}
	f := &fakeBackend{}
	f.OnReviewDocs = func(id string, docs []string) (ReviewInfo, error) {
		if len(docs) == 1 && docs[0] == "/tmp/minutes.pdf" {
			return checked, nil
		}
		return unchecked, nil
	}
	_, s := openReview(t, f, unchecked.ProposalID)
	all := strings.Join(strings.Fields(reviewAll(s)), " ")
	hasAll(t, "unchecked review", all,
		"? commits to data with digest "+seal.D+" — not checked on this device",
		"proposer says: minutes.pdf, 41 KB (a hint, not a check)",
		"o opens your copy of a document")
	if !hasBinding(s, "o") {
		t.Error("the footer does not offer o")
	}
	s, _ = drive(s, keys("o")...)
	if !s.Typing() || !strings.Contains(s.View(), "document>") {
		t.Fatalf("o did not ask for a document:\n%s", s.View())
	}
	s, _ = drive(s, append(typeText("/tmp/minutes.pdf"), keyMsg("enter"))...)
	if count(f.Called(), "Review "+unchecked.ProposalID+" /tmp/minutes.pdf") != 1 {
		t.Fatalf("calls %v", f.Called())
	}
	s, _ = drive(s, keys("pgup", "pgup", "pgup", "pgup")...)
	all = strings.Join(strings.Fields(reviewAll(s)), " ")
	hasAll(t, "checked review", all,
		`✓ commits to data with digest `+seal.D+`: the document "minutes.pdf" — checked on this device`,
		"✓ /tmp/minutes.pdf (11 bytes) matches a digest seal",
		"proposer says: minutes.pdf, 41 KB")
	// esc in the field cancels without a review; letters type.
	s, _ = drive(s, keys("o", "q", "esc")...)
	if s.Typing() || count(f.Called(), "Review "+unchecked.ProposalID+" /tmp/minutes.pdf q") != 0 {
		t.Errorf("esc: typing %v, calls %v", s.Typing(), f.Called())
	}
}

// TestReviewDocumentGolden is bob's review of the anchoring with the
// document not yet opened, at 80x24, scrolled to the anchors.
func TestReviewDocumentGolden(t *testing.T) {
	x, _ := documentReview(t)
	ri := x.reviewInfo("bob")
	f := &fakeBackend{}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	c, s := openReview(t, f, ri.ProposalID)
	s, _ = drive(s, keys("pgdown")...)
	c.busy = 0
	requireTeaGolden(t, c, s)
}

// TestReviewConfirmRepeatsWarnings: the confirmation repeats what
// matters (the unchecked seal, with what the proposer says) next to the
// words.
func TestReviewConfirmRepeatsWarnings(t *testing.T) {
	x, seal := documentReview(t)
	ri := x.reviewInfo("bob")
	f := &fakeBackend{}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	c, s := openReview(t, f, ri.ProposalID)
	s, _ = drive(s, keys("s")...)
	v := strings.Join(strings.Fields(s.View()), " ")
	hasAll(t, "confirmation", v, "⚠ unchecked: the digest seal "+seal.D+" matches no document you opened (the proposer says: minutes.pdf, 41 KB)",
		"sign as bob at k[1]?", ceremony.FingerprintWords(x.c.SAID())[0])
	for _, size := range [][2]int{{80, 24}, {60, 16}, {40, 12}} {
		c.width, c.height = size[0], size[1]
		s, _ = drive(s, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		v := screenView(c, s)
		assertFits(t, v, size[0], size[1])
		if !strings.Contains(v, "⚠") || !strings.Contains(v, "y signs") {
			t.Errorf("%dx%d: the warning or the question is cut:\n%s", size[0], size[1], v)
		}
	}
	c.width, c.height = 80, 24
	s, _ = drive(s, tea.WindowSizeMsg{Width: 80, Height: 24})
	c.busy = 0
	requireTeaGolden(t, c, s)
}

// TestReviewSignFailedInFull: a failed signature says why, in full, on
// the review and in the status, wrapped over as many lines as it needs.
func TestReviewSignFailedInFull(t *testing.T) {
	_, ri := inceptionReview(t)
	why := errors.New("signer refused to sign: member \"bob\" already signed EAbcdefghijklmnopqrstuvwxyz0123456789ABCDEFG at sn 5 of EHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw, refusing to sign the event of this proposal")
	f := &fakeBackend{}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	f.OnSign = func(string) (Outgoing, error) { return Outgoing{}, why }
	c, s := openReview(t, f, ri.ProposalID)
	s, out := drive(s, keys("s", "y")...)
	if !hasInfo(out, "refusing to sign the event of this proposal") {
		t.Fatalf("no error: %#v", out)
	}
	all := strings.Join(strings.Fields(reviewAll(s)), " ")
	hasAll(t, "review", all, "✗ THE SIGNATURE FAILED: nothing was signed", "at sn 5 of EHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw, refusing to sign the event of this proposal")
	m := New(Options{PollInterval: -1}, nil)
	m.c = c
	m.stack = []screen{newHomeScreen(c), s}
	m.Update(errMsg{"", errSignFailed})
	m.Update(errMsg{"", why})
	v := m.View()
	assertFits(t, v, 80, 24)
	if !strings.Contains(strings.Join(strings.Fields(v), " "), "refusing to sign the event of this proposal") {
		t.Errorf("the status cut the error:\n%s", v)
	}
	s, _ = drive(s, keys("pgup", "pgup", "pgup", "pgup")...)
	c.busy = 0
	requireTeaGoldenStatus(t, c, s, fmt.Errorf("%w: %w", errSignFailed, why))
}

// TestReviewPreflightGolden: what the pre-flight finds (another event
// signed at this sequence number) is on the review, in full, before s:
// the review offers no signature.
func TestReviewPreflightGolden(t *testing.T) {
	_, ri := inceptionReview(t)
	ri.CanSign = false
	ri.Refusals = []string{`member bob already signed a different event at sn 0 of acme (the signing journal): signing this one as well would be duplicity; conflicting signature: member "bob" already signed EAbcdefghijklmnopqrstuvwxyz0123456789ABCDEFG at sn 0 of EHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw`}
	f := &fakeBackend{}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	c, s := openReview(t, f, ri.ProposalID)
	if hasBinding(s, "s") {
		t.Error("the footer offers s")
	}
	hasAll(t, "view", strings.Join(strings.Fields(s.View()), " "), "✗ THIS DEVICE MUST NOT SIGN THIS EVENT",
		"member bob already signed a different event at sn 0 of acme", "at sn 0 of EHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw")
	c.busy = 0
	requireTeaGolden(t, c, s)
}
