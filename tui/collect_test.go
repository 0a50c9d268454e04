package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// collectOf makes a collect screen of the fixture's ceremony over a fake
// backend holding snap.
func collectOf(f *fakeBackend, id string) (*common, screen) {
	c := testCommon(f)
	return c, newCollectScreen(c, id)
}

// TestCollectProgressLive: 2 of 3, alice signed; bob's signature arrives
// as a snapshot and the screen says the threshold is met.
func TestCollectProgressLive(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob", "carol"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice")
	f := &fakeBackend{Snap: x.snapshot(true, false)}
	c, s := collectOf(f, x.c.ID())
	v := s.View()
	hasAll(t, "view", v, "signatures: 1 signed, 2 needed (any 2 of 3)", "✓ alice", "… bob", "waiting")
	if strings.Contains(v, "threshold met") {
		t.Errorf("threshold met with one signature:\n%s", v)
	}
	// f with one of two does not finalize.
	drive(s, keys("f")...)
	if slices.Contains(f.Called(), "Finalize "+x.c.ID()) {
		t.Error("f finalized an unmet ceremony")
	}

	x.sign("bob")
	c.snap = x.snapshot(false, true)
	s, _ = drive(s, snapshotMsg{c.snap})
	v = s.View()
	hasAll(t, "after bob's signature, view", v, "signatures: 2 signed, 2 needed (any 2 of 3)", "threshold met — press f to finalize", "✓ bob")
}

// TestCollectFinalize: f finalizes a met ceremony once; with no drop folder
// the KEL opens in the share screen.
func TestCollectFinalize(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob", "carol"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice", "bob")
	f := &fakeBackend{Snap: x.snapshot(false, true)}
	f.OnFinalize = func(id string) (Outgoing, error) {
		return Outgoing{Title: "kel of acme", Name: "acme.kel", Data: []byte("kel bytes")}, nil
	}
	_, s := collectOf(f, x.c.ID())
	_, out := drive(s, keys("f")...)
	if n := count(f.Called(), "Finalize "+x.c.ID()); n != 1 {
		t.Fatalf("Finalize called %d times: %v", n, f.Called())
	}
	if !pushed[*shareScreen](out) {
		t.Errorf("no share screen after finalizing without a drop folder: %#v", out)
	}
	if !hasInfo(out, "finalized") {
		t.Errorf("no info about the KEL: %#v", out)
	}

	// With a drop folder: say where it went, no share screen.
	f.OnFinalize = func(string) (Outgoing, error) {
		return Outgoing{Title: "kel", Data: []byte("k"), Dropped: "/drop/acme.kel"}, nil
	}
	_, out = drive(s, keys("f")...)
	if pushed[*shareScreen](out) || !hasInfo(out, "/drop/acme.kel") {
		t.Errorf("dropped KEL: %#v", out)
	}
}

// TestCollectWeighted: per-clause sums of a weighted threshold.
func TestCollectWeighted(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob", "carol"), fxWeighted(t, []string{"1/2", "1/2", "1/2"}), kel.IntThreshold(2)).sign("alice")
	f := &fakeBackend{Snap: x.snapshot(true, false)}
	_, s := collectOf(f, x.c.ID())
	v := s.View()
	// One signature of weight 1/2 in the only clause.
	hasAll(t, "view", v, "clause 1: 1/2 of 1 (alice) — not met", "0 of 1 clauses met")
	x.sign("carol")
	f.Snap = x.snapshot(true, false)
	c := testCommon(f)
	s = newCollectScreen(c, x.c.ID())
	v = s.View()
	hasAll(t, "view", v, "clause 1: 1 of 1 (alice, carol) — met", "threshold met — press f to finalize")
}

