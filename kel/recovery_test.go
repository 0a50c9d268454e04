package kel

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// recoveryFixture: alice's identifier with two interactions, the second
// anchoring carol's inception, and the rotation at sn 1 that supersedes
// both.
type recoveryFixture struct {
	icp, ixn1, ixn2, rot1, carol *Event
	msgs                         []Message // icp, ixn1, ixn2, rot1
	carolMsg                     Message
}

func newRecoveryFixture(t *testing.T) recoveryFixture {
	a, c := newTMember("alice", 3), newTMember("carol", 2)
	one := IntThreshold(1)
	var f recoveryFixture
	f.carol = mustIncept(t, InceptionOptions{Keys: pubsOf(c.keys[0]), Kt: one, Next: digsOf(c.keys[1]), Nt: one})
	f.icp = mustIncept(t, InceptionOptions{Keys: pubsOf(a.keys[0]), Kt: one, Next: digsOf(a.keys[1]), Nt: one})
	f.ixn1 = mustInteract(t, InteractionOptions{Prefix: f.icp.Prefix(), Sn: 1, Prior: f.icp.SAID()})
	f.ixn2 = mustInteract(t, InteractionOptions{Prefix: f.icp.Prefix(), Sn: 2, Prior: f.ixn1.SAID(),
		Seals: []Seal{EventSeal(f.carol.Prefix(), 0, f.carol.SAID())}})
	f.rot1 = mustRotate(t, RotationOptions{Prefix: f.icp.Prefix(), Sn: 1, Prior: f.icp.SAID(),
		Keys: pubsOf(a.keys[1]), Kt: one, Next: digsOf(a.keys[2]), Nt: one})
	f.carolMsg = NewMessage(f.carol, []Siger{signB(t, c.keys[0], f.carol, 0)})
	f.msgs = []Message{
		NewMessage(f.icp, []Siger{signB(t, a.keys[0], f.icp, 0)}),
		NewMessage(f.ixn1, []Siger{signB(t, a.keys[0], f.ixn1, 0)}),
		NewMessage(f.ixn2, []Siger{signB(t, a.keys[0], f.ixn2, 0)}),
		NewMessage(f.rot1, []Siger{signA(t, a.keys[1], f.rot1, 0, 0)}),
	}
	return f
}

func TestRecoverySupersedes(t *testing.T) {
	f := newRecoveryFixture(t)
	v := NewVerifier()
	mustAccept(t, v, f.carolMsg)
	for _, m := range f.msgs[:3] {
		mustAccept(t, v, m)
	}
	if a := v.AnchorsOf(f.carol.Prefix(), 0, f.carol.SAID()); len(a) != 1 || a[0].SAID != f.ixn2.SAID() {
		t.Fatalf("anchors before the recovery %+v", a)
	}
	before := v.Clone()
	r := mustAccept(t, v, f.msgs[3])
	want := []EventRef{{f.icp.Prefix(), 1, IlkIxn, f.ixn1.SAID()}, {f.icp.Prefix(), 2, IlkIxn, f.ixn2.SAID()}}
	if !slices.Equal(r.Supersedes, want) {
		t.Errorf("supersedes %+v, want %+v", r.Supersedes, want)
	}
	wantState(t, v, f.icp.Prefix(), 1, f.rot1.SAID(), f.rot1.Keys(), f.rot1.Next(), `"1"`, `"1"`)
	if got := v.Messages(f.icp.Prefix()); len(got) != 2 || got[1].Event.SAID() != f.rot1.SAID() {
		t.Errorf("chain %d messages", len(got))
	}
	sup := v.Superseded(f.icp.Prefix())
	if len(sup) != 2 || sup[0].Message.Event.SAID() != f.ixn1.SAID() || sup[1].By.SAID != f.rot1.SAID() {
		t.Errorf("superseded %+v", sup)
	}
	// The superseded ixn anchors nothing any more.
	if a := v.AnchorsOf(f.carol.Prefix(), 0, f.carol.SAID()); len(a) != 0 {
		t.Errorf("anchors after the recovery %+v", a)
	}
	// First-seen order: the export is the input, and it replays.
	if got := v.Export(f.icp.Prefix()); !bytes.Equal(got, streamOf(f.msgs...)) {
		t.Errorf("export differs from the first-seen stream:\n%s", got)
	}
	// The clone taken before is untouched.
	wantState(t, before, f.icp.Prefix(), 2, f.ixn2.SAID(), f.icp.Keys(), f.icp.Next(), `"1"`, `"1"`)
	if len(before.Superseded(f.icp.Prefix())) != 0 || len(before.AnchorsOf(f.carol.Prefix(), 0, f.carol.SAID())) != 1 {
		t.Error("the recovery reached a clone")
	}
	// Restored from the store's own messages: the same state.
	back := NewVerifier()
	for _, res := range back.RestoreAccepted(append([]Message{f.carolMsg}, f.msgs...)) {
		if !res.OK() {
			t.Fatalf("restore: %v", res.Err)
		}
	}
	wantState(t, back, f.icp.Prefix(), 1, f.rot1.SAID(), f.rot1.Keys(), f.rot1.Next(), `"1"`, `"1"`)
	if len(back.Superseded(f.icp.Prefix())) != 2 {
		t.Error("restore lost the superseded events")
	}
}

