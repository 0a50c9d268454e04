package kel

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// restoreFixture is a small world: delegator D (1-of-1) and a 2-of-3 group
// G delegated by D: D icp, D ixn anchoring G's dip, G dip (with its -G
// couple), G ixn, G rot, G ixn anchoring an event seal of D's icp.
type restoreFixture struct {
	msgs            []Message
	g, d            []tMember
	dIcp, gDip, gIx *Event
}

func newRestoreFixture(t testing.TB) *restoreFixture {
	t.Helper()
	f := &restoreFixture{
		d: []tMember{newTMember("restore-d", 2)},
		g: []tMember{newTMember("restore-a", 3), newTMember("restore-b", 3), newTMember("restore-c", 3)},
	}
	one, two := IntThreshold(1), IntThreshold(2)
	gk := func(i int) []tKey { return []tKey{f.g[0].keys[i], f.g[1].keys[i], f.g[2].keys[i]} }
	f.dIcp = mustIncept(t, InceptionOptions{Keys: pubsOf(f.d[0].keys[0]), Kt: one, Next: digsOf(f.d[0].keys[1]), Nt: one})
	f.gDip = mustIncept(t, InceptionOptions{Keys: pubsOf(gk(0)...), Kt: two, Next: digsOf(gk(1)...), Nt: two, Delegator: f.dIcp.Prefix()})
	dIxn := mustInteract(t, InteractionOptions{Prefix: f.dIcp.Prefix(), Sn: 1, Prior: f.dIcp.SAID(), Seals: []Seal{EventSeal(f.gDip.Prefix(), 0, f.gDip.SAID())}})
	f.gIx = mustInteract(t, InteractionOptions{Prefix: f.gDip.Prefix(), Sn: 1, Prior: f.gDip.SAID(), Seals: []Seal{DigestSeal([]byte("doc"))}})
	gDrt := mustRotate(t, RotationOptions{Prefix: f.gDip.Prefix(), Sn: 2, Prior: f.gIx.SAID(), Keys: pubsOf(gk(1)...), Kt: two, Next: digsOf(gk(2)...), Nt: two, Delegated: true})
	dIxn2 := mustInteract(t, InteractionOptions{Prefix: f.dIcp.Prefix(), Sn: 2, Prior: dIxn.SAID(), Seals: []Seal{EventSeal(gDrt.Prefix(), 2, gDrt.SAID())}})
	gIx2 := mustInteract(t, InteractionOptions{Prefix: f.gDip.Prefix(), Sn: 3, Prior: gDrt.SAID(), Seals: []Seal{EventSeal(f.dIcp.Prefix(), 0, f.dIcp.SAID())}})
	d := func(ev *Event) Message { return NewMessage(ev, []Siger{signA(t, f.d[0].keys[0], ev, 0, 0)}) }
	f.msgs = []Message{
		d(f.dIcp), d(dIxn),
		NewMessage(f.gDip, []Siger{signA(t, f.g[0].keys[0], f.gDip, 0, 0), signA(t, f.g[2].keys[0], f.gDip, 2, 2)}, SourceSeal{Sn: 1, SAID: dIxn.SAID()}),
		NewMessage(f.gIx, f.gSigs(t, f.gIx, 0, 0, 1)),
		d(dIxn2),
		NewMessage(gDrt, []Siger{signA(t, f.g[1].keys[1], gDrt, 1, 1), signA(t, f.g[2].keys[1], gDrt, 2, 2)}, SourceSeal{Sn: 2, SAID: dIxn2.SAID()}),
		NewMessage(gIx2, f.gSigs(t, gIx2, 1, 0, 1, 2)),
	}
	return f
}

// gSigs signs ev with key generation gen of the group members at idx.
func (f *restoreFixture) gSigs(t testing.TB, ev *Event, gen int, idx ...int) []Siger {
	var out []Siger
	for _, i := range idx {
		out = append(out, signB(t, f.g[i].keys[gen], ev, i))
	}
	return out
}

// entries writes messages one per entry, as a store keeps them.
func entriesOf(msgs []Message) [][]byte {
	var out [][]byte
	for _, m := range msgs {
		out = append(out, m.Bytes())
	}
	return out
}