// rotationFixture: alice, bob and carol incepted 2 of 3 (nt 2); the
// rotation reveals alice's and bob's committed keys (kt 2 of 2), carol
// stays in reserve.
func rotationFixture(t *testing.T) *fx {
	ms := fxMembers("alice", "bob", "carol")
	x := fxIncept(t, ms, kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice", "bob")
	return x.rotate([]ceremony.Contribution{ms[0].rotateTo(), ms[1].rotateTo(), ms[2].reserve()}, kel.IntThreshold(2), kel.IntThreshold(2))
}

// TestCollectRotation: the second condition, the prior next threshold
// over the digests the signatures reveal, has its own line.
func TestCollectRotation(t *testing.T) {
	x := rotationFixture(t).sign("alice")
	f := &fakeBackend{Snap: x.snapshot(true, false)}
	c, s := collectOf(f, x.c.ID())
	v := s.View()
	hasAll(t, "view", v,
		"signatures: 1 signed, 2 needed (all of alice, bob)",
		"prior next keys: 1 revealed, 2 needed (any 2 of 3)",
		"reveals prior n[0]",
		"not signing (reserve)",
	)
	requireTeaGolden(t, c, s)
}

// TestCollectSign: s reviews and signs when this device can sign, and
// says why not otherwise.
func TestCollectSign(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob", "carol"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice")
	f := &fakeBackend{Snap: x.snapshot(true, false)}
	_, s := collectOf(f, x.c.ID())
	_, out := drive(s, keys("s")...)
	if !pushed[*reviewScreen](out) {
		t.Fatalf("s did not open the review: %#v", out)
	}
	// The root starts a screen it pushes.
	for _, msg := range out {
		if p, ok := msg.(pushMsg); ok {
			runCmd(startCmd(p.s))
		}
	}
	if !slices.Contains(f.Called(), "Review "+x.c.Proposal().ID) {
		t.Errorf("the review was not started: %v", f.Called())
	}

	f2 := &fakeBackend{Snap: x.snapshot(false, true)}
	_, s2 := collectOf(f2, x.c.ID())
	_, out = drive(s2, keys("s")...)
	if pushed[*reviewScreen](out) || !hasInfo(out, "already signed") {
		t.Errorf("s after signing: %#v", out)
	}
}

// TestCollectExport: e then a choice exports that packet and shares it.
func TestCollectExport(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice")
	f := &fakeBackend{Snap: x.snapshot(false, true)}
	f.OnExport = func(id string, what ExportKind) (Outgoing, error) {
		return Outgoing{Title: string(what), Name: "x", Data: []byte("data")}, nil
	}
	_, s := collectOf(f, x.c.ID())
	s, _ = drive(s, keys("e")...)
	if !s.Typing() || !strings.Contains(s.View(), "Export what?") {
		t.Fatalf("e did not open the menu:\n%s", s.View())
	}
	s, out := drive(s, keys("2")...)
	if !slices.Contains(f.Called(), "Export "+x.c.ID()+" signatures") || !pushed[*shareScreen](out) {
		t.Errorf("export signatures: %v %#v", f.Called(), out)
	}
	// esc closes the menu without exporting.
	n := len(f.Called())
	s, _ = drive(s, keys("e", "esc")...)
	if s.Typing() || len(f.Called()) != n {
		t.Errorf("esc in the menu: typing %v, calls %v", s.Typing(), f.Called()[n:])
	}
}

// TestCollectAbort: x asks for a reason, then a confirmation; only y
// aborts.
func TestCollectAbort(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob"), kel.IntThreshold(2), kel.IntThreshold(2))
	f := &fakeBackend{Snap: x.snapshot(true, false)}
	f.OnAbort = func(id, reason string) error { return nil }
	_, s := collectOf(f, x.c.ID())

	msgs := append(keys("x"), typeText("lost quorum")...)
	s, _ = drive(s, append(msgs, keys("enter", "n")...)...)
	if count(f.Called(), "Abort "+x.c.ID()+" lost quorum") != 0 {
		t.Fatal("n aborted")
	}
	s, out := drive(s, append(msgs, keys("enter")...)...)
	if !strings.Contains(s.View(), "for good?") {
		t.Fatalf("no confirmation:\n%s", s.View())
	}
	_, out = drive(s, keys("y")...)
	if count(f.Called(), "Abort "+x.c.ID()+" lost quorum") != 1 || !hasInfo(out, "aborted") {
		t.Errorf("y: %v %#v", f.Called(), out)
	}
}

// TestCollectImportAndLog: i opens the import screen for signatures, L
// the ceremony's log.
func TestCollectImportAndLog(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob"), kel.IntThreshold(2), kel.IntThreshold(2))
	f := &fakeBackend{Snap: x.snapshot(true, false)}
	_, s := collectOf(f, x.c.ID())
	_, out := drive(s, keys("i")...)
	if !pushed[*receiveScreen](out) {
		t.Errorf("i: %#v", out)
	}
	_, out = drive(s, keys("L")...)
	if !pushed[*logScreen](out) {
		t.Errorf("L: %#v", out)
	}
}

