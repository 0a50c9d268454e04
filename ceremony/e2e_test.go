package ceremony

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/keremony/keremony/kel"
)

// End-to-end ceremonies between simulated devices, each with its own store.
// Devices exchange only bytes: proposals, signature envelopes (qb64
// signatures) and finalized CESR messages.

// Scenario 1: 1-of-1 inception and rotation.
func TestE2ESingleSig(t *testing.T) {
	clk := newClock()
	solo := newMember("solo", 4)
	d := newDevice(t, solo, clk)
	p, err := ProposeInception(InceptionParams{Members: []Card{solo.card(0)}, Kt: kel.IntThreshold(1), Nt: kel.IntThreshold(1)})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := d.propose(p)
	rev := d.review(c, 0)
	if rev.Index != 0 || !rev.NextCommitted || rev.Label != "solo" {
		t.Errorf("review %+v", rev)
	}
	d.sign(c, rev, 0)
	if sig := c.Signatures()[0]; sig.Code != kel.CodeSigCurrent || sig.Index != 0 {
		t.Errorf("inception signature %s index %d, want B at 0", sig.Code, sig.Index)
	}
	icp := mustFinalize(t, c)
	prefix := c.Event().Prefix()
	if prefix != c.SAID() {
		t.Errorf("prefix %s is not the said %s", prefix, c.SAID())
	}
	wantKeyState(t, d, prefix, 0, keysOf(solo.keys[0]), digsOf(solo.keys[1]))

	st, _ := d.store.State(prefix)
	rp, err := ProposeRotation(st, signedParts(RotationParams{Prefix: prefix, Members: []Contribution{solo.rotate(1)}, Kt: kel.IntThreshold(1), Nt: kel.IntThreshold(1)}))
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := d.propose(rp)
	rrev := d.review(rc, 1)
	if rrev.Ondex != 0 || rrev.Diff == nil || !slices.Equal(rrev.Diff.AddedKeys, keysOf(solo.keys[1])) || !slices.Equal(rrev.Diff.RemovedKeys, keysOf(solo.keys[0])) {
		t.Errorf("rotation review %+v diff %+v", rrev, rrev.Diff)
	}
	d.sign(rc, rrev, 1)
	if sig := rc.Signatures()[0]; sig.Code != kel.CodeSigBoth || sig.Ondex != 0 {
		t.Errorf("rotation signature %s ondex %d, want A", sig.Code, sig.Ondex)
	}
	rot := mustFinalize(t, rc)
	wantKeyState(t, d, prefix, 1, keysOf(solo.keys[1]), digsOf(solo.keys[2]))
	ck, err := rc.KEL()
	if got := mustExport(t, d.store, prefix); err != nil || !bytes.Equal(got, append(slices.Clone(icp), rot...)) || !bytes.Equal(got, ck) {
		t.Errorf("export is not the two finalized messages (%v)", err)
	}
	// A restart replays the KEL.
	d.reopen()
	wantKeyState(t, d, prefix, 1, keysOf(solo.keys[1]), digsOf(solo.keys[2]))
	if rep := kel.Replay(mustExport(t, d.store, prefix)); !rep.OK() {
		t.Errorf("export does not replay: %+v", rep)
	}
}

// group is a 2-of-2 group incepted by devices a and b.
type group struct {
	a, b   *device
	prefix string
}

