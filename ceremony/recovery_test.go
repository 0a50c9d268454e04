package ceremony

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/keremony/keremony/kel"
)

// anchor2of2 runs an anchoring of seals signed by both members and returns
// the finalized message (imported by b).
func anchor2of2(t *testing.T, g group, keyIdx int, seals ...kel.Seal) []byte {
	t.Helper()
	st, _ := g.a.store.State(g.prefix)
	p, err := ProposeAnchoring(st, AnchoringParams{Prefix: g.prefix, Seals: seals})
	if err != nil {
		t.Fatal(err)
	}
	ca, wire := g.a.propose(p)
	cb, revB := g.b.join(wire, keyIdx)
	g.a.deliver(g.b.sign(cb, revB, keyIdx))
	g.a.sign(ca, g.a.review(ca, keyIdx), keyIdx)
	final := mustFinalize(t, ca)
	g.b.importFinal(final, cb)
	return final
}

// A recovery drill: the group anchors twice, then a rotation at sn 1
// supersedes both interactions.
func TestE2ERecoveryRotation(t *testing.T) {
	clk := newClock()
	g := incept2of2(t, clk)
	anchor2of2(t, g, 0, kel.DigestSeal([]byte("minutes")))
	anchor2of2(t, g, 0, kel.DigestSeal([]byte("more minutes")))
	held := mustVerifier(t, g.a.store).Messages(g.prefix)
	if len(held) != 3 {
		t.Fatalf("kel of %d events", len(held))
	}

	// An anchoring still open at sn 3 when the recovery comes.
	st, _ := g.a.store.State(g.prefix)
	op, err := ProposeAnchoring(st, AnchoringParams{Prefix: g.prefix, Seals: []kel.Seal{kel.DigestSeal([]byte("late"))}})
	if err != nil {
		t.Fatal(err)
	}
	late, _ := g.a.propose(op)

	v := mustVerifier(t, g.a.store)
	params := signedParts(RotationParams{Prefix: g.prefix, Members: []Contribution{g.a.m.rotate(1), g.b.m.rotate(1)},
		Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2), Supersede: 1})
	base, err := RotationBase(v, params)
	if err != nil || base.Sn != 0 {
		t.Fatalf("recovery base %+v %v", base, err)
	}
	p, err := ProposeRotation(base, params)
	if err != nil {
		t.Fatal(err)
	}
	ca, wire := g.a.propose(p)
	if ev := ca.Event(); ev.Sn() != 1 || ev.Prior() != g.prefix || ev.Ilk() != kel.IlkRot {
		t.Fatalf("recovery event sn %d prior %s %s", ev.Sn(), ev.Prior(), ev.Ilk())
	}
	cb, revB := g.b.join(wire, 1)
	if !revB.Recovery || len(revB.Supersedes) != 2 || revB.Supersedes[0].SAID != held[1].Event.SAID() || revB.Supersedes[1].SAID != held[2].Event.SAID() {
		t.Fatalf("review supersedes %+v", revB.Supersedes)
	}
	words := strings.Join(revB.Warnings, "\n")
	for _, want := range []string{"RECOVERY: this rotation supersedes the 2 interaction events", "ixn sn 1 " + held[1].Event.SAID() + ", which anchored the data with digest", "ixn sn 2 "} {
		if !strings.Contains(words, want) {
			t.Errorf("review warnings lack %q:\n%s", want, words)
		}
	}
	g.a.deliver(g.b.sign(cb, revB, 1))
	g.a.sign(ca, g.a.review(ca, 1), 1)
	final := mustFinalize(t, ca)
	g.b.importFinal(final, cb)
	for _, d := range []*device{g.a, g.b} {
		wantKeyState(t, d, g.prefix, 1, keysOf(g.a.m.keys[1], g.b.m.keys[1]), digsOf(g.a.m.keys[2], g.b.m.keys[2]))
		if sup := mustVerifier(t, d.store).Superseded(g.prefix); len(sup) != 2 {
			t.Errorf("%s: %d superseded", d.name, len(sup))
		}
		// The store keeps both, restores both, and exports them in
		// first-seen order: a verifier replaying the export accepts all.
		d.reopen()
		if sup := mustVerifier(t, d.store).Superseded(g.prefix); len(sup) != 2 {
			t.Errorf("%s after restart: %d superseded", d.name, len(sup))
		}
		rep := kel.Replay(mustExport(t, d.store, g.prefix))
		if !rep.OK() || len(rep.Results) != 4 || len(rep.Results[3].Supersedes) != 2 {
			t.Errorf("%s: export %+v", d.name, rep.Results)
		}
	}
	// The open anchoring built on a superseded event: restored, blocked.
	late, err = g.a.store.Ceremony(late.ID())
	if err != nil {
		t.Fatal(err)
	}
	if pr := late.Progress(); pr.Blocked == nil {
		t.Errorf("anchoring on a superseded event not blocked: %+v", pr)
	}
	// Once recovered, no second recovery at sn 1.
	if _, err := RotationBase(mustVerifier(t, g.a.store), params); !errors.Is(err, ErrNotRecoverable) {
		t.Errorf("second recovery: %v", err)
	}
}

