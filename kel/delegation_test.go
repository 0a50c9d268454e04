package kel

import (
	"slices"
	"testing"
)

// chainFixture: root R delegates D, which delegates G. R's ixn anchors D's
// dip, D's ixn anchors G's dip; G interacts and rotates (anchored by D).
type chainFixture struct {
	rIcp, rIxn, dDip, dIxn, gDip, gIxn, dIxn2, gDrt Message
}

func newChainFixture(t *testing.T) chainFixture {
	r, d, g := newTMember("rose", 2), newTMember("dora", 2), newTMember("gina", 3)
	one := IntThreshold(1)
	sB := func(ev *Event, k tKey) Message { return NewMessage(ev, []Siger{signB(t, k, ev, 0)}) }
	rIcp := mustIncept(t, InceptionOptions{Keys: pubsOf(r.keys[0]), Kt: one, Next: digsOf(r.keys[1]), Nt: one})
	dDip := mustIncept(t, InceptionOptions{Keys: pubsOf(d.keys[0]), Kt: one, Next: digsOf(d.keys[1]), Nt: one, Delegator: rIcp.Prefix()})
	rIxn := mustInteract(t, InteractionOptions{Prefix: rIcp.Prefix(), Sn: 1, Prior: rIcp.SAID(), Seals: []Seal{EventSeal(dDip.Prefix(), 0, dDip.SAID())}})
	gDip := mustIncept(t, InceptionOptions{Keys: pubsOf(g.keys[0]), Kt: one, Next: digsOf(g.keys[1]), Nt: one, Delegator: dDip.Prefix()})
	dIxn := mustInteract(t, InteractionOptions{Prefix: dDip.Prefix(), Sn: 1, Prior: dDip.SAID(), Seals: []Seal{EventSeal(gDip.Prefix(), 0, gDip.SAID())}})
	gIxn := mustInteract(t, InteractionOptions{Prefix: gDip.Prefix(), Sn: 1, Prior: gDip.SAID()})
	gDrt := mustRotate(t, RotationOptions{Prefix: gDip.Prefix(), Sn: 2, Prior: gIxn.SAID(), Keys: pubsOf(g.keys[1]), Kt: one, Next: digsOf(g.keys[2]), Nt: one, Delegated: true})
	dIxn2 := mustInteract(t, InteractionOptions{Prefix: dDip.Prefix(), Sn: 2, Prior: dIxn.SAID(), Seals: []Seal{EventSeal(gDip.Prefix(), 2, gDrt.SAID())}})
	return chainFixture{
		rIcp: sB(rIcp, r.keys[0]), rIxn: sB(rIxn, r.keys[0]),
		dDip: NewMessage(dDip, []Siger{signB(t, d.keys[0], dDip, 0)}, SourceSeal{Sn: 1, SAID: rIxn.SAID()}),
		dIxn: sB(dIxn, d.keys[0]), dIxn2: sB(dIxn2, d.keys[0]),
		gDip: NewMessage(gDip, []Siger{signB(t, g.keys[0], gDip, 0)}, SourceSeal{Sn: 1, SAID: dIxn.SAID()}),
		gIxn: sB(gIxn, g.keys[0]),
		gDrt: NewMessage(gDrt, []Siger{signA(t, g.keys[1], gDrt, 0, 0)}, SourceSeal{Sn: 2, SAID: dIxn2.SAID()}),
	}
}

func (f chainFixture) all() []Message {
	return []Message{f.rIcp, f.rIxn, f.dDip, f.dIxn, f.gDip, f.gIxn, f.dIxn2, f.gDrt}
}

// Every order of the three KELs gives the same verdicts and states.
func TestDelegationAnyOrder(t *testing.T) {
	f := newChainFixture(t)
	r := []Message{f.rIcp, f.rIxn}
	d := []Message{f.dDip, f.dIxn, f.dIxn2}
	g := []Message{f.gDip, f.gIxn, f.gDrt}
	want := Replay(streamOf(f.all()...))
	if !want.OK() {
		t.Fatalf("in order: %+v", want.Results)
	}
	orders := [][][]Message{{r, d, g}, {g, d, r}, {d, g, r}, {g, r, d}}
	for _, o := range orders {
		rep := Replay(streamOf(o[0]...), streamOf(o[1]...), streamOf(o[2]...))
		for i, res := range rep.Results {
			if !res.OK() {
				t.Errorf("order %s: message %d (%s sn %d): %v", orderName(o), i, res.Ilk, res.Sn, res.Err)
			}
		}
		for p, st := range want.States {
			if got := rep.States[p]; got.Last != st.Last {
				t.Errorf("order %s: %s ends at %s, want %s", orderName(o), p, got.Last, st.Last)
			}
		}
	}
}

func orderName(o [][]Message) string {
	var s []byte
	for _, f := range o {
		s = append(s, f[0].Event.Ilk()[0])
	}
	return string(s)
}