// incept2of2 runs the 2-of-2 inception: a proposes, b reviews and signs, a
// collects and finalizes, b imports.
func incept2of2(t *testing.T, clk *clock) group {
	t.Helper()
	alice, bob := newMember("alice", 5), newMember("bob", 5)
	a, b := newDevice(t, alice, clk), newDevice(t, bob, clk)
	p, err := ProposeInception(InceptionParams{Members: []Card{alice.card(0), bob.card(0)}, Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)})
	if err != nil {
		t.Fatal(err)
	}
	ca, wire := a.propose(p)
	cb, revB := b.join(wire, 0)
	if revB.Index != 1 || revB.Label != "bob" || !revB.NextCommitted || revB.Kt != `"2"` {
		t.Errorf("bob's review %+v", revB)
	}
	if in := a.deliver(b.sign(cb, revB, 0)); in.Outcome != OutcomeAdded || in.Index != 1 || in.Progress.Met {
		t.Errorf("bob's signature at alice: %+v", in)
	}
	if pr := ca.Progress(); pr.Met || slot(t, pr, "alice").Status != SlotWaiting || slot(t, pr, "bob").Status != SlotSigned {
		t.Errorf("progress after bob %+v", pr.Summary())
	}
	if _, err := ca.Finalize(); !errors.Is(err, ErrNotReady) {
		t.Errorf("finalize with one of two: %v", err)
	}
	a.sign(ca, a.review(ca, 0), 0)
	for i, s := range ca.Signatures() {
		if s.Code != kel.CodeSigCurrent || s.Index != i {
			t.Errorf("signature %d: %s at %d, want B", i, s.Code, s.Index)
		}
	}
	final := mustFinalize(t, ca)
	b.importFinal(final, cb)
	g := group{a: a, b: b, prefix: ca.Event().Prefix()}
	for _, d := range []*device{a, b} {
		wantKeyState(t, d, g.prefix, 0, keysOf(alice.keys[0], bob.keys[0]), digsOf(alice.keys[1], bob.keys[1]))
	}
	return g
}

// Scenario 2: 2-of-2 inception signed by both.
func TestE2ETwoOfTwoInception(t *testing.T) {
	g := incept2of2(t, newClock())
	if !bytes.Equal(mustExport(t, g.a.store, g.prefix), mustExport(t, g.b.store, g.prefix)) {
		t.Errorf("devices hold different KELs")
	}
	// Both ceremonies are closed and on record.
	for _, d := range []*device{g.a, g.b} {
		cs := d.store.Ceremonies()
		if len(cs) != 1 || cs[0].State() != StateFinalized || len(cs[0].Signatures()) != 2 && d == g.a {
			t.Errorf("%s: ceremonies %v", d.name, cs)
		}
		d.reopen()
		if cs := d.store.Ceremonies(); len(cs) != 1 || cs[0].State() != StateFinalized {
			t.Errorf("%s after restart: %v", d.name, cs)
		}
	}
}

// rotate2of2 rotates the group with both members revealing keys[i].
func rotate2of2(t *testing.T, g group, i int, extra ...Contribution) (*Ceremony, *Ceremony, *Review) {
	t.Helper()
	st, _ := g.a.store.State(g.prefix)
	members := append([]Contribution{g.a.m.rotate(i), g.b.m.rotate(i)}, extra...)
	p, err := ProposeRotation(st, signedParts(RotationParams{Prefix: g.prefix, Members: members, Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)}))
	if err != nil {
		t.Fatal(err)
	}
	ca, wire := g.a.propose(p)
	cb, revB := g.b.join(wire, i)
	return ca, cb, revB
}

