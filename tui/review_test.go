package tui

import (
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// openReview makes a review screen over f and runs its start (the
// backend's review).
func openReview(t *testing.T, f *fakeBackend, id string) (*common, screen) {
	t.Helper()
	c := testCommon(f)
	s := newReviewScreen(c, id)
	s, _ = drive(s, runCmd(startCmd(s))...)
	return c, s
}

// reviewAll is every line the review shows, scrolling to the end.
func reviewAll(s screen) string {
	var b strings.Builder
	last := ""
	for range 50 {
		v := s.View()
		if v == last {
			break
		}
		b.WriteString(v + "\n")
		last = v
		s, _ = drive(s, keys("pgdown")...)
	}
	return b.String()
}

// inceptionReview: bob reviews the 2-of-3 inception of alice, bob and
// carol.
func inceptionReview(t *testing.T) (*fx, ReviewInfo) {
	x := fxIncept(t, fxMembers("alice", "bob", "carol"), kel.IntThreshold(2), kel.IntThreshold(2))
	return x, x.reviewInfo("bob")
}

// TestReviewSignNeedsConfirmation: s asks; any key but y cancels; y signs
// exactly once and replaces the review with the ceremony's progress.
func TestReviewSignNeedsConfirmation(t *testing.T) {
	x, ri := inceptionReview(t)
	f := &fakeBackend{Snap: x.snapshot(true, false)}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	f.OnSign = func(string) (Outgoing, error) {
		return Outgoing{Title: "signature of bob", Name: "bob.sig", Data: []byte("sig"), Dropped: "/drop/bob.sig"}, nil
	}
	_, s := openReview(t, f, ri.ProposalID)
	words := ceremony.FingerprintWords(x.c.SAID())

	for _, other := range []string{"n", "esc", "q", "s", "enter", "space", "Y"} {
		s, _ = drive(s, keys("s")...)
		v := s.View()
		if !s.Typing() || !strings.Contains(v, "sign as bob at k[1]?") || !strings.Contains(v, words[5]) {
			t.Fatalf("s did not ask to confirm (typing %v):\n%s", s.Typing(), v)
		}
		s, _ = drive(s, keys(other)...)
		if count(f.Called(), "Sign "+ri.ProposalID) != 0 {
			t.Fatalf("s then %q signed", other)
		}
		if s.Typing() {
			t.Fatalf("s then %q still asks", other)
		}
	}

	_, out := drive(s, keys("s", "y")...)
	if n := count(f.Called(), "Sign "+ri.ProposalID); n != 1 {
		t.Fatalf("s y: Sign called %d times", n)
	}
	if col, ok := replaced[*collectScreen](out); !ok || col.id != x.c.ID() {
		t.Fatalf("not replaced by the collect screen of %s: %#v", x.c.ID(), out)
	}
	if !hasInfo(out, "/drop/bob.sig") || pushed[*shareScreen](out) {
		t.Errorf("a dropped signature: %#v", out)
	}
}

// TestReviewSignFindsCeremony: an inbox proposal has no ceremony before
// signing; the collect screen is the one the snapshot holds afterwards,
// and with no drop folder the signature opens in the share screen.
func TestReviewSignFindsCeremony(t *testing.T) {
	x, ri := inceptionReview(t)
	ri.CeremonyID = ""
	f := &fakeBackend{}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	f.OnSign = func(string) (Outgoing, error) {
		f.Snap = x.snapshot(false, true) // the backend now holds the ceremony
		return Outgoing{Title: "signature of bob", Name: "bob.sig", Data: []byte("sig")}, nil
	}
	_, s := openReview(t, f, ri.ProposalID)
	_, out := drive(s, keys("s", "y")...)
	if col, ok := replaced[*collectScreen](out); !ok || col.id != x.c.ID() {
		t.Fatalf("not replaced by the collect screen of %s: %#v", x.c.ID(), out)
	}
	if !pushed[*shareScreen](out) || !hasInfo(out, "no drop folder") {
		t.Errorf("no share screen for an undropped signature: %#v", out)
	}
}

// TestReviewRefusals: a refused proposal shows why, loudly, and cannot be
// signed: s does not ask, y does nothing.
func TestReviewRefusals(t *testing.T) {
	x, ri := inceptionReview(t)
	ri.CanSign = false
	ri.Refusals = []string{"the proposal's event differs from the event this device rebuilt"}
	f := &fakeBackend{Snap: x.snapshot(false, false)}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	f.OnSign = func(string) (Outgoing, error) { return Outgoing{}, nil }
	_, s := openReview(t, f, ri.ProposalID)
	v := s.View()
	if !strings.Contains(v, "MUST NOT SIGN") || !strings.Contains(v, "differs from the event this device rebuilt") {
		t.Errorf("refusal not shown:\n%s", v)
	}
	s, out := drive(s, keys("s")...)
	if s.Typing() || strings.Contains(s.View(), "sign as bob at k[1]?") {
		t.Errorf("s asked to sign a refused proposal:\n%s", s.View())
	}
	if !hasInfo(out, "differs") {
		t.Errorf("s did not say why: %#v", out)
	}
	drive(s, keys("y", "s", "y")...)
	if count(f.Called(), "Sign "+ri.ProposalID) != 0 {
		t.Error("a refused proposal was signed")
	}
	for _, b := range s.Bindings() {
		if b.Help().Key == "s" {
			t.Error("the footer offers s on a refused proposal")
		}
	}
}

// TestReviewShowsEvent: the words and the fingerprint, who signs where,
// the thresholds in words, a passed review's details.
func TestReviewShowsEvent(t *testing.T) {
	x, ri := inceptionReview(t)
	f := &fakeBackend{}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	c, s := openReview(t, f, ri.ProposalID)
	v := s.View()
	want := append([]string{
		"inception of acme · sn 0 · proposed by alice",
		ceremony.Fingerprint(x.c.SAID()),
		"Read the six words aloud",
	}, ceremony.FingerprintWords(x.c.SAID())...)
	hasAll(t, "view", v, want...)
	all := reviewAll(s)
	hasAll(t, "review", all,
		"you sign as bob at k[1]",
		"your next digest is committed",
		"any 2 of 3: alice, bob, carol",
		"witnesses: none",
		x.c.SAID(),
	)
	for _, size := range [][2]int{{80, 24}, {60, 16}, {100, 40}, {40, 12}} {
		c.width, c.height = size[0], size[1]
		s, _ = drive(s, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		assertFits(t, screenView(c, s), size[0], size[1])
	}
}

// TestReviewRotation: the key diff of a rotation, the thresholds before
// and after, and the member lines.
func TestReviewRotation(t *testing.T) {
	x := rotationFixture(t)
	ri := x.reviewInfo("bob")
	f := &fakeBackend{}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	_, s := openReview(t, f, ri.ProposalID)
	all := strings.Join(strings.Fields(reviewAll(s)), " ")
	// alice and bob reveal new keys: none of the three prior keys stays;
	// the new n has alice's and bob's new digests and carol's carried one.
	hasAll(t, "review", all,
		"rotation of acme · sn 1",
		"you sign as bob at k[1], revealing the key committed at prior n[1]",
		"0 kept, 2 added, 3 removed",
		"1 digests kept, 2 added, 2 removed",
		"any 2 of 3: alice, bob, carol → all of alice, bob",
		"carol stays in reserve",
	)
}

// TestReviewAnchoring: the seals of an anchoring, checked or not, and
// every warning in plain words.
func TestReviewAnchoring(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice", "bob")
	icp := x.c.Event()
	doc := kel.DigestSeal([]byte("contract v2"))
	x.anchor(kel.EventSeal(icp.Prefix(), 0, icp.SAID()), doc)
	ri := x.reviewInfo("bob")
	ri.Warnings = []string{"the proposal arrived from an unknown sender"}
	f := &fakeBackend{}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	_, s := openReview(t, f, ri.ProposalID)
	all := strings.Join(strings.Fields(reviewAll(s)), " ")
	hasAll(t, "review", all,
		"anchoring of acme · sn 1",
		"✓ anchors event 0 of "+icp.Prefix(),
		"the icp this device holds — checked on this device",
		"? commits to data with digest "+doc.D+" — not checked on this device",
		"⚠ no document you supplied has digest "+doc.D,
		"⚠ the proposal arrived from an unknown sender",
		"(the group's current ones)",
	)
}

// TestReviewConfiguration: traits in plain words, with their warnings.
func TestReviewConfiguration(t *testing.T) {
	x := fxInceptWith(t, fxMembers("alice", "bob"), ceremony.InceptionParams{Kt: kel.IntThreshold(1), Nt: kel.IntThreshold(2), Config: []string{"EO"}})
	ri := x.reviewInfo("alice")
	f := &fakeBackend{}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	_, s := openReview(t, f, ri.ProposalID)
	all := strings.Join(strings.Fields(reviewAll(s)), " ")
	hasAll(t, "review", all,
		"traits: EO (establishment only: no interaction events)",
		"⚠ establishment only",
		"⚠ kt \"1\": any one of the 2 keys can sign for the group alone",
		"you sign as alice at k[0]",
	)
}

// TestReviewNextNotCommitted: a review whose next digest is not in the
// new n warns loudly.
func TestReviewNextNotCommitted(t *testing.T) {
	x, ri := inceptionReview(t)
	me := x.member("bob").reviewer(0)
	me.Next = newFxMember("someone else").keys[1].dig()
	rev, err := ceremony.ReviewProposal(x.c.Proposal(), x.v, me)
	if err != nil {
		t.Fatal(err)
	}
	ri.Review = rev
	f := &fakeBackend{}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	_, s := openReview(t, f, ri.ProposalID)
	all := strings.Join(strings.Fields(reviewAll(s)), " ")
	if !strings.Contains(all, "WARNING: your next digest is not committed") {
		t.Errorf("no loud warning:\n%s", all)
	}
	if !strings.Contains(all, "⚠ your next digest is not committed") {
		t.Errorf("the review's warning is not listed:\n%s", all)
	}
}

// TestReviewLoadError: a review that fails says so and cannot sign.
func TestReviewLoadError(t *testing.T) {
	f := &fakeBackend{}
	boom := errors.New("proposal c123 is not on this device")
	f.OnReview = func(string) (ReviewInfo, error) { return ReviewInfo{}, boom }
	_, s := openReview(t, f, "c123")
	if v := s.View(); !strings.Contains(v, "could not be reviewed") || !strings.Contains(v, boom.Error()) {
		t.Errorf("view:\n%s", v)
	}
	drive(s, keys("s", "y")...)
	if count(f.Called(), "Sign c123") != 0 {
		t.Error("signed without a review")
	}
}

// TestReviewStartsItself: pushed by someone who does not start it, the
// review starts on its first message.
func TestReviewStartsItself(t *testing.T) {
	_, ri := inceptionReview(t)
	f := &fakeBackend{}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	c := testCommon(f)
	s := newReviewScreen(c, ri.ProposalID)
	s, _ = drive(s, snapshotMsg{})
	if count(f.Called(), "Review "+ri.ProposalID) != 1 || !strings.Contains(s.View(), "you sign as bob") {
		t.Errorf("calls %v, view:\n%s", f.Called(), s.View())
	}
}

// TestReviewGolden is bob's review of the 2-of-3 inception at 80x24.
func TestReviewGolden(t *testing.T) {
	_, ri := inceptionReview(t)
	f := &fakeBackend{}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	c, s := openReview(t, f, ri.ProposalID)
	c.busy = 0 // drive does not stop the spinner
	requireTeaGolden(t, c, s)
}

// TestReviewConfirmGolden is the confirmation step at 80x24.
func TestReviewConfirmGolden(t *testing.T) {
	_, ri := inceptionReview(t)
	f := &fakeBackend{}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	c, s := openReview(t, f, ri.ProposalID)
	s, _ = drive(s, keys("s")...)
	c.busy = 0
	requireTeaGolden(t, c, s)
}