// sameVerifiers compares everything a verifier exposes.
func sameVerifiers(t *testing.T, want, got *Verifier) {
	t.Helper()
	if !slices.Equal(want.Prefixes(), got.Prefixes()) {
		t.Fatalf("prefixes %v, want %v", got.Prefixes(), want.Prefixes())
	}
	for _, p := range want.Prefixes() {
		ws, _ := want.State(p)
		gs, _ := got.State(p)
		if fmt.Sprintf("%+v", ws) != fmt.Sprintf("%+v", gs) {
			t.Errorf("state of %s:\n got %+v\nwant %+v", p, gs, ws)
		}
		if string(want.Export(p)) != string(got.Export(p)) {
			t.Errorf("kel of %s differs", p)
		}
		for sn, m := range want.Messages(p) {
			ev := m.Event
			if !slices.Equal(want.AnchorsOf(p, uint64(sn), ev.SAID()), got.AnchorsOf(p, uint64(sn), ev.SAID())) {
				t.Errorf("anchors of %s sn %d differ", p, sn)
			}
		}
	}
}

func sameResults(t *testing.T, want, got []Result) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.Prefix != g.Prefix || w.Sn != g.Sn || w.SAID != g.SAID || w.Ilk != g.Ilk ||
			w.OK() != g.OK() || fmt.Sprint(w.Err) != fmt.Sprint(g.Err) || !slices.Equal(w.Warnings, g.Warnings) {
			t.Errorf("result %d: got %+v, want %+v", i, g, w)
		}
	}
}

// Restoring a store's accepted messages gives what accepting them gave.
func TestRestoreMatchesAccept(t *testing.T) {
	f := newRestoreFixture(t)
	accepted := NewVerifier()
	want := accepted.AcceptMessages(f.msgs)
	for _, r := range want {
		if !r.OK() {
			t.Fatalf("fixture: %s sn %d refused: %v", r.Ilk, r.Sn, r.Err)
		}
	}
	msgs, err := ParseMessages(entriesOf(f.msgs))
	if err != nil {
		t.Fatal(err)
	}
	restored := NewVerifier()
	sameResults(t, want, restored.RestoreAccepted(msgs))
	sameVerifiers(t, accepted, restored)
	if ref, ok := restored.AnchorOf(f.gDip.Prefix(), 0, f.gDip.SAID()); !ok || ref.Prefix != f.dIcp.Prefix() || ref.Sn != 1 {
		t.Errorf("restored anchor index: %+v %v", ref, ok)
	}
	// A duplicate restores as Accept takes it: a warning, nothing stored.
	if r := restored.RestoreAccepted(msgs[3:4])[0]; !r.OK() || !slices.Contains(r.Warnings, "duplicate_event") {
		t.Errorf("duplicate: %+v", r)
	}

	// The 1,000-event 3-of-5 KEL, rotations included.
	k := loadBenchKEL(t)
	all, err := ParseStream(k.stream)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err = ParseMessages(entriesOf(all))
	if err != nil || len(msgs) != benchEvents {
		t.Fatalf("%d messages: %v", len(msgs), err)
	}
	accepted, restored = NewVerifier(), NewVerifier()
	sameResults(t, accepted.AcceptMessages(all), restored.RestoreAccepted(msgs))
	sameVerifiers(t, accepted, restored)
}