// Scenario 3: AID A (2-of-2) anchors AID C's inception with an ixn event
// seal; a verifier links them.
func TestE2EAnchorOtherInception(t *testing.T) {
	clk := newClock()
	g := incept2of2(t, clk)
	carol := newMember("carol", 3)
	dc := newDevice(t, carol, clk)
	pc, err := ProposeInception(InceptionParams{Members: []Card{carol.card(0)}, Kt: kel.IntThreshold(1), Nt: kel.IntThreshold(1)})
	if err != nil {
		t.Fatal(err)
	}
	cc, _ := dc.propose(pc)
	dc.sign(cc, dc.review(cc, 0), 0)
	mustFinalize(t, cc)
	icpC := cc.Event()
	doc := []byte("minutes of the meeting that approved carol")

	st, _ := g.a.store.State(g.prefix)
	p, err := ProposeAnchoring(st, AnchoringParams{Prefix: g.prefix,
		Seals:   []kel.Seal{kel.EventSeal(icpC.Prefix(), 0, icpC.SAID()), kel.DigestSeal(doc)},
		Members: []Card{g.a.m.card(0), g.b.m.card(0)}})
	if err != nil {
		t.Fatal(err)
	}
	ca, wire := g.a.propose(p)
	// Bob reviews with the document but without C's KEL: one warning.
	pp, _ := ParseProposal(wire)
	me := g.b.m.reviewer(0)
	me.Documents = map[string][]byte{"minutes.txt": doc}
	revB, err := g.b.store.Review(pp, me)
	if err != nil {
		t.Fatal(err)
	}
	if len(revB.Seals) != 2 || revB.Seals[0].Known || !revB.Seals[1].Known || !strings.Contains(revB.Seals[1].Text, "minutes.txt") {
		t.Errorf("seals %+v", revB.Seals)
	}
	if len(revB.Warnings) != 1 || !strings.Contains(revB.Warnings[0], "does not hold event 0 of "+icpC.Prefix()) {
		t.Errorf("warnings %q", revB.Warnings)
	}
	// With C's KEL imported, the seal is checked.
	if _, err := g.b.store.ImportKEL(mustExport(t, dc.store, icpC.Prefix())); err != nil {
		t.Fatal(err)
	}
	if revB, err = g.b.store.Review(pp, me); err != nil || !revB.Seals[0].Known || len(revB.Warnings) != 0 {
		t.Fatalf("review with C known: %v %+v", err, revB)
	}
	cb, err := g.b.store.Create(pp, clk.now.Add(1e12))
	if err != nil || cb.Open() != nil {
		t.Fatal(err)
	}
	g.a.deliver(g.b.sign(cb, revB, 0))
	g.a.sign(ca, g.a.review(ca, 0), 0)
	for _, s := range ca.Signatures() {
		if s.Code != kel.CodeSigCurrent {
			t.Errorf("ixn signature code %s, want B", s.Code)
		}
	}
	final := mustFinalize(t, ca)
	g.b.importFinal(final, cb)

	v := kel.NewVerifier()
	for _, s := range [][]byte{mustExport(t, dc.store, icpC.Prefix()), mustExport(t, g.a.store, g.prefix)} {
		if res, err := v.AcceptStream(s); err != nil || slices.ContainsFunc(res, func(r kel.Result) bool { return !r.OK() }) {
			t.Fatalf("replay: %v %+v", err, res)
		}
	}
	ref, ok := v.AnchorOf(icpC.Prefix(), 0, icpC.SAID())
	if want := (kel.AnchorRef{Prefix: g.prefix, Sn: 1, SAID: ca.SAID()}); !ok || ref != want {
		t.Errorf("AnchorOf = %+v %v, want %+v", ref, ok, want)
	}
	if ref, ok := mustVerifier(t, g.b.store).AnchorOf(icpC.Prefix(), 0, icpC.SAID()); !ok || ref.SAID != ca.SAID() {
		t.Errorf("bob's store does not link the anchor: %+v", ref)
	}
}

// Scenario 4: 2-of-2 rotation signed by both.
func TestE2ETwoOfTwoRotation(t *testing.T) {
	g := incept2of2(t, newClock())
	ca, cb, revB := rotate2of2(t, g, 1)
	if d := revB.Diff; d == nil || d.KtBefore != `"2"` || d.KtAfter != `"2"` || len(d.AddedKeys) != 2 || len(d.RemovedKeys) != 2 ||
		len(d.Members) != 2 || !strings.Contains(d.Members[1], "bob reveals the key committed at prior n[1]") {
		t.Errorf("diff %+v", revB.Diff)
	}
	if revB.Ondex != 1 || revB.Index != 1 || !revB.NextCommitted || len(revB.Warnings) != 0 {
		t.Errorf("bob's review %+v", revB)
	}
	g.a.deliver(g.b.sign(cb, revB, 1))
	g.a.sign(ca, g.a.review(ca, 1), 1)
	for i, s := range ca.Signatures() {
		if s.Code != kel.CodeSigBoth || s.Index != i || s.Ondex != i {
			t.Errorf("rotation signature %d: %s %d/%d, want A", i, s.Code, s.Index, s.Ondex)
		}
	}
	pr := ca.Progress()
	if !pr.Met || !pr.Rotation || !slices.Equal(pr.Exposed, []int{0, 1}) || !pr.PriorNt.Met {
		t.Errorf("progress %+v", pr)
	}
	g.b.importFinal(mustFinalize(t, ca), cb)
	for _, d := range []*device{g.a, g.b} {
		wantKeyState(t, d, g.prefix, 1, keysOf(g.a.m.keys[1], g.b.m.keys[1]), digsOf(g.a.m.keys[2], g.b.m.keys[2]))
	}
}