// group70 is a 70-member group's inception with kt, 20 members signed.
func group70(tb testing.TB, kt kel.Threshold) *fx {
	labels := make([]string, 70)
	for i := range labels {
		labels[i] = fmt.Sprintf("member%02d", i+1)
	}
	x := fxIncept(tb, fxMembers(labels...), kt, kel.IntThreshold(36))
	x.sign(labels[:20]...)
	return x
}

// TestCollect70: a 70-member roster fits 80x24 and scrolls to its last
// member.
func TestCollect70(t *testing.T) {
	x := group70(t, kel.IntThreshold(36))
	f := &fakeBackend{Snap: x.snapshot(true, false)}
	c, s := collectOf(f, x.c.ID())
	v := screenView(c, s)
	assertFits(t, v, 80, 24)
	if !strings.Contains(v, "signatures: 20 signed, 36 needed (any 36 of 70)") || !strings.Contains(v, "member01") {
		t.Errorf("70 members:\n%s", v)
	}
	if strings.Contains(v, "member70") {
		t.Errorf("member70 shows before scrolling:\n%s", v)
	}
	down := make([]string, 80)
	for i := range down {
		down[i] = "down"
	}
	s, _ = drive(s, keys(down...)...)
	v = screenView(c, s)
	assertFits(t, v, 80, 24)
	if !strings.Contains(v, "member70") || strings.Contains(v, "member01 ") {
		t.Errorf("after scrolling down:\n%s", v)
	}
	for _, size := range [][2]int{{60, 16}, {120, 40}, {40, 12}} {
		c.width, c.height = size[0], size[1]
		assertFits(t, screenView(c, s), size[0], size[1])
	}
}

// TestCollectGolden is the collect screen at 80x24: 2 of 3, alice signed.
func TestCollectGolden(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob", "carol"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice")
	f := &fakeBackend{Snap: x.snapshot(true, false)}
	c, s := collectOf(f, x.c.ID())
	requireTeaGolden(t, c, s)
}

// BenchmarkCollectView70 renders the collect screen of a 70-member group:
// 36 of 70, and a weighted threshold of two clauses of 35 (weight 1/18
// each), with 20 signatures.
func BenchmarkCollectView70(b *testing.B) {
	for _, bc := range []struct {
		name string
		kt   kel.Threshold
	}{
		{"int36of70", kel.IntThreshold(36)},
		{"weighted", fxWeighted(b, fxRepeat("1/18", 35), fxRepeat("1/18", 35))},
	} {
		x := group70(b, bc.kt)
		f := &fakeBackend{Snap: x.snapshot(true, false)}
		_, s := collectOf(f, x.c.ID())
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = s.View()
			}
		})
	}
}

// count counts the calls equal to call.
func count(calls []string, call string) int {
	n := 0
	for _, c := range calls {
		if c == call {
			n++
		}
	}
	return n
}

// pushed reports whether msgs push (or replace with) a screen of type T.
func pushed[T screen](msgs []tea.Msg) bool {
	for _, m := range msgs {
		var s screen
		switch m := m.(type) {
		case pushMsg:
			s = m.s
		case replaceMsg:
			s = m.s
		default:
			continue
		}
		if _, ok := s.(T); ok {
			return true
		}
	}
	return false
}

// replaced is the screen the last replace of msgs puts on top, if it is a
// T.
func replaced[T screen](msgs []tea.Msg) (T, bool) {
	var s screen
	for _, m := range msgs {
		if r, ok := m.(replaceMsg); ok {
			s = r.s
		}
	}
	t, ok := s.(T)
	return t, ok
}

// hasInfo reports whether an info or error message contains text.
func hasInfo(msgs []tea.Msg, text string) bool {
	for _, m := range msgs {
		switch m := m.(type) {
		case infoMsg:
			if strings.Contains(m.text, text) {
				return true
			}
		case errMsg:
			if strings.Contains(m.err.Error(), text) {
				return true
			}
		}
	}
	return false
}