// Restore runs every check but Ed25519: a stream that does not chain, an
// event whose SAID does not match, signatures that do not meet a threshold
// by index, are refused.
func TestRestoreRefusesBrokenKEL(t *testing.T) {
	f := newRestoreFixture(t)
	gd := f.gDip
	wrongPrior := mustInteract(t, InteractionOptions{Prefix: gd.Prefix(), Sn: 2, Prior: gd.SAID()})
	skip := mustInteract(t, InteractionOptions{Prefix: gd.Prefix(), Sn: 3, Prior: f.gIx.SAID()})
	plain := mustInteract(t, InteractionOptions{Prefix: gd.Prefix(), Sn: 2, Prior: f.gIx.SAID()})
	// A rotation signed by the new keys without exposing the prior next digests.
	gk := func(i int) []tKey { return []tKey{f.g[0].keys[i], f.g[1].keys[i], f.g[2].keys[i]} }
	base := f.msgs[:4] // D icp, D ixn, G dip, G ixn
	unexposed := mustRotate(t, RotationOptions{Prefix: gd.Prefix(), Sn: 2, Prior: f.gIx.SAID(), Keys: pubsOf(gk(1)...), Kt: IntThreshold(2),
		Next: digsOf(gk(2)...), Nt: IntThreshold(2), Delegated: true})
	dAnchor := mustInteract(t, InteractionOptions{Prefix: f.dIcp.Prefix(), Sn: 2, Prior: f.msgs[1].Event.SAID(),
		Seals: []Seal{EventSeal(gd.Prefix(), 2, unexposed.SAID())}})
	for _, tc := range []struct {
		name string
		last Message
		want error
		pre  []Message // between the base and last
	}{
		{"prior of another event", NewMessage(wrongPrior, f.gSigs(t, wrongPrior, 0, 0, 1)), ErrPriorMismatch, nil},
		{"a gap in the chain", NewMessage(skip, f.gSigs(t, skip, 0, 0, 1)), ErrOutOfOrder, nil},
		{"no signatures", NewMessage(plain, nil), ErrMissingSignatures, nil},
		{"one signature of two", NewMessage(plain, f.gSigs(t, plain, 0, 2)), ErrThresholdNotMet, nil},
		{"the same index twice", NewMessage(plain, append(f.gSigs(t, plain, 0, 1), f.gSigs(t, plain, 0, 1)...)), ErrThresholdNotMet, nil},
		{"an index past the keys", NewMessage(plain, append(f.gSigs(t, plain, 0, 0, 1), signB(t, f.g[0].keys[0], plain, 7))), ErrIndexOutOfRange, nil},
		{"a rotation exposing no prior next key", NewMessage(unexposed, f.gSigs(t, unexposed, 1, 0, 1)), // B codes: no ondex
			ErrPriorNextNotMet, []Message{NewMessage(dAnchor, []Siger{signA(t, f.d[0].keys[0], dAnchor, 0, 0)})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := append(slices.Clone(base), tc.pre...)
			msgs, err := ParseMessages(entriesOf(append(slices.Clone(base), tc.last)))
			if err != nil {
				t.Fatal(err)
			}
			v := NewVerifier()
			res := v.RestoreAccepted(msgs)
			for _, r := range res[:len(base)] {
				if !r.OK() {
					t.Fatalf("base refused: %v", r.Err)
				}
			}
			last := res[len(base)]
			if !errors.Is(last.Err, tc.want) {
				t.Errorf("restore: %v, want %v", last.Err, tc.want)
			}
			if st, _ := v.State(gd.Prefix()); st.Sn != 1 {
				t.Errorf("a refused event advanced the kel to sn %d", st.Sn)
			}
			// Accept agrees.
			if r := NewVerifier().AcceptMessages(msgs)[len(base)]; !errors.Is(r.Err, tc.want) {
				t.Errorf("accept: %v", r.Err)
			}
		})
	}
	// A dip whose delegator's KEL holds no seal for it.
	msgs, _ := ParseMessages(entriesOf([]Message{f.msgs[0], f.msgs[2]}))
	if r := NewVerifier().RestoreAccepted(msgs)[1]; !errors.Is(r.Err, ErrDelegationMissing) && !errors.Is(r.Err, ErrDelegationMismatch) {
		t.Errorf("unanchored dip: %v", r.Err)
	}

	// A changed body fails its SAID: the entry does not parse.
	entries := entriesOf(f.msgs)
	body := slices.Clone(entries[3])
	i := strings.Index(string(body), `"d":"`) + 5 + 20 // inside d
	body[i] = 'A' + (body[i]-'A'+1)%26
	entries[3] = body
	msgs, err := ParseMessages(entries)
	if !errors.Is(err, ErrSAIDMismatch) && !errors.Is(err, ErrPrefixMismatch) {
		t.Errorf("changed body: %v", err)
	}
	if len(msgs) != 3 {
		t.Errorf("%d messages before the bad entry, want 3", len(msgs))
	}
}