// Scenario 5: a rotation signed by one of two cannot finalize.
func TestE2ERotationOneOfTwo(t *testing.T) {
	g := incept2of2(t, newClock())
	ca, cb, _ := rotate2of2(t, g, 1)
	g.a.sign(ca, g.a.review(ca, 1), 1)
	pr := ca.Progress()
	if pr.Met || pr.Kt.Met || pr.PriorNt.Met || pr.Kt.Have != 1 || pr.PriorNt.Have != 1 || !slices.Equal(pr.Exposed, []int{0}) {
		t.Errorf("progress %+v", pr)
	}
	if s := slot(t, pr, "bob"); s.Status != SlotWaiting {
		t.Errorf("bob's slot %+v", s)
	}
	if s := slot(t, pr, "alice"); s.Status != SlotSigned || !s.Exposes || s.Code != "A" {
		t.Errorf("alice's slot %+v", s)
	}
	if !strings.Contains(pr.Missing, "signing threshold") || !strings.Contains(pr.Missing, "prior next threshold") || !strings.Contains(pr.Missing, "waiting for bob") {
		t.Errorf("missing %q", pr.Missing)
	}
	_, err := ca.Finalize()
	if !errors.Is(err, ErrNotReady) {
		t.Fatalf("finalize: %v", err)
	}
	wantKeyState(t, g.a, g.prefix, 0, keysOf(g.a.m.keys[0], g.b.m.keys[0]), digsOf(g.a.m.keys[1], g.b.m.keys[1]))
	// Bob never signs; the ceremony is aborted and stays on record.
	if err := ca.Abort("bob is unreachable"); err != nil {
		t.Fatal(err)
	}
	if err := cb.Abort("alice aborted"); err != nil {
		t.Fatal(err)
	}
	g.a.reopen()
	c, err := g.a.store.Ceremony(ca.ID())
	if err != nil || c.State() != StateAborted || c.AbortReason() != "bob is unreachable" || len(c.Signatures()) != 1 {
		t.Fatalf("aborted ceremony after restart: %v %+v", err, c)
	}
	if tr := c.Transcript(); tr[len(tr)-1].Kind != EntryAborted {
		t.Errorf("transcript %v", tr)
	}
}