func TestRotationBase(t *testing.T) {
	clk := newClock()
	g := incept2of2(t, clk)
	anchor2of2(t, g, 0, kel.DigestSeal([]byte("minutes")))
	v := mustVerifier(t, g.a.store)
	members := []Contribution{g.a.m.rotate(1), g.b.m.rotate(1)}
	tests := []struct {
		name      string
		supersede uint64
		wantSn    uint64
		err       error
	}{
		{"ordinary", 0, 1, nil},
		{"one past the kel: ordinary", 2, 1, nil},
		{"the interaction", 1, 0, nil},
		{"the inception", 3, 0, ErrNotRecoverable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := RotationBase(v, RotationParams{Prefix: g.prefix, Members: members, Supersede: tc.supersede})
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err == nil && st.Sn != tc.wantSn {
				t.Errorf("base at sn %d, want %d", st.Sn, tc.wantSn)
			}
		})
	}
	if _, err := RotationBase(v, RotationParams{Prefix: "Enobody"}); !errors.Is(err, ErrUnknownGroup) {
		t.Errorf("unknown group: %v", err)
	}
	// A recovery keeps the witnesses.
	st, _ := RotationBase(v, RotationParams{Prefix: g.prefix, Supersede: 1})
	_, _, err := BuildRotation(st, RotationParams{Prefix: g.prefix, Members: members, Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2),
		Supersede: 1, Adds: []string{"BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}})
	if !errors.Is(err, ErrInvalidParams) {
		t.Errorf("recovery with witness changes: %v", err)
	}
	// A state that is not the one the recovery builds on.
	cur, _ := v.State(g.prefix)
	if _, _, err := BuildRotation(cur, RotationParams{Prefix: g.prefix, Members: members, Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2), Supersede: 1}); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("recovery on the current state: %v", err)
	}
}