// The anchor releases the waiting events, through the chain, in order; the
// result that released them lists them.
func TestDelegationRelease(t *testing.T) {
	f := newChainFixture(t)
	v := NewVerifier()
	for _, m := range []Message{f.gDip, f.gIxn, f.dDip, f.dIxn} {
		r := v.Accept(m)
		if !r.Held {
			t.Fatalf("%s sn %d not held: %+v", r.Ilk, r.Sn, r)
		}
		wantRejected(t, r, rsnDelMissing)
	}
	if got := len(v.Held()); got != 4 {
		t.Fatalf("%d held", got)
	}
	r := mustAccept(t, v, f.rIcp)
	if len(r.Released) != 0 {
		t.Errorf("R's icp released %d", len(r.Released))
	}
	r = mustAccept(t, v, f.rIxn)
	var got []string
	for _, rel := range r.Released {
		if !rel.Result.OK() {
			t.Errorf("released %s refused: %v", rel.Result.Ilk, rel.Result.Err)
		}
		got = append(got, rel.Message.Event.SAID())
	}
	want := []string{f.dDip.Event.SAID(), f.dIxn.Event.SAID(), f.gDip.Event.SAID(), f.gIxn.Event.SAID()}
	if !slices.Equal(got, want) {
		t.Errorf("released %v, want %v", got, want)
	}
	if len(v.Held()) != 0 {
		t.Errorf("still held %d", len(v.Held()))
	}
	// The drt waits for its own anchor.
	if r := v.Accept(f.gDrt); !r.Held {
		t.Errorf("drt not held: %+v", r)
	}
	if r := mustAccept(t, v, f.dIxn2); len(r.Released) != 1 || !r.Released[0].Result.OK() {
		t.Errorf("D's approval released %+v", r.Released)
	}
	if st, _ := v.State(f.gDip.Event.Prefix()); st.Last != f.gDrt.Event.SAID() {
		t.Errorf("G ends at %s", st.Last)
	}
}

func TestDelegationHeldDuplicateAndClone(t *testing.T) {
	f := newChainFixture(t)
	v := NewVerifier()
	v.Accept(f.gDip)
	if r := v.Accept(f.gDip); !r.Held || !slices.Contains(r.Warnings, "duplicate_event") {
		t.Errorf("second copy %+v", r)
	}
	if len(v.Held()) != 1 {
		t.Fatalf("held %d", len(v.Held()))
	}
	c := v.Clone()
	for _, m := range []Message{f.rIcp, f.rIxn, f.dDip, f.dIxn} {
		mustAccept(t, c, m)
	}
	if _, ok := c.State(f.gDip.Event.Prefix()); !ok || len(c.Held()) != 0 {
		t.Error("the clone did not release G's dip")
	}
	if _, ok := v.State(f.gDip.Event.Prefix()); ok || len(v.Held()) != 1 {
		t.Error("the clone's release reached the original")
	}
}

func TestAcceptUnanchored(t *testing.T) {
	f := newChainFixture(t)
	v := NewVerifier()
	for _, m := range []Message{f.gDip, f.gIxn, f.dDip, f.dIxn} {
		v.Accept(m)
	}
	rel := v.AcceptUnanchored()
	var got []string
	for _, r := range rel {
		if !r.Result.OK() {
			t.Errorf("%s refused: %v", r.Result.Ilk, r.Result.Err)
		}
		got = append(got, r.Result.SAID)
	}
	// gDip first (it arrived first, with no anchor), then its ixn; dDip
	// accepted with the warning, whose ixn then anchors nothing held.
	want := []string{f.gDip.Event.SAID(), f.gIxn.Event.SAID(), f.dDip.Event.SAID(), f.dIxn.Event.SAID()}
	if !slices.Equal(got, want) {
		t.Errorf("decided %v, want %v", got, want)
	}
	if !slices.Contains(rel[0].Result.Warnings, "delegation_not_anchored") || slices.Contains(rel[1].Result.Warnings, "delegation_not_anchored") {
		t.Errorf("warnings %v / %v", rel[0].Result.Warnings, rel[1].Result.Warnings)
	}
	if len(v.Held()) != 0 {
		t.Error("still held")
	}
	// Not lenient afterwards.
	if r := v.Accept(f.gDrt); !r.Held {
		t.Errorf("drt after AcceptUnanchored: %+v", r)
	}
}

// RestoreAccepted does not trust what it held: a held message is verified
// in full when its anchor releases it.
func TestRestoreVerifiesHeld(t *testing.T) {
	f := newChainFixture(t)
	forged := f.gDip
	forged.Sigs = slices.Clone(forged.Sigs)
	sig := slices.Clone(forged.Sigs[0].Sig)
	sig[5] ^= 1
	forged.Sigs[0].Sig = sig
	v := NewVerifier()
	res := v.RestoreAccepted([]Message{forged, f.rIcp, f.rIxn, f.dDip, f.dIxn})
	if !res[0].Held {
		t.Fatalf("forged dip not held: %+v", res[0])
	}
	var rel []Released
	for _, r := range res[1:] {
		rel = append(rel, r.Released...)
	}
	var dip *Released
	for i := range rel {
		if rel[i].Result.SAID == f.gDip.Event.SAID() {
			dip = &rel[i]
		}
	}
	if dip == nil {
		t.Fatalf("forged dip never decided: %+v", rel)
	}
	wantRejected(t, dip.Result, rsnBadSig)
	if _, ok := v.State(f.gDip.Event.Prefix()); ok {
		t.Error("forged dip accepted")
	}
}

func TestSettle(t *testing.T) {
	f := newChainFixture(t)
	v := NewVerifier()
	var res []Result
	for _, m := range []Message{f.dDip, f.dIxn, f.rIcp, f.rIxn} {
		res = append(res, v.Accept(m))
	}
	if res[0].OK() || res[1].OK() {
		t.Fatal("held results are not failures before settling")
	}
	Settle(res)
	for i, r := range res {
		if !r.OK() {
			t.Errorf("result %d after Settle: %v", i, r.Err)
		}
	}
}