// Scenario 6: 2-of-2 grows into 2-of-3 through the next commitment.
func TestE2EGrowTo2of3(t *testing.T) {
	clk := newClock()
	g := incept2of2(t, clk)
	carol := newMember("carol", 3)
	dc := newDevice(t, carol, clk)
	if _, err := dc.store.ImportKEL(mustExport(t, g.a.store, g.prefix)); err != nil {
		t.Fatal(err)
	}
	// Round one: contributions; carol only commits her first key's digest.
	st, _ := g.a.store.State(g.prefix)
	joinCarol := Contribution{Label: "carol", Role: RoleNextOnly, Next: carol.keys[0].Dig()}
	for _, c := range []Contribution{g.a.m.rotate(1), g.b.m.rotate(1), joinCarol} {
		if err := CheckContribution(st, c); err != nil {
			t.Fatalf("contribution %+v: %v", c, err)
		}
	}
	p, err := ProposeRotation(st, signedParts(RotationParams{Prefix: g.prefix, Members: []Contribution{g.a.m.rotate(1), g.b.m.rotate(1), joinCarol},
		Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)}))
	if err != nil {
		t.Fatal(err)
	}
	ca, wire := g.a.propose(p)
	cb, revB := g.b.join(wire, 1)
	// Carol reviews: she does not sign, but she is committed.
	pc, _ := ParseProposal(wire)
	revC, err := dc.store.Review(pc, Reviewer{Key: carol.keys[0].Key(), Next: carol.keys[0].Dig()})
	if err != nil {
		t.Fatal(err)
	}
	if revC.Index != -1 || !revC.NextCommitted || revC.Label != "carol" || !strings.Contains(revC.NextText, "will be able") {
		t.Errorf("carol's review %+v", revC)
	}
	if _, err := mustCreate(t, dc, pc).SignLocal(carol.keys[0], revC); !errors.Is(err, ErrNotSigner) {
		t.Errorf("carol signs rot1: %v", err)
	}
	g.a.deliver(g.b.sign(cb, revB, 1))
	g.a.sign(ca, g.a.review(ca, 1), 1)
	rot1 := mustFinalize(t, ca)
	g.b.importFinal(rot1, cb)
	dc.importFinal(rot1, nil)
	wantKeyState(t, dc, g.prefix, 1, keysOf(g.a.m.keys[1], g.b.m.keys[1]), digsOf(g.a.m.keys[2], g.b.m.keys[2], carol.keys[0]))

	// rot2: all three reveal; bob and carol sign, alice is away.
	st, _ = g.a.store.State(g.prefix)
	p2, err := ProposeRotation(st, signedParts(RotationParams{Prefix: g.prefix, Members: []Contribution{g.a.m.rotate(2), g.b.m.rotate(2), carol.rotate(0)},
		Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)}))
	if err != nil {
		t.Fatal(err)
	}
	cb2, wire2 := g.b.propose(p2)
	cc2, revC2 := dc.join(wire2, 0)
	if revC2.Index != 2 || revC2.Ondex != 2 {
		t.Errorf("carol's rot2 review %+v", revC2)
	}
	g.b.deliver(dc.sign(cc2, revC2, 0))
	g.b.sign(cb2, g.b.review(cb2, 2), 2)
	if s := cb2.Signatures(); len(s) != 2 || s[1].Code != kel.CodeSigBoth || s[1].Index != 2 {
		t.Errorf("signatures %+v", s)
	}
	if pr := cb2.Progress(); !pr.Met || !slices.Equal(pr.Exposed, []int{1, 2}) || slot(t, pr, "alice").Status != SlotWaiting {
		t.Errorf("progress %+v", pr.Summary())
	}
	rot2 := mustFinalize(t, cb2)
	dc.importFinal(rot2, cc2)
	g.a.importFinal(rot2, nil)
	for _, d := range []*device{g.a, g.b, dc} {
		wantKeyState(t, d, g.prefix, 2, keysOf(g.a.m.keys[2], g.b.m.keys[2], carol.keys[0]), digsOf(g.a.m.keys[3], g.b.m.keys[3], carol.keys[1]))
	}
	// Now any two of three anchor: alice and carol.
	st, _ = dc.store.State(g.prefix)
	p3, err := ProposeAnchoring(st, AnchoringParams{Prefix: g.prefix, Seals: []kel.Seal{kel.DigestSeal([]byte("first act of the three"))}})
	if err != nil {
		t.Fatal(err)
	}
	cc3, wire3 := dc.propose(p3)
	ca3, revA3 := g.a.join(wire3, 2)
	if revA3.Label != "#0" || revA3.Index != 0 {
		t.Errorf("alice's anchoring review %+v", revA3)
	}
	dc.deliver(g.a.sign(ca3, revA3, 2))
	dc.sign(cc3, dc.review(cc3, 0), 0)
	g.a.importFinal(mustFinalize(t, cc3), ca3)
}

func mustCreate(t *testing.T, d *device, p Proposal) *Ceremony {
	t.Helper()
	c, err := d.store.Create(p, d.clock.Now().Add(3600e9))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	return c
}