func TestRecoveryBase(t *testing.T) {
	f := newRecoveryFixture(t)
	v := NewVerifier()
	for _, m := range f.msgs[:3] {
		mustAccept(t, v, m)
	}
	tests := []struct {
		name      string
		sn        uint64
		delegated bool
		want      string // SAID of the base's last event, or ""
		err       error
	}{
		{"first interaction", 1, false, f.icp.SAID(), nil},
		{"latest interaction", 2, false, f.ixn1.SAID(), nil},
		{"beyond the kel", 3, false, "", ErrOutOfOrder},
		{"the inception", 0, false, "", ErrOutOfOrder},
		{"a drt at an earlier interaction", 1, true, "", errNotRecoverable},
		{"a drt at the latest interaction", 2, true, f.ixn1.SAID(), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := v.RecoveryBase(f.icp.Prefix(), tc.sn, tc.delegated)
			if tc.err != nil {
				wantErr(t, err, tc.err)
				return
			}
			if err != nil || st.Last != tc.want {
				t.Errorf("base %s %v, want %s", st.Last, err, tc.want)
			}
		})
	}
	if _, err := v.RecoveryBase("Enobody", 1, false); !errors.Is(err, ErrUnknownPrefix) {
		t.Errorf("unknown prefix: %v", err)
	}
	mustAccept(t, v, f.msgs[3])
	if _, err := v.RecoveryBase(f.icp.Prefix(), 1, false); !errors.Is(err, errNotRecoverable) {
		t.Errorf("after the recovery: %v", err)
	}
}

func TestRecoveryProgress(t *testing.T) {
	f := newRecoveryFixture(t)
	v := NewVerifier()
	for _, m := range f.msgs[:3] {
		mustAccept(t, v, m)
	}
	p, err := v.Progress(f.msgs[3])
	if err != nil || !p.Met || !p.Rotated {
		t.Errorf("progress of the recovery %+v %v", p, err)
	}
	p, err = v.Progress(NewMessage(f.rot1, nil))
	if !errors.Is(err, ErrMissingSignatures) || p.PriorNt.Met {
		t.Errorf("unsigned recovery: %+v %v", p, err)
	}
}

func TestRecoveryMayNotChangeWitnesses(t *testing.T) {
	f := newRecoveryFixture(t)
	a := newTMember("alice", 3)
	wit := indepQb64('B', bytes.Repeat([]byte{7}, 32))
	rot := mustRotate(t, RotationOptions{Prefix: f.icp.Prefix(), Sn: 1, Prior: f.icp.SAID(),
		Keys: pubsOf(a.keys[1]), Kt: IntThreshold(1), Next: digsOf(a.keys[2]), Nt: IntThreshold(1), Bt: 1, Adds: []string{wit}})
	v := NewVerifier()
	for _, m := range f.msgs[:3] {
		mustAccept(t, v, m)
	}
	wantRejected(t, v.Accept(NewMessage(rot, []Siger{signA(t, a.keys[1], rot, 0, 0)})), reason{ErrWitnessConfig, "witness_config_invalid"})
	if _, err := v.Progress(NewMessage(rot, []Siger{signA(t, a.keys[1], rot, 0, 0)})); !errors.Is(err, ErrWitnessConfig) {
		t.Errorf("progress: %v", err)
	}
}

// A seal naming another event at an interaction a recovery could supersede
// is no contradiction; at an establishment event it is.
func TestAnchorAtRecoverablePosition(t *testing.T) {
	f := newRecoveryFixture(t)
	d := newTMember("dora", 2)
	one := IntThreshold(1)
	dIcp := mustIncept(t, InceptionOptions{Keys: pubsOf(d.keys[0]), Kt: one, Next: digsOf(d.keys[1]), Nt: one})
	v := NewVerifier()
	mustAccept(t, v, NewMessage(dIcp, []Siger{signB(t, d.keys[0], dIcp, 0)}))
	for _, m := range f.msgs[:3] {
		mustAccept(t, v, m)
	}
	seal := func(sn uint64, said string) Message {
		ev := mustInteract(t, InteractionOptions{Prefix: dIcp.Prefix(), Sn: 1, Prior: dIcp.SAID(), Seals: []Seal{EventSeal(f.icp.Prefix(), sn, said)}})
		return NewMessage(ev, []Siger{signB(t, d.keys[0], ev, 0)})
	}
	if r := v.Clone().Accept(seal(1, f.rot1.SAID())); !r.OK() {
		t.Errorf("seal of a possible recovery refused: %v", r.Err)
	}
	wantRejected(t, v.Accept(seal(0, f.rot1.SAID())), rsnAnchor)
}
