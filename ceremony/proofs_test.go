package ceremony

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/keremony/keremony/kel"
)

// TestProposerSignature: the proposer's signature covers the proposal
// object and the proposer's group alias, label and key; any change, and a
// missing or foreign signature, is refused with its sentinel.
func TestProposerSignature(t *testing.T) {
	a, b := newMember("alice", 2), newMember("bob", 2)
	p, err := ProposeInception(InceptionParams{Members: []Card{a.card(0), b.card(0)}, Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)})
	if err != nil {
		t.Fatal(err)
	}
	p.ID = "c1"
	signAs := func(m *member) func([]byte) ([]byte, error) {
		return func(msg []byte) ([]byte, error) { return ed25519.Sign(m.keys[0].priv, msg), nil }
	}
	if err := p.CheckProposer(); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("unsigned: %v", err)
	}
	if err := p.Sign(Proposer{Group: "team", Label: "alice", Key: a.keys[0].Key()}, signAs(b)); !errors.Is(err, ErrBadSignature) || p.Proposer != nil {
		t.Fatalf("signed with another key: %v %+v", err, p.Proposer)
	}
	if err := p.Sign(Proposer{Group: "team", Label: "al\x1bice", Key: a.keys[0].Key()}, signAs(a)); !errors.Is(err, ErrMalformedProposal) {
		t.Fatalf("a label with ESC: %v", err)
	}
	if err := p.Sign(Proposer{Group: "team", Label: "alice", Key: a.keys[0].Key()}, signAs(a)); err != nil {
		t.Fatal(err)
	}
	if err := p.CheckProposer(); err != nil {
		t.Fatalf("signed: %v", err)
	}
	body, _ := p.Marshal()
	back, err := ParseProposal(body)
	if err != nil || back.CheckProposer() != nil || *back.Proposer != *p.Proposer {
		t.Fatalf("round trip: %+v %v", back.Proposer, err)
	}
	changes := map[string]func(q *Proposal){
		"id":           func(q *Proposal) { q.ID = "c2" },
		"a threshold":  func(q *Proposal) { q.Inception.Nt = kel.IntThreshold(1) },
		"a card label": func(q *Proposal) { q.Inception.Members[1].Label = "eve" },
		"group alias":  func(q *Proposal) { q.Proposer.Group = "payroll" },
		"label":        func(q *Proposal) { q.Proposer.Label = "bob" },
		"key":          func(q *Proposal) { q.Proposer.Key = b.keys[0].Key() },
	}
	for name, change := range changes {
		q := p.clone()
		change(&q)
		if err := q.CheckProposer(); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s changed: %v", name, err)
		}
	}
}

// TestContributionProofs: a contribution is bound by its own signature for
// its group, or, for a member joining through its card, by the card's.
func TestContributionProofs(t *testing.T) {
	a, d := newMember("alice", 3), newMember("dave", 2)
	group := kel.Digest([]byte("team"))
	parts := signedParts(RotationParams{Prefix: group, Members: []Contribution{a.rotate(1),
		{Label: "dave", Role: RoleNextOnly, Next: d.keys[1].Dig()}}}).Members
	rot, join := parts[0], parts[1]
	if err := rot.CheckProof(group); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if err := join.CheckProof(group); err != nil {
		t.Fatalf("join by card: %v", err)
	}
	other := kel.Digest([]byte("other"))
	relabelled := rot
	relabelled.Label = "bob"
	unsigned := rot
	unsigned.Sig = ""
	cardForRotate := rot
	card := Card{Label: "alice", Key: rot.Signer, Next: rot.Next}
	cardForRotate.Sig = kel.EncodeSignature(ed25519.Sign(a.keys[0].priv, card.SigningBytes()))
	tests := []struct {
		name  string
		c     Contribution
		group string
		want  error
	}{
		{"another group", rot, other, ErrBadSignature},
		{"relabelled", relabelled, group, ErrBadSignature},
		{"unsigned", unsigned, group, ErrUnboundLabel},
		{"a card's signature on a revealed key", cardForRotate, group, ErrBadSignature},
	}
	for _, tc := range tests {
		if err := tc.c.CheckProof(tc.group); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