// Weighted thresholds: ["1/2","1/4","1/4"].
func TestE2EWeighted(t *testing.T) {
	clk := newClock()
	ms := []*member{newMember("ann", 3), newMember("ben", 3), newMember("cat", 3)}
	devs := []*device{newDevice(t, ms[0], clk), newDevice(t, ms[1], clk), newDevice(t, ms[2], clk)}
	w := mustWeighted(t, "1/2", "1/4", "1/4")
	p, err := ProposeInception(InceptionParams{Members: []Card{ms[0].card(0), ms[1].card(0), ms[2].card(0)}, Kt: w, Nt: w})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(p.Event), `"kt":["1/2","1/4","1/4"]`) {
		t.Fatalf("kt not written flat: %s", p.Event)
	}
	c0, wire := devs[0].propose(p)
	var cs []*Ceremony
	var envs []delivery
	for i := 1; i < 3; i++ {
		c, rev := devs[i].join(wire, 0)
		if !strings.Contains(rev.KtText, "ann") {
			t.Errorf("kt in words: %q", rev.KtText)
		}
		cs = append(cs, c)
		envs = append(envs, devs[i].sign(c, rev, 0))
	}
	// ben and cat: 1/4 + 1/4.
	devs[0].deliver(envs[0])
	in := devs[0].deliver(envs[1])
	if in.Progress.Met || len(in.Progress.Kt.Clauses) != 1 || in.Progress.Kt.Clauses[0].Sum.RatString() != "1/2" {
		t.Errorf("ben+cat progress %+v", in.Progress.Kt)
	}
	if !strings.Contains(in.Progress.Missing, "clause 1 sums to 1/2") {
		t.Errorf("missing %q", in.Progress.Missing)
	}
	if _, err := c0.Finalize(); !errors.Is(err, ErrNotReady) {
		t.Errorf("finalize at 1/2: %v", err)
	}
	devs[0].sign(c0, devs[0].review(c0, 0), 0)
	if pr := c0.Progress(); !pr.Met || pr.Kt.Clauses[0].Sum.RatString() != "1" {
		t.Errorf("all three: %+v", pr.Kt)
	}
	final := mustFinalize(t, c0)
	for i, c := range cs {
		devs[i+1].importFinal(final, c)
	}
	st := wantKeyState(t, devs[2], c0.Event().Prefix(), 0, keysOf(ms[0].keys[0], ms[1].keys[0], ms[2].keys[0]), digsOf(ms[0].keys[1], ms[1].keys[1], ms[2].keys[1]))
	if st.Kt.String() != `["1/2","1/4","1/4"]` {
		t.Errorf("kt %s", st.Kt)
	}

	// Weighted rotation: ann alone (1/2) meets neither; ann and ben do.
	rp, err := ProposeRotation(st, signedParts(RotationParams{Prefix: st.Prefix, Members: []Contribution{ms[0].rotate(1), ms[1].rotate(1), ms[2].rotate(1)}, Kt: w, Nt: w}))
	if err != nil {
		t.Fatal(err)
	}
	rc, rwire := devs[0].propose(rp)
	devs[0].sign(rc, devs[0].review(rc, 1), 1)
	if pr := rc.Progress(); pr.Met || pr.Kt.Clauses[0].Sum.RatString() != "1/2" || pr.PriorNt.Clauses[0].Sum.RatString() != "1/2" {
		t.Errorf("ann alone: %+v %+v", pr.Kt, pr.PriorNt)
	}
	rb, rrev := devs[1].join(rwire, 1)
	devs[0].deliver(devs[1].sign(rb, rrev, 1))
	if pr := rc.Progress(); pr.Met {
		t.Errorf("ann and ben (3/4) met the threshold")
	}
	rcat, rrevc := devs[2].join(rwire, 1)
	devs[0].deliver(devs[2].sign(rcat, rrevc, 1))
	devs[1].importFinal(mustFinalize(t, rc), rb)
}