// TestCollectReviewSignProgram runs the real program: home opens the
// ceremony, s opens and loads the review, s y signs, and the collect
// screen comes back with bob's signature counted.
func TestCollectReviewSignProgram(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob", "carol"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice")
	f := &fakeBackend{Snap: x.snapshot(true, false)}
	f.Snap.Members = []MemberInfo{{Alias: "bob"}}
	ri := x.reviewInfo("bob")
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	f.OnSign = func(string) (Outgoing, error) {
		x.sign("bob")
		f.mu.Lock()
		f.Snap.Ceremonies = x.snapshot(false, true).Ceremonies
		f.mu.Unlock()
		return Outgoing{Title: "signature of bob", Name: "bob.sig", Data: []byte("sig"), Dropped: "/drop/bob.sig"}, nil
	}
	tm := startModel(t, f, "inception")
	tm.Send(keyMsg("enter"))
	waitScreen(t, tm, "1 signed, 2 needed (any 2 of 3)")
	tm.Send(keyMsg("s"))
	waitScreen(t, tm, "Read the six words aloud")
	tm.Send(keyMsg("s"))
	waitScreen(t, tm, "sign as bob at k[1]?")
	tm.Send(keyMsg("y"))
	waitScreen(t, tm, "threshold met")
	v := finalView(t, tm)
	if !strings.Contains(v, "signatures: 2 signed, 2 needed (any 2 of 3)") || !strings.Contains(v, "/drop/bob.sig") {
		t.Errorf("final view:\n%s", v)
	}
	if n := count(f.Called(), "Sign "+ri.ProposalID); n != 1 {
		t.Errorf("Sign called %d times", n)
	}
}

// TestCollectFinalizedGolden: all three of a 2-of-3 group signed and the
// event is final: the screen counts the signatures the event carries ("3
// signed, 2 needed") and explains the codes.
func TestCollectFinalizedGolden(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob", "carol"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice", "bob", "carol")
	if _, err := x.c.Finalize(); err != nil {
		t.Fatal(err)
	}
	f := &fakeBackend{Snap: x.snapshot(false, true)}
	c, s := collectOf(f, x.c.ID())
	// Two of three signed: carol did not sign, and waits for nothing.
	y := fxIncept(t, fxMembers("alice", "bob", "carol"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice", "bob")
	if _, err := y.c.Finalize(); err != nil {
		t.Fatal(err)
	}
	_, two := collectOf(&fakeBackend{Snap: y.snapshot(false, true)}, y.c.ID())
	hasAll(t, "2 of 3", two.View(), "members: 2 of 3 signers signed · 1 did not sign", "– carol    k[2]   did not sign")
	if strings.Contains(two.View(), "waiting") {
		t.Errorf("a finalized ceremony waits:\n%s", two.View())
	}
	v := s.View()
	hasAll(t, "view", v, "signatures: 3 signed, 2 needed (any 2 of 3)", "members: 3 of 3 signers signed", "codes: B = current only", "finalized")
	if strings.Contains(v, "waiting") || strings.Contains(v, "not met") {
		t.Errorf("a finalized ceremony still waits:\n%s", v)
	}
	requireTeaGolden(t, c, s)
}

// TestCollectWeightsGolden: a weighted threshold shows each member's
// weight; the rotation's legend explains its A code.
func TestCollectWeightsGolden(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob", "carol"), fxWeighted(t, []string{"1/2", "1/4", "1/4"}), kel.IntThreshold(2)).sign("alice", "carol")
	f := &fakeBackend{Snap: x.snapshot(true, false)}
	c, s := collectOf(f, x.c.ID())
	hasAll(t, "view", s.View(), "alice    k[0] w 1/2", "bob      k[1] w 1/4", "carol    k[2] w 1/4", "clause 1: 3/4 of 1 (alice, carol) — not met")
	requireTeaGolden(t, c, s)

	r := rotationFixture(t).sign("alice")
	f = &fakeBackend{Snap: r.snapshot(true, false)}
	_, s = collectOf(f, r.c.ID())
	hasAll(t, "rotation", s.View(), "codes: A = signed with both lists (keys and prior next)")
}

// TestCollectStaleCard: a proposal built from a stale card says, on the
// proposer's collect screen, that nobody can sign for that member.
func TestCollectStaleCard(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice")
	f := &fakeBackend{Snap: x.snapshot(false, true)}
	f.Snap.Ceremonies[0].Stale = []string{"bob's card is stale: bob rotated at sn 3 of acme (the card's next key was revealed there), so bob no longer signs with the card's key: nobody can review this proposal for bob; abort it (x) and propose again with bob's new card"}
	c, s := collectOf(f, x.c.ID())
	v := screenView(c, s)
	assertFits(t, v, 80, 24)
	hasAll(t, "view", strings.Join(strings.Fields(v), " "), "✗ bob's card is stale: bob rotated at sn 3 of acme", "propose again with bob's new card")
	requireTeaGolden(t, c, s)
}
