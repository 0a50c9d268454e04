package ceremony

import (
	"errors"
	"slices"
	"testing"

	"github.com/keremony/keremony/kel"
)

// memGroup incepts a group in memory (no store) with every member signing,
// and returns the verifier holding its KEL and the key state.
func memGroup(t testing.TB, kt, nt kel.Threshold, config []string, ms ...*member) (*kel.Verifier, kel.KeyState) {
	t.Helper()
	var cards []Card
	for _, m := range ms {
		cards = append(cards, m.card(0))
	}
	p, err := ProposeInception(InceptionParams{Members: cards, Kt: kt, Nt: nt, Config: config})
	if err != nil {
		t.Fatal(err)
	}
	v := kel.NewVerifier()
	c, err := New(p, v, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		rev, err := ReviewProposal(c.Proposal(), v, m.reviewer(0))
		if err != nil {
			t.Fatal(err)
		}
		in, err := c.SignLocal(m.keys[0], rev)
		if err != nil || in.Index != i {
			t.Fatalf("sign %s: %v %+v", m.name, err, in)
		}
	}
	mustFinalize(t, c)
	st, ok := v.State(c.Event().Prefix())
	if !ok {
		t.Fatal("no state after finalize")
	}
	return v, st
}

func TestBuildInception(t *testing.T) {
	a, b, c := newMember("alice", 2), newMember("bob", 2), newMember("carol", 2)
	two, one := kel.IntThreshold(2), kel.IntThreshold(1)
	ev, roster, err := BuildInception(InceptionParams{Members: []Card{a.card(0), {Label: "bob", Key: b.keys[0].Key()}, {Label: "carol", Next: c.keys[0].Dig()}},
		Kt: two, Nt: one})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ev.Keys(), keysOf(a.keys[0], b.keys[0])) || !slices.Equal(ev.Next(), []string{a.keys[1].Dig(), c.keys[0].Dig()}) {
		t.Errorf("k %v n %v", ev.Keys(), ev.Next())
	}
	if ev.Prefix() != ev.SAID() || ev.Ilk() != kel.IlkIcp {
		t.Errorf("not self-addressing: %s %s", ev.Prefix(), ev.SAID())
	}
	wantRoster := []struct{ index, next int }{{0, 0}, {1, -1}, {-1, 1}}
	for i, w := range wantRoster {
		if roster[i].Index != w.index || roster[i].NextIndex != w.next || roster[i].Role != RoleSigner {
			t.Errorf("roster %d: %+v", i, roster[i])
		}
	}
	if got := roster.KeyLabels(2); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("labels %v", got)
	}

	w3 := mustWeighted(t, "1/2", "1/4", "1/4")
	cards := []Card{a.card(0), b.card(0)}
	tests := []struct {
		name string
		p    InceptionParams
		want error
	}{
		{"no members", InceptionParams{Kt: one, Nt: one}, ErrInvalidParams},
		{"no label", InceptionParams{Members: []Card{{Key: a.keys[0].Key(), Next: a.keys[1].Dig()}}, Kt: one, Nt: one}, ErrInvalidParams},
		{"same label", InceptionParams{Members: []Card{a.card(0), {Label: "alice", Key: b.keys[0].Key(), Next: b.keys[1].Dig()}}, Kt: one, Nt: one}, ErrInvalidParams},
		{"empty card", InceptionParams{Members: []Card{a.card(0), {Label: "bob"}}, Kt: one, Nt: one}, ErrInvalidParams},
		{"non-transferable key", InceptionParams{Members: []Card{{Label: "x", Key: "B" + a.keys[0].Key()[1:], Next: a.keys[1].Dig()}}, Kt: one, Nt: one}, ErrInvalidParams},
		{"key in the digest slot", InceptionParams{Members: []Card{{Label: "x", Key: a.keys[0].Key(), Next: b.keys[0].Key()}}, Kt: one, Nt: one}, ErrInvalidParams},
		{"duplicate key", InceptionParams{Members: []Card{a.card(0), {Label: "bob", Key: a.keys[0].Key(), Next: b.keys[1].Dig()}}, Kt: one, Nt: one}, ErrDuplicateKey},
		{"duplicate digest", InceptionParams{Members: []Card{a.card(0), {Label: "bob", Key: b.keys[0].Key(), Next: a.keys[1].Dig()}}, Kt: one, Nt: one}, ErrDuplicateDigest},
		{"next commits a current key", InceptionParams{Members: []Card{a.card(0), {Label: "bob", Key: b.keys[0].Key(), Next: a.keys[0].Dig()}}, Kt: one, Nt: one}, ErrDuplicateDigest},
		{"kt above the keys", InceptionParams{Members: cards, Kt: kel.IntThreshold(3), Nt: one}, ErrThreshold},
		{"kt zero", InceptionParams{Members: cards, Kt: kel.IntThreshold(0), Nt: one}, ErrThreshold},
		{"nt above the digests", InceptionParams{Members: cards, Kt: one, Nt: kel.IntThreshold(3)}, ErrThreshold},
		{"weighted kt of three weights over two keys", InceptionParams{Members: cards, Kt: w3, Nt: one}, ErrThreshold},
		{"no next digests", InceptionParams{Members: []Card{{Label: "x", Key: a.keys[0].Key()}}, Kt: one, Nt: kel.IntThreshold(0)}, ErrInvalidParams},
		{"unsupported trait", InceptionParams{Members: cards, Kt: one, Nt: one, Config: []string{"RB"}}, ErrInvalidParams},
		{"bt without witnesses", InceptionParams{Members: cards, Kt: one, Nt: one, Bt: 1}, ErrInvalidParams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := BuildInception(tc.p); !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
	// kel's own reason stays reachable.
	_, _, err = BuildInception(InceptionParams{Members: cards, Kt: one, Nt: one, Bt: 1})
	if !errors.Is(err, kel.ErrInvalidOptions) {
		t.Errorf("kel reason lost: %v", err)
	}
}

func TestBuildRotation(t *testing.T) {
	a, b, c, d := newMember("alice", 3), newMember("bob", 3), newMember("carol", 3), newMember("dave", 2)
	_, st := memGroup(t, kel.IntThreshold(2), kel.IntThreshold(2), nil, a, b, c)
	two := kel.IntThreshold(2)
	rp := func(ms ...Contribution) RotationParams {
		return RotationParams{Prefix: st.Prefix, Members: ms, Kt: kel.IntThreshold(1), Nt: kel.IntThreshold(1)}
	}
	// A plan with every role.
	ev, roster, err := BuildRotation(st, RotationParams{Prefix: st.Prefix, Members: []Contribution{
		a.rotate(1),
		{Label: "dave", Role: RoleFresh, Key: d.keys[0].Key(), Next: d.keys[1].Dig()},
		b.rotate(1),
		{Label: "carol", Role: RoleDrop, Prior: c.keys[1].Dig()},
		{Label: "erin", Role: RoleNextOnly, Next: newMember("erin", 1).keys[0].Dig()},
	}, Kt: two, Nt: two})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Sn() != 1 || ev.Prior() != st.Last || ev.Prefix() != st.Prefix || ev.Ilk() != kel.IlkRot {
		t.Errorf("rot %s sn %d", ev.Ilk(), ev.Sn())
	}
	if !slices.Equal(ev.Keys(), keysOf(a.keys[1], d.keys[0], b.keys[1])) || len(ev.Next()) != 4 {
		t.Errorf("k %v n %v", ev.Keys(), ev.Next())
	}
	wantRoster := []struct{ index, next, ondex int }{{0, 0, 0}, {1, 1, -1}, {2, 2, 1}, {-1, -1, 2}, {-1, 3, -1}}
	for i, w := range wantRoster {
		if m := roster[i]; m.Index != w.index || m.NextIndex != w.next || m.Ondex != w.ondex {
			t.Errorf("roster %d: %+v, want %+v", i, m, w)
		}
	}

	weighted := mustWeighted(t, "1/2", "1/4", "1/4")
	_, wst := memGroup(t, weighted, weighted, nil, newMember("w0", 3), newMember("w1", 3), newMember("w2", 3))
	w1, w2 := newMember("w1", 3), newMember("w2", 3)

	tests := []struct {
		name  string
		state kel.KeyState
		p     RotationParams
		want  error
	}{
		{"another group", st, RotationParams{Prefix: wst.Prefix, Members: []Contribution{a.rotate(1)}, Kt: two, Nt: two}, ErrInvalidParams},
		{"no contributions", st, rp(), ErrInvalidParams},
		{"unknown role", st, rp(Contribution{Label: "alice", Role: "boss", Key: a.keys[1].Key()}), ErrInvalidParams},
		{"revealed key not committed", st, rp(a.rotate(0), b.rotate(1)), ErrContribution},
		{"revealed key of another member", st, rp(Contribution{Label: "alice", Role: RoleRotate, Key: b.keys[1].Key(), Next: a.keys[2].Dig()}, c.rotate(1)), nil},
		{"rotate without a next digest", st, rp(Contribution{Label: "alice", Role: RoleRotate, Key: a.keys[1].Key()}, b.rotate(1)), ErrContribution},
		{"rotate with a wrong prior", st, rp(Contribution{Label: "alice", Role: RoleRotate, Key: a.keys[1].Key(), Next: a.keys[2].Dig(), Prior: b.keys[1].Dig()}, b.rotate(1)), ErrContribution},
		{"fresh key that was committed", st, rp(Contribution{Label: "alice", Role: RoleFresh, Key: a.keys[1].Key(), Next: a.keys[2].Dig()}, b.rotate(1), c.rotate(1)), ErrContribution},
		{"reserve digest not in prior n", st, rp(a.rotate(1), b.rotate(1), Contribution{Label: "carol", Role: RoleReserve, Prior: c.keys[2].Dig()}), ErrContribution},
		{"reserve with a key", st, rp(a.rotate(1), b.rotate(1), Contribution{Label: "carol", Role: RoleReserve, Key: c.keys[1].Key(), Prior: c.keys[1].Dig()}), ErrContribution},
		{"prior digest claimed twice", st, rp(a.rotate(1), b.rotate(1), Contribution{Label: "carol", Role: RoleDrop, Prior: a.keys[1].Dig()}), ErrContribution},
		{"same member twice", st, rp(a.rotate(1), b.rotate(1), Contribution{Label: "alice", Role: RoleNextOnly, Next: d.keys[0].Dig()}), ErrInvalidParams},
		{"next digest re-commits the revealed key", st, rp(Contribution{Label: "alice", Role: RoleRotate, Key: a.keys[1].Key(), Next: a.keys[1].Dig()}, b.rotate(1)), ErrDuplicateDigest},
		{"two members commit the same digest", st, rp(a.rotate(1), Contribution{Label: "bob", Role: RoleRotate, Key: b.keys[1].Key(), Next: a.keys[2].Dig()}), ErrDuplicateDigest},
		{"only next digests", st, rp(Contribution{Label: "dave", Role: RoleNextOnly, Next: d.keys[0].Dig()}), ErrInvalidParams},
		{"kt above the new keys", st, RotationParams{Prefix: st.Prefix, Members: []Contribution{a.rotate(1), b.rotate(1)}, Kt: kel.IntThreshold(3), Nt: two}, ErrThreshold},
		{"one revealed of a prior 2-of-3", st, RotationParams{Prefix: st.Prefix, Members: []Contribution{a.rotate(1),
			{Label: "bob", Role: RoleDrop, Prior: b.keys[1].Dig()}, {Label: "dave", Role: RoleFresh, Key: d.keys[0].Key(), Next: d.keys[1].Dig()}}, Kt: two, Nt: two}, ErrPriorNextUnreachable},
		{"weighted prior nt at 1/2", wst, RotationParams{Prefix: wst.Prefix, Members: []Contribution{w1.rotate(1), w2.rotate(1)}, Kt: one(), Nt: one()}, ErrPriorNextUnreachable},
		{"witness cut that is no witness", st, RotationParams{Prefix: st.Prefix, Members: []Contribution{a.rotate(1), b.rotate(1)}, Kt: two, Nt: two, Cuts: []string{"B" + a.keys[0].Key()[1:]}}, ErrInvalidParams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := BuildRotation(tc.state, tc.p)
			if tc.want == nil {
				// alice revealing bob's committed key is the same as bob
				// rotating under alice's label: allowed by the rules.
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
	// CheckContribution is the same rule, one contribution at a time.
	if err := CheckContribution(st, a.rotate(0)); !errors.Is(err, ErrContribution) {
		t.Errorf("CheckContribution: %v", err)
	}
	if err := CheckContribution(st, a.rotate(1)); err != nil {
		t.Errorf("CheckContribution: %v", err)
	}
}

func one() kel.Threshold { return kel.IntThreshold(1) }

func TestBuildAnchoring(t *testing.T) {
	a, b := newMember("alice", 2), newMember("bob", 2)
	_, st := memGroup(t, kel.IntThreshold(2), kel.IntThreshold(2), nil, a, b)
	seal := kel.DigestSeal([]byte("doc"))
	ev, roster, err := BuildAnchoring(st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{seal}, Members: []Card{b.card(0)}})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Ilk() != kel.IlkIxn || ev.Sn() != 1 || len(ev.Seals()) != 1 || ev.Seals()[0] != seal {
		t.Errorf("ixn %s", ev.Raw())
	}
	if roster[0].Label != "#0" || roster[1].Label != "bob" || roster[1].NextIndex != 1 {
		t.Errorf("roster %+v", roster)
	}
	_, eo := memGroup(t, one(), one(), []string{"EO"}, newMember("eo", 2))
	tests := []struct {
		name  string
		state kel.KeyState
		p     AnchoringParams
	}{
		{"establishment only", eo, AnchoringParams{Prefix: eo.Prefix, Seals: []kel.Seal{seal}}},
		{"no seals", st, AnchoringParams{Prefix: st.Prefix}},
		{"another prefix", st, AnchoringParams{Prefix: eo.Prefix, Seals: []kel.Seal{seal}}},
		{"a card for a stranger", st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{seal}, Members: []Card{newMember("x", 2).card(0)}}},
		{"malformed seal", st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{{Kind: kel.SealDigest, D: "nope"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := BuildAnchoring(tc.state, tc.p); !errors.Is(err, ErrInvalidParams) {
				t.Errorf("error %v", err)
			}
		})
	}
	// In memory, an anchoring needs the group's KEL.
	p, err := ProposeAnchoring(st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{seal}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(p, nil, Options{}); !errors.Is(err, ErrUnknownGroup) {
		t.Errorf("New without the group's kel: %v", err)
	}
}