// A partial rotation with a reserve member, who returns later at another
// position (2A codes).
func TestE2EPartialRotationReserve(t *testing.T) {
	clk := newClock()
	alice, bob, carol := newMember("alice", 5), newMember("bob", 5), newMember("carol", 4)
	a, b, c := newDevice(t, alice, clk), newDevice(t, bob, clk), newDevice(t, carol, clk)
	p, err := ProposeInception(InceptionParams{Members: []Card{alice.card(0), bob.card(0), carol.card(0)}, Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)})
	if err != nil {
		t.Fatal(err)
	}
	ca, wire := a.propose(p)
	cb, revB := b.join(wire, 0)
	a.deliver(b.sign(cb, revB, 0))
	a.sign(ca, a.review(ca, 0), 0)
	icp := mustFinalize(t, ca)
	prefix := ca.Event().Prefix()
	b.importFinal(icp, cb)
	c.importFinal(icp, nil)

	// rot1: alice and bob rotate; carol stays in reserve (her committed
	// digest for keys[1] is carried unexposed).
	st, _ := a.store.State(prefix)
	reserve := Contribution{Label: "carol", Role: RoleReserve, Prior: carol.keys[1].Dig()}
	r1, err := ProposeRotation(st, signedParts(RotationParams{Prefix: prefix, Members: []Contribution{alice.rotate(1), bob.rotate(1), reserve},
		Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)}))
	if err != nil {
		t.Fatal(err)
	}
	ra, w1 := a.propose(r1)
	rcv, err := ParseProposal(w1)
	if err != nil {
		t.Fatal(err)
	}
	revC, err := c.store.Review(rcv, Reviewer{Key: carol.keys[1].Key(), Next: carol.keys[1].Dig()})
	if err != nil {
		t.Fatal(err)
	}
	if revC.Index != -1 || !revC.NextCommitted || !strings.Contains(strings.Join(revC.Diff.Members, "\n"), "carol stays in reserve") {
		t.Errorf("carol's review %+v %q", revC, revC.Diff.Members)
	}
	rb, revB1 := b.join(w1, 1)
	a.deliver(b.sign(rb, revB1, 1))
	a.sign(ra, a.review(ra, 1), 1)
	if s := slot(t, ra.Progress(), "carol"); s.Status != SlotNotSigning {
		t.Errorf("carol's slot %+v", s)
	}
	rot1 := mustFinalize(t, ra)
	b.importFinal(rot1, rb)
	c.importFinal(rot1, nil)
	wantKeyState(t, c, prefix, 1, keysOf(alice.keys[1], bob.keys[1]), digsOf(alice.keys[2], bob.keys[2], carol.keys[1]))

	// rot2: carol returns first (prior n[2] → k[0]), alice moves to k[1]
	// (prior n[0]); bob stays out and keeps his commitment in reserve.
	st, _ = c.store.State(prefix)
	r2, err := ProposeRotation(st, signedParts(RotationParams{Prefix: prefix, Members: []Contribution{carol.rotate(1), alice.rotate(2),
		{Label: "bob", Role: RoleReserve, Prior: bob.keys[2].Dig()}}, Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)}))
	if err != nil {
		t.Fatal(err)
	}
	rc2, w2 := c.propose(r2)
	ra2, revA2 := a.join(w2, 2)
	if revA2.Index != 1 || revA2.Ondex != 0 {
		t.Errorf("alice's review %+v", revA2)
	}
	c.deliver(a.sign(ra2, revA2, 2))
	c.sign(rc2, c.review(rc2, 1), 1)
	sigs := rc2.Signatures()
	if len(sigs) != 2 || sigs[0].Code != kel.CodeSigBigBoth || sigs[0].Ondex != 2 || sigs[1].Code != kel.CodeSigBigBoth || sigs[1].Ondex != 0 {
		t.Errorf("moved keys must sign 2A: %+v", sigs)
	}
	rot2 := mustFinalize(t, rc2)
	a.importFinal(rot2, ra2)
	b.importFinal(rot2, nil)
	wantKeyState(t, b, prefix, 2, keysOf(carol.keys[1], alice.keys[2]), digsOf(carol.keys[2], alice.keys[3], bob.keys[2]))
	if rep := kel.Replay(mustExport(t, b.store, prefix)); !rep.OK() {
		t.Errorf("export does not replay: %+v", rep)
	}
}