// A delegated group rotates (drt): the ceremony waits for the delegator's
// anchor, names the delegator, and the finalized drt carries the -G couple.
// A device that receives the delegate's KEL before the delegator's keeps
// its events held, across a restart, until the anchors arrive.
func TestE2EDelegatedRotation(t *testing.T) {
	clk := newClock()
	g := incept2of2(t, clk)
	dora := newMember("dora", 4)
	dd := newDevice(t, dora, clk)
	dp, err := ProposeInception(InceptionParams{Members: []Card{dora.card(0)}, Kt: kel.IntThreshold(1), Nt: kel.IntThreshold(1), Delegator: g.prefix})
	if err != nil {
		t.Fatal(err)
	}
	cd, _ := dd.propose(dp)
	dd.sign(cd, dd.review(cd, 0), 0)
	dip := cd.Event()
	anchor2of2(t, g, 0, kel.EventSeal(dip.Prefix(), 0, dip.SAID()))
	if _, err := dd.store.ImportKEL(mustExport(t, g.a.store, g.prefix)); err != nil {
		t.Fatal(err)
	}
	mustFinalize(t, cd)

	st, _ := dd.store.State(dip.Prefix())
	rp, err := ProposeRotation(st, signedParts(RotationParams{Prefix: dip.Prefix(), Members: []Contribution{dora.rotate(1)}, Kt: kel.IntThreshold(1), Nt: kel.IntThreshold(1)}))
	if err != nil {
		t.Fatal(err)
	}
	cr, _ := dd.propose(rp)
	dd.sign(cr, dd.review(cr, 1), 1)
	drt := cr.Event()
	if drt.Ilk() != kel.IlkDrt {
		t.Fatalf("ilk %s", drt.Ilk())
	}
	pr := cr.Progress()
	if pr.Met || !pr.AwaitingAnchor || !strings.Contains(pr.Missing, "waiting for the delegator "+g.prefix+" to anchor") {
		t.Errorf("progress before the anchor: %+v", pr.Missing)
	}
	if _, err := cr.Finalize(); !errors.Is(err, ErrDelegationPending) {
		t.Fatalf("finalize before the anchor: %v", err)
	}
	anchor2of2(t, g, 0, kel.EventSeal(drt.Prefix(), 1, drt.SAID()))
	if _, err := dd.store.ImportKEL(mustExport(t, g.a.store, g.prefix)); err != nil {
		t.Fatal(err)
	}
	final := mustFinalize(t, cr)
	anchorSAID := mustVerifier(t, g.a.store).Messages(g.prefix)[2].Event.SAID()
	if !strings.HasSuffix(string(final), "-GAB0AAAAAAAAAAAAAAAAAAAAAAC"+anchorSAID) {
		t.Errorf("drt without the source couple: %s", final[drt.Size():])
	}

	// An observer gets dora's KEL before the delegator's: held, also
	// across a restart, until the anchors arrive.
	obs := newDevice(t, newMember("olga", 1), clk)
	res, err := obs.store.ImportKEL(mustExport(t, dd.store, dip.Prefix()))
	if err != nil {
		t.Fatalf("import of the delegate's kel: %v", err)
	}
	if len(res) != 2 || !res[0].Held || !res[1].Held {
		t.Fatalf("results %+v", res)
	}
	obs.reopen()
	if h := mustHeld(t, obs.store); len(h) != 2 || h[1].Event.SAID() != drt.SAID() {
		t.Fatalf("held after restart %+v", h)
	}
	res, err = obs.store.ImportKEL(mustExport(t, g.a.store, g.prefix))
	if err != nil {
		t.Fatal(err)
	}
	var released []string
	for _, r := range res {
		for _, rel := range r.Released {
			if rel.Result.OK() {
				released = append(released, rel.Result.SAID)
			}
		}
	}
	if len(released) != 2 || released[0] != dip.SAID() || released[1] != drt.SAID() {
		t.Errorf("released %v", released)
	}
	obs.reopen()
	wantKeyState(t, obs, dip.Prefix(), 1, keysOf(dora.keys[1]), digsOf(dora.keys[2]))
	if len(mustHeld(t, obs.store)) != 0 {
		t.Error("still held after the anchor")
	}

	// The same with the held KEL never restored before the anchors come:
	// the delegator's import restores its delegate's held events with it.
	obs2 := newDevice(t, newMember("oscar", 1), clk)
	if _, err := obs2.store.ImportKEL(mustExport(t, dd.store, dip.Prefix())); err != nil {
		t.Fatal(err)
	}
	obs2.reopen()
	if len(obs2.store.idx.loaded) != 0 {
		t.Fatalf("opening restored %v", obs2.store.idx.loaded)
	}
	if _, held := obs2.store.State(dip.Prefix()); held {
		t.Error("a held identifier has a state")
	}
	res, err = obs2.store.ImportKEL(mustExport(t, g.a.store, g.prefix))
	if err != nil {
		t.Fatal(err)
	}
	released = nil
	for _, r := range res {
		for _, rel := range r.Released {
			if rel.Result.OK() {
				released = append(released, rel.Result.SAID)
			}
		}
	}
	if !slices.Equal(released, []string{dip.SAID(), drt.SAID()}) {
		t.Errorf("released %v", released)
	}
	obs2.reopen()
	wantKeyState(t, obs2, dip.Prefix(), 1, keysOf(dora.keys[1]), digsOf(dora.keys[2]))
	if len(obs2.store.idx.loaded) != 0 {
		t.Errorf("opening restored %v", obs2.store.idx.loaded)
	}
	if len(mustHeld(t, obs2.store)) != 0 {
		t.Error("still held after the anchor")
	}
}
