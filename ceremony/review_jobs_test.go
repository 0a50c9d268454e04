package ceremony

import (
	"errors"
	"strings"
	"testing"

	"github.com/keremony/keremony/kel"
)

// The chain check on its own: each way an event can fail to chain on the
// device's KEL, and the cases it lets through.
func TestCheckChain(t *testing.T) {
	a, b := newMember("alice", 3), newMember("bob", 3)
	two := kel.IntThreshold(2)
	v, st := memGroup(t, two, two, nil, a, b)
	icp := v.Messages(st.Prefix)[0].Event
	rot, err := ProposeRotation(st, signedParts(RotationParams{Prefix: st.Prefix, Members: []Contribution{a.rotate(1), b.rotate(1)}, Kt: two, Nt: two}))
	if err != nil {
		t.Fatal(err)
	}
	rotEv, err := kel.ParseEvent(rot.Event)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := ProposeInception(InceptionParams{Members: []Card{a.card(1), b.card(1)}, Kt: two, Nt: two})
	if err != nil {
		t.Fatal(err)
	}
	freshEv, err := kel.ParseEvent(fresh.Event)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		kind      Kind
		ev        *kel.Event
		local     *kel.Verifier
		want      error
		wantPrior string // the prefix of the state returned
	}{
		{"inception whose prefix is not its said", KindInception, rotEv, v, ErrDoesNotChain, ""},
		{"inception already held", KindInception, icp, v, ErrDoesNotChain, ""},
		{"new inception", KindInception, freshEv, v, nil, ""},
		{"rotation at the wrong sn", KindRotation, icp, v, ErrDoesNotChain, ""},
		{"rotation of an unknown group", KindRotation, rotEv, kel.NewVerifier(), nil, ""},
		{"rotation that chains", KindRotation, rotEv, v, nil, st.Prefix},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Proposal{Kind: tc.kind}
			if tc.kind == KindRotation {
				p.Rotation = &RotationParams{Prefix: tc.ev.Prefix()}
			}
			prior, err := checkChain(p, tc.ev, tc.local)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if prior.Prefix != tc.wantPrior {
				t.Errorf("prior state of %q, want %q", prior.Prefix, tc.wantPrior)
			}
		})
	}
}

// The rebuild on its own: the proposed event must be the rebuilt one.
func TestRebuildProposed(t *testing.T) {
	a, b := newMember("alice", 3), newMember("bob", 3)
	two := kel.IntThreshold(2)
	v, st := memGroup(t, two, two, nil, a, b)
	rot, err := ProposeRotation(st, signedParts(RotationParams{Prefix: st.Prefix, Members: []Contribution{a.rotate(1), b.rotate(1)}, Kt: two, Nt: two}))
	if err != nil {
		t.Fatal(err)
	}
	rotEv, _ := kel.ParseEvent(rot.Event)
	icp := v.Messages(st.Prefix)[0].Event
	tests := []struct {
		name     string
		p        Proposal
		proposed *kel.Event
		want     error
	}{
		{"proposed event is not the proposal's bytes", rot, icp, ErrProposalMismatch},
		{"kind without its parameters", Proposal{Kind: KindInception, Rotation: rot.Rotation, Event: rot.Event}, rotEv, ErrMalformedProposal},
		{"unknown group", rot, rotEv, ErrUnknownGroup},
		{"rebuilt", rot, rotEv, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			local := v
			if tc.want == ErrUnknownGroup {
				local = kel.NewVerifier()
			}
			got, err := rebuildProposed(tc.p, tc.proposed, local)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if err == nil && got.ev.SAID() != rotEv.SAID() {
				t.Errorf("rebuilt %s, want %s", got.ev.SAID(), rotEv.SAID())
			}
		})
	}
}

// Warnings and the who-you-are fields the other review tests do not reach.
func TestReviewWarningsAndYou(t *testing.T) {
	a, b := newMember("alice", 3), newMember("bob", 3)
	two := kel.IntThreshold(2)
	v, st := memGroup(t, two, two, nil, a, b)
	mustPropose := func(p Proposal, err error) Proposal {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	dnd := mustPropose(ProposeInception(InceptionParams{Members: []Card{a.card(1), b.card(1)}, Kt: two, Nt: one(), Config: []string{"DND"}}))
	witness := "B" + newMember("witness", 1).keys[0].Key()[1:]
	addWitness := mustPropose(ProposeRotation(st, signedParts(RotationParams{Prefix: st.Prefix, Members: []Contribution{a.rotate(1), b.rotate(1)}, Kt: two, Nt: two, Bt: 1, Adds: []string{witness}})))
	noNext := a.reviewer(1)
	noNext.Next = ""
	tests := []struct {
		name     string
		p        Proposal
		me       Reviewer
		want     []string // in the warnings
		wantNot  []string
		nextText string
	}{
		{"do not delegate, nt 1 over two next keys", dnd, a.reviewer(1), []string{
			"do not delegate: the group will refuse to delegate identifiers",
			"nt \"1\": any one of the 2 next keys can rotate the group alone",
		}, []string{"kt "}, "your next digest is committed"},
		{"witness added", addWitness, a.reviewer(1), []string{"witnesses change: adds " + witness + ", toad 0 → 1; then 1 of 1 must receipt every event"}, []string{"kt lowers"}, "your next digest is committed"},
		{"no key given", addWitness, Reviewer{}, []string{"your key (none given) is not among the signing keys of this rot"}, []string{"pre-committed", "will not be able"}, "no next digest given"},
		{"no next digest given", addWitness, noNext, nil, []string{"next rotation"}, "no next digest given"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			local := v
			if tc.p.Kind == KindInception {
				local = nil
			}
			rev, err := ReviewProposal(tc.p, local, tc.me)
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(rev.Warnings, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("warnings lack %q:\n%s", w, all)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(all, w) {
					t.Errorf("warnings have %q:\n%s", w, all)
				}
			}
			if !strings.HasPrefix(rev.NextText, tc.nextText) {
				t.Errorf("next text %q, want %q…", rev.NextText, tc.nextText)
			}
		})
	}
}
