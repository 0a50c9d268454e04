package ceremony

import (
	"errors"
	"strings"
	"testing"

	"github.com/keremony/keremony/kel"
)

// TestReviewBindsLabels: the labels a review shows are the ones the
// members signed. Swapping two members' labels (the event unchanged, so
// the rebuild matches) once passed review ("signers: bob, alice").
func TestReviewBindsLabels(t *testing.T) {
	a, b, c := newMember("alice", 3), newMember("bob", 3), newMember("carol", 3)
	two := kel.IntThreshold(2)
	incept := func(cards ...Card) Proposal {
		t.Helper()
		p, err := ProposeInception(InceptionParams{Members: cards, Kt: two, Nt: two})
		if err != nil {
			t.Fatal(err)
		}
		p.ID = "c1"
		return p
	}
	ca, cb := a.card(0), b.card(0)
	swapped := []Card{ca, cb}
	swapped[0].Label, swapped[1].Label = "bob", "alice"
	unsigned := []Card{ca, cb}
	unsigned[1].Sig = ""
	forged := []Card{ca, cb}
	forged[1].Sig = ca.Sig

	v, st := memGroup(t, two, two, nil, a, b, c)
	rotation := func(parts ...Contribution) Proposal {
		t.Helper()
		p, err := ProposeRotation(st, RotationParams{Prefix: st.Prefix, Members: parts, Kt: two, Nt: two})
		if err != nil {
			t.Fatal(err)
		}
		p.ID = "c2"
		return p
	}
	parts := signedParts(RotationParams{Prefix: st.Prefix, Members: []Contribution{a.rotate(1), b.rotate(1), c.rotate(1)}}).Members
	relabelled := append([]Contribution(nil), parts...)
	relabelled[0].Label, relabelled[1].Label = "bob", "alice"
	strayGroup := signedParts(RotationParams{Prefix: kel.Digest([]byte("another group")), Members: []Contribution{a.rotate(1)}}).Members[0]
	// The book of a device that took part in the inception.
	book := map[string]string{}
	for _, m := range []*member{a, b, c} {
		book[m.keys[0].Key()], book[m.keys[1].Dig()] = m.name, m.name
	}
	anchor := func(cards ...Card) Proposal {
		t.Helper()
		p, err := ProposeAnchoring(st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{kel.DigestSeal([]byte("x"))}, Members: cards})
		if err != nil {
			t.Fatal(err)
		}
		p.ID = "c3"
		return p
	}
	anchorSwapped := []Card{{Label: "bob", Key: a.keys[0].Key()}, {Label: "alice", Key: b.keys[0].Key()}}

	tests := []struct {
		name  string
		p     Proposal
		local *kel.Verifier
		book  map[string]string
		want  error
	}{
		{"inception: labels swapped", incept(swapped...), nil, nil, ErrUnboundLabel},
		{"inception: a card without its signature", incept(unsigned...), nil, nil, ErrUnboundLabel},
		{"inception: a card signed by another member", incept(forged...), nil, nil, ErrUnboundLabel},
		{"inception: signed cards", incept(ca, cb), nil, nil, nil},
		{"rotation: labels swapped", rotation(relabelled...), v, nil, ErrUnboundLabel},
		{"rotation: unsigned contributions", rotation(a.rotate(1), b.rotate(1), c.rotate(1)), v, nil, ErrUnboundLabel},
		{"rotation: a contribution signed for another group", rotation(strayGroup, parts[1], parts[2]), v, nil, ErrUnboundLabel},
		{"rotation: signed contributions", rotation(parts...), v, book, nil},
		{"anchoring: labels swapped, against this device's record", anchor(anchorSwapped...), v, book, ErrUnboundLabel},
		{"anchoring: labels this device knows", anchor(Card{Label: "alice", Key: a.keys[0].Key()}), v, book, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			me := a.reviewer(0)
			if tc.p.Kind == KindRotation {
				me = a.reviewer(1)
			}
			me.Labels = tc.book
			rev, err := ReviewProposal(tc.p, tc.local, me)
			if !errors.Is(err, tc.want) {
				t.Fatalf("review: %v, want %v", err, tc.want)
			}
			if err == nil && strings.Contains(strings.Join(rev.Warnings, "\n"), "proposer's word") {
				t.Errorf("a bound label is called the proposer's word: %q", rev.Warnings)
			}
		})
	}

	// Labels nothing binds and this device does not know: a warning.
	rev, err := ReviewProposal(anchor(anchorSwapped...), v, a.reviewer(0))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(rev.Warnings, "\n"); strings.Count(w, "it is the proposer's word") != 2 {
		t.Errorf("warnings %q, want the two unbound labels named", rev.Warnings)
	}
}

// TestParseProposalRefusesLabelControls: a label that could steer a
// terminal or hide text is refused when the proposal is read.
func TestParseProposalRefusesLabelControls(t *testing.T) {
	a, b := newMember("alice", 2), newMember("bob", 2)
	p, err := ProposeInception(InceptionParams{Members: []Card{a.card(0), b.card(0)}, Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)})
	if err != nil {
		t.Fatal(err)
	}
	p.ID = "c1"
	body, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`\u001b[2J\u001b[H\u001b]0;pwned\u0007ok alice\u001b[8m`, `ali\u202ece`, `al\u200bice`, `a\nb`, `a\u2028b`} {
		mutated := strings.Replace(string(body), `"label":"alice"`, `"label":"`+bad+`"`, 1)
		if _, err := ParseProposal([]byte(mutated)); !errors.Is(err, ErrMalformedProposal) {
			t.Errorf("label %s: %v, want %v", bad, err, ErrMalformedProposal)
		}
	}
}