// The contract RestoreAccepted states: signature bytes are trusted. A
// signature changed after acceptance, its index intact, is restored; Accept
// and AcceptMessages refuse it. Callers must guard stored bytes otherwise.
func TestRestoreTrustsSignatureBytes(t *testing.T) {
	f := newRestoreFixture(t)
	forged := slices.Clone(f.msgs)
	m := forged[3]
	sigs := slices.Clone(m.Sigs)
	sig := slices.Clone(sigs[1].Sig)
	sig[10] ^= 0xff
	sigs[1].Sig = sig
	forged[3] = NewMessage(m.Event, sigs)
	msgs, err := ParseMessages(entriesOf(forged))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range NewVerifier().RestoreAccepted(msgs) {
		if !r.OK() {
			t.Errorf("restore refused message %d: %v", i, r.Err)
		}
	}
	if r := NewVerifier().AcceptMessages(msgs)[3]; !errors.Is(r.Err, ErrBadSignature) {
		t.Errorf("AcceptMessages took a bad signature: %v", r.Err)
	}
	v := NewVerifier()
	for _, m := range msgs[:3] {
		mustAccept(t, v, m)
	}
	if r := v.Accept(msgs[3]); !errors.Is(r.Err, ErrBadSignature) {
		t.Errorf("Accept took a bad signature: %v", r.Err)
	}
}

// A clone is independent: events accepted into either never reach the
// other, even at the same sequence number and with the same anchored seal.
func TestCloneIndependent(t *testing.T) {
	f := newRestoreFixture(t)
	v := NewVerifier()
	for _, m := range f.msgs[:4] {
		mustAccept(t, v, m)
	}
	before := v.Export(f.gDip.Prefix())
	c := v.Clone()
	sameVerifiers(t, v, c)

	seal := EventSeal(f.dIcp.Prefix(), 0, f.dIcp.SAID())
	ixnV := mustInteract(t, InteractionOptions{Prefix: f.gDip.Prefix(), Sn: 2, Prior: f.gIx.SAID(), Seals: []Seal{seal, DigestSeal([]byte("v"))}})
	ixnC := mustInteract(t, InteractionOptions{Prefix: f.gDip.Prefix(), Sn: 2, Prior: f.gIx.SAID(), Seals: []Seal{seal, DigestSeal([]byte("c"))}})
	mustAccept(t, c, NewMessage(ixnC, f.gSigs(t, ixnC, 0, 0, 1)))
	if got := v.Export(f.gDip.Prefix()); string(got) != string(before) {
		t.Fatalf("accepting into the clone changed the original")
	}
	if st, _ := v.State(f.gDip.Prefix()); st.Sn != 1 {
		t.Fatalf("original at sn %d", st.Sn)
	}
	if len(v.AnchorsOf(f.dIcp.Prefix(), 0, f.dIcp.SAID())) != 0 {
		t.Fatalf("the clone's anchor reached the original")
	}
	mustAccept(t, v, NewMessage(ixnV, f.gSigs(t, ixnV, 0, 1, 2)))
	for _, x := range []struct {
		v    *Verifier
		said string
	}{{v, ixnV.SAID()}, {c, ixnC.SAID()}} {
		msgs := x.v.Messages(f.gDip.Prefix())
		if len(msgs) != 3 || msgs[2].Event.SAID() != x.said {
			t.Errorf("sn 2 is %s, want %s", msgs[len(msgs)-1].Event.SAID(), x.said)
		}
		as := x.v.AnchorsOf(f.dIcp.Prefix(), 0, f.dIcp.SAID())
		if len(as) != 1 || as[0].SAID != x.said {
			t.Errorf("anchors %+v, want one by %s", as, x.said)
		}
		if st, _ := x.v.State(f.gDip.Prefix()); st.Last != x.said {
			t.Errorf("state last %s, want %s", st.Last, x.said)
		}
	}
	// New identifiers stay on their side too.
	c2 := v.Clone()
	dIxn := mustInteract(t, InteractionOptions{Prefix: f.dIcp.Prefix(), Sn: 2, Prior: f.msgs[1].Event.SAID(), Seals: []Seal{DigestSeal([]byte("d"))}})
	mustAccept(t, c2, NewMessage(dIxn, []Siger{signA(t, f.d[0].keys[0], dIxn, 0, 0)}))
	if len(v.Messages(f.dIcp.Prefix())) != 2 || len(c2.Messages(f.dIcp.Prefix())) != 3 {
		t.Errorf("D: original %d events, clone %d", len(v.Messages(f.dIcp.Prefix())), len(c2.Messages(f.dIcp.Prefix())))
	}
	other := mustIncept(t, InceptionOptions{Keys: pubsOf(f.g[0].keys[2]), Kt: IntThreshold(1), Next: digsOf(f.g[0].keys[1]), Nt: IntThreshold(1)})
	mustAccept(t, c2, NewMessage(other, []Siger{signB(t, f.g[0].keys[2], other, 0)}))
	if len(v.Prefixes()) != 2 || len(c2.Prefixes()) != 3 {
		t.Errorf("prefixes: original %v, clone %v", v.Prefixes(), c2.Prefixes())
	}
	if len(NewVerifier().Clone().Prefixes()) != 0 {
		t.Errorf("clone of an empty verifier")
	}
}