// A delegated inception: the 2-of-2 group delegates, anchoring the dip with
// an anchoring ceremony.
func TestE2EDelegatedInception(t *testing.T) {
	clk := newClock()
	g := incept2of2(t, clk)
	dora := newMember("dora", 3)
	dd := newDevice(t, dora, clk)
	p, err := ProposeInception(InceptionParams{Members: []Card{dora.card(0)}, Kt: kel.IntThreshold(1), Nt: kel.IntThreshold(1), Delegator: g.prefix})
	if err != nil {
		t.Fatal(err)
	}
	cd, _ := dd.propose(p)
	rev := dd.review(cd, 0)
	if !strings.Contains(strings.Join(rev.Warnings, "\n"), "delegated by "+g.prefix) {
		t.Errorf("warnings %q", rev.Warnings)
	}
	dd.sign(cd, rev, 0)
	if pr := cd.Progress(); pr.Met || !pr.AwaitingAnchor || !pr.Kt.Met {
		t.Errorf("progress before the anchor %+v", pr)
	}
	if _, err := cd.Finalize(); !errors.Is(err, ErrDelegationPending) {
		t.Fatalf("finalize before the anchor: %v", err)
	}
	dip := cd.Event()
	st, _ := g.a.store.State(g.prefix)
	ap, err := ProposeAnchoring(st, AnchoringParams{Prefix: g.prefix, Seals: []kel.Seal{kel.EventSeal(dip.Prefix(), 0, dip.SAID())}})
	if err != nil {
		t.Fatal(err)
	}
	ca, wire := g.a.propose(ap)
	cb, revB := g.b.join(wire, 0)
	g.a.deliver(g.b.sign(cb, revB, 0))
	g.a.sign(ca, g.a.review(ca, 0), 0)
	g.b.importFinal(mustFinalize(t, ca), cb)
	// Dora imports the delegator's KEL; the dip can now finalize.
	if _, err := dd.store.ImportKEL(mustExport(t, g.a.store, g.prefix)); err != nil {
		t.Fatal(err)
	}
	if pr := cd.Progress(); !pr.Met || pr.AwaitingAnchor {
		t.Errorf("progress after the anchor %+v", pr)
	}
	final := mustFinalize(t, cd)
	if !strings.HasSuffix(string(final), "-GAB0AAAAAAAAAAAAAAAAAAAAAAB"+ca.SAID()) {
		t.Errorf("dip without the source couple: %s", final[dip.Size():])
	}
	rep := kel.Replay(mustExport(t, g.a.store, g.prefix), mustExport(t, dd.store, dip.Prefix()))
	if !rep.OK() || rep.States[dip.Prefix()].Delegator != g.prefix {
		t.Fatalf("replay %+v", rep)
	}
	if w := rep.Results[len(rep.Results)-1].Warnings; len(w) != 0 {
		t.Errorf("dip warnings %v: the couple or the anchor is off", w)
	}
	dd.reopen()
	if c, err := dd.store.Ceremony(cd.ID()); err != nil || c.State() != StateFinalized {
		t.Errorf("dip ceremony after restart: %v", err)
	}
}

// TestFinalizedElsewhereShowsFinalSignatures: bob's ceremony, closed by
// the final event alice made, counts the signatures that event carries
// (alice's never reached bob's ceremony), before and after a restart.
func TestFinalizedElsewhereShowsFinalSignatures(t *testing.T) {
	g := incept2of2(t, newClock())
	check := func(when string) {
		cs := g.b.store.Ceremonies()
		if len(cs) != 1 {
			t.Fatalf("%s: %d ceremonies", when, len(cs))
		}
		if n := len(cs[0].Signatures()); n != 1 {
			t.Fatalf("%s: bob's ceremony holds %d signatures, want only his own", when, n)
		}
		pr := cs[0].Progress()
		if !pr.Met || pr.Kt.Have != 2 || pr.Kt.Need != 2 || !slices.Equal(pr.Signed, []int{0, 1}) || pr.Missing != "" {
			t.Errorf("%s: progress %+v", when, pr)
		}
		for _, l := range []string{"alice", "bob"} {
			if s := slot(t, pr, l); s.Status != SlotSigned || s.Code != kel.CodeSigCurrent {
				t.Errorf("%s: slot %s %+v", when, l, s)
			}
		}
	}
	check("after the import")
	g.b.reopen()
	check("after a restart")
}
