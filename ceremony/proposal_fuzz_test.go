package ceremony

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/keremony/keremony/kel"
)

// reviewSentinels are the errors a review of a proposal may end with.
var reviewSentinels = []error{ErrMalformedProposal, ErrProposalMismatch, ErrDoesNotChain, ErrAnchorConflict, ErrUnknownGroup,
	ErrInvalidParams, ErrDuplicateKey, ErrDuplicateDigest, ErrThreshold, ErrContribution, ErrPriorNextUnreachable, ErrUnboundLabel}

// FuzzProposalReview: a proposal body read from a peer (ParseProposal),
// then reviewed (rebuilt from its parameters against a group's KEL) and
// its proposer checked. No input panics; every refusal wraps a ceremony
// sentinel; an accepted body is a fixed point of Marshal; a review that
// passes is of the event the body carries, with every label bound (or
// warned about).
func FuzzProposalReview(f *testing.F) {
	a, b, c := newMember("alice", 3), newMember("bob", 3), newMember("carol", 3)
	two := kel.IntThreshold(2)
	icp, err := ProposeInception(InceptionParams{Members: []Card{a.card(0), b.card(0), c.card(0)}, Kt: two, Nt: two})
	if err != nil {
		f.Fatal(err)
	}
	icp.ID = "c1"
	sign := func(m []byte) ([]byte, error) { return ed25519.Sign(a.keys[0].priv, m), nil }
	if err := icp.Sign(Proposer{Group: "team", Label: "alice", Key: a.keys[0].Key()}, sign); err != nil {
		f.Fatal(err)
	}
	v, st := memGroup(f, two, two, nil, a, b, c)
	rot, err := ProposeRotation(st, signedParts(RotationParams{Prefix: st.Prefix, Kt: two, Nt: two,
		Members: []Contribution{a.rotate(1), b.rotate(1), {Label: "carol", Role: RoleReserve, Prior: c.keys[1].Dig()}}}))
	if err != nil {
		f.Fatal(err)
	}
	rot.ID = "c2"
	ixn, err := ProposeAnchoring(st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{kel.DigestSeal([]byte("x")), kel.EventSeal(st.Prefix, 0, st.Last)},
		Members: []Card{a.card(0)}})
	if err != nil {
		f.Fatal(err)
	}
	ixn.ID = "c3"
	for _, p := range []Proposal{icp, rot, ixn} {
		body, err := p.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Add([]byte(`{"format":"keremony-proposal/1","id":"c1","kind":"inception","event":"{}"}`))
	book := map[string]string{a.keys[0].Key(): "alice", b.keys[0].Key(): "bob", c.keys[1].Dig(): "carol"}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParseProposal(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedProposal) {
				t.Fatalf("parse: error without ErrMalformedProposal: %v", err)
			}
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("an accepted proposal does not marshal: %v", err)
		}
		again, err := ParseProposal(out)
		if err != nil {
			t.Fatalf("marshalled proposal does not parse: %v", err)
		}
		if out2, _ := again.Marshal(); string(out2) != string(out) {
			t.Fatalf("Marshal is not a fixed point:\n%s\n%s", out, out2)
		}
		if err := p.CheckProposer(); err != nil && !errors.Is(err, ErrUnsigned) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrMalformedProposal) {
			t.Fatalf("proposer: error without a sentinel: %v", err)
		}
		for _, me := range []Reviewer{a.reviewer(0), a.reviewer(1)} {
			me.Labels = book
			rev, err := ReviewProposal(p, v, me)
			if err != nil {
				known := false
				for _, s := range reviewSentinels {
					known = known || errors.Is(err, s)
				}
				if !known {
					t.Fatalf("review: error without a sentinel: %v", err)
				}
				continue
			}
			if !rev.Passed() || string(rev.Raw()) != string(p.Event) {
				t.Fatalf("a review that passed is not of the proposed bytes")
			}
		}
	})
}