// ParseMessages takes one message per entry, in parallel, and stops at the
// first entry that is not one.
func TestParseMessages(t *testing.T) {
	k := loadBenchKEL(t)
	all, err := ParseStream(k.stream)
	if err != nil {
		t.Fatal(err)
	}
	entries := entriesOf(all)
	msgs, err := ParseMessages(entries)
	if err != nil || len(msgs) != len(all) {
		t.Fatalf("%d messages: %v", len(msgs), err)
	}
	for i := range msgs {
		if msgs[i].Event.SAID() != all[i].Event.SAID() || len(msgs[i].Sigs) != len(all[i].Sigs) {
			t.Fatalf("message %d differs", i)
		}
	}
	for _, bad := range []int{0, 1, 700, len(entries) - 1} {
		broken := slices.Clone(entries)
		broken[bad] = append(slices.Clone(entries[bad]), entries[bad]...) // two messages
		msgs, err := ParseMessages(broken)
		if !errors.Is(err, ErrStream) || len(msgs) != bad {
			t.Errorf("two messages in entry %d: %d messages, %v", bad, len(msgs), err)
		}
		broken[bad] = []byte("junk")
		if msgs, err := ParseMessages(broken); err == nil || len(msgs) != bad {
			t.Errorf("junk in entry %d: %d messages, %v", bad, len(msgs), err)
		}
	}
	if msgs, err := ParseMessages(nil); err != nil || len(msgs) != 0 {
		t.Errorf("no entries: %v %v", msgs, err)
	}
}

// A seal contradicting another identifier's accepted event is refused when
// it arrives, and restored when a store reloads what it accepted: whether
// the other KEL is loaded then, and before or after, is the store's choice.
func TestRestoreLeavesSealsToAccept(t *testing.T) {
	f := newRestoreFixture(t)
	gd := f.gDip
	wrongAnchor := mustInteract(t, InteractionOptions{Prefix: gd.Prefix(), Sn: 2, Prior: f.gIx.SAID(),
		Seals: []Seal{EventSeal(f.dIcp.Prefix(), 0, f.gIx.SAID())}})
	msgs, err := ParseMessages(entriesOf(append(slices.Clone(f.msgs[:4]), NewMessage(wrongAnchor, f.gSigs(t, wrongAnchor, 0, 0, 1)))))
	if err != nil {
		t.Fatal(err)
	}
	if r := NewVerifier().AcceptMessages(msgs)[4]; !errors.Is(r.Err, ErrAnchorMismatch) {
		t.Errorf("accept: %v, want %v", r.Err, ErrAnchorMismatch)
	}
	v := NewVerifier()
	if r := v.RestoreAccepted(msgs)[4]; !r.OK() {
		t.Errorf("restore: %v", r.Err)
	}
	if st, _ := v.State(gd.Prefix()); st.Sn != 2 {
		t.Errorf("restored to sn %d, want 2", st.Sn)
	}
}
