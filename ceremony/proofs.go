package ceremony

import (
	"crypto/ed25519"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/keremony/keremony/kel"
)

// Proofs. Every label a proposal gives a member, and the proposal itself,
// is bound by an Ed25519 signature over a fixed text (type, version, then
// one field per line; no value holds a newline):
//
//   - a member card: its holder's current key over
//     "keremony/member-card\nv=1\nalias=…\nkey=…\nnext=…\n" (Card.Sig);
//   - a rotation contribution: the member's current key (Signer) over
//     "keremony/rotation-contribution\nv=1\ngroup=…\nlabel=…\nrole=…\nkey=…\nnext=…\nprior=…\nsigner=…\n";
//     a member joining through its card carries the card's key as Signer
//     and the card's signature instead;
//   - the proposal: the proposer's current key over
//     "keremony/proposal\nv=1\nproposal=DIGEST\ngroup=…\nlabel=…\nkey=…\n",
//     DIGEST the Blake3-256 digest (qb64) of the proposal object without
//     its proposer (Proposal.Marshal of the proposal with Proposer nil).
//
// The texts are the transport packets' own (package transport writes and
// reads the card and contribution packets with them).

// Type names of the signed texts, and their version.
const (
	CardType         = "keremony/member-card"
	ContributionType = "keremony/rotation-contribution"
	ProposalType     = "keremony/proposal"
	ProofVersion     = 1
)

// Proposer is who proposed, and the proof: the group's alias on the
// proposer's device (a suggestion for the others), the proposer's label in
// the group, its key (for an inception one of the listed keys, else a
// current key of the group: the receiver checks that against its KEL), and
// its signature.
type Proposer struct {
	Group string `json:"group,omitempty"`
	Label string `json:"label"`
	Key   string `json:"key"`
	Sig   string `json:"sig"`
}

// SigningBytes is the text a member card's signature covers.
func (c Card) SigningBytes() []byte {
	return fmt.Appendf(nil, "%s\nv=%d\nalias=%s\nkey=%s\nnext=%s\n", CardType, ProofVersion, c.Label, c.Key, c.Next)
}

// CheckProof verifies the card's signature by its key.
func (c Card) CheckProof() error {
	if c.Sig == "" {
		return fmt.Errorf("%w: the card of %q carries no signature", ErrUnboundLabel, clip(c.Label))
	}
	return verifyProof(c.Key, c.Sig, c.SigningBytes(), "card of "+fmt.Sprintf("%q", clip(c.Label)))
}

// SigningBytes is the text a contribution's signature covers, for a
// rotation of group.
func (c Contribution) SigningBytes(group string) []byte {
	return fmt.Appendf(nil, "%s\nv=%d\ngroup=%s\nlabel=%s\nrole=%s\nkey=%s\nnext=%s\nprior=%s\nsigner=%s\n",
		ContributionType, ProofVersion, group, c.Label, c.Role, c.Key, c.Next, c.Prior, c.Signer)
}

// CheckProof verifies the contribution's signature by Signer: over its own
// text for a rotation of group, or, for a member joining through its card
// (next-only, or fresh with Key = Signer), over that card's text.
func (c Contribution) CheckProof(group string) error {
	what := fmt.Sprintf("contribution of %q", clip(c.Label))
	if c.Signer == "" || c.Sig == "" {
		return fmt.Errorf("%w: the %s carries no signature", ErrUnboundLabel, what)
	}
	if verifyProof(c.Signer, c.Sig, c.SigningBytes(group), what) == nil {
		return nil
	}
	if c.Role == RoleNextOnly || c.Role == RoleFresh && c.Key == c.Signer {
		card := Card{Label: c.Label, Key: c.Signer, Next: c.Next, Sig: c.Sig}
		if card.CheckProof() == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: the %s is not signed by %s", ErrBadSignature, what, clip(c.Signer))
}

// proposerText is the text the proposer's signature covers.
func (p Proposal) proposerText(pr Proposer) ([]byte, error) {
	q := p
	q.Proposer = nil
	body, err := q.Marshal()
	if err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, "%s\nv=%d\nproposal=%s\ngroup=%s\nlabel=%s\nkey=%s\n",
		ProposalType, ProofVersion, kel.Digest(body), pr.Group, pr.Label, pr.Key), nil
}

// Sign makes pr (its signature aside) the proposer: sign signs with the
// private key of pr.Key, and the signature is verified before it is kept.
func (p *Proposal) Sign(pr Proposer, sign func([]byte) ([]byte, error)) error {
	pr.Sig = ""
	if err := checkProposerFields(pr); err != nil {
		return err
	}
	text, err := p.proposerText(pr)
	if err != nil {
		return err
	}
	sig, err := sign(text)
	if err != nil {
		return fmt.Errorf("sign the proposal as %q: %w", pr.Label, err)
	}
	pr.Sig = kel.EncodeSignature(sig)
	if err := verifyProof(pr.Key, pr.Sig, text, "proposal"); err != nil {
		return err
	}
	p.Proposer = &pr
	return nil
}

// CheckProposer verifies the proposer's signature over the proposal. It
// does not say whether the key may propose: that is a key of the group's
// state, which only the receiver's KELs tell.
func (p Proposal) CheckProposer() error {
	if p.Proposer == nil {
		return fmt.Errorf("%w: proposal %s names no proposer", ErrUnsigned, p.ID)
	}
	pr := *p.Proposer
	if err := checkProposerFields(pr); err != nil {
		return err
	}
	text, err := p.proposerText(pr)
	if err != nil {
		return err
	}
	return verifyProof(pr.Key, pr.Sig, text, fmt.Sprintf("proposal %s of %q", p.ID, clip(pr.Label)))
}

func checkProposerFields(pr Proposer) error {
	if err := checkLabelText("proposer label", pr.Label); err != nil {
		return err
	}
	if pr.Group != "" {
		if err := checkLabelText("group alias", pr.Group); err != nil {
			return err
		}
	}
	if _, err := kel.DecodeVerKey(pr.Key); err != nil {
		return fmt.Errorf("%w: proposer key %q: %w", ErrMalformedProposal, clip(pr.Key), err)
	}
	return nil
}

// verifyProof checks sig (qb64 0B…) by key (qb64 D…) over text.
func verifyProof(key, sig string, text []byte, what string) error {
	pub, err := kel.DecodeVerKey(key)
	if err != nil {
		return fmt.Errorf("%w: %s: key %q: %w", ErrBadSignature, what, clip(key), err)
	}
	raw, err := kel.DecodeSignature(sig)
	if err != nil {
		return fmt.Errorf("%w: %s: signature %q: %w", ErrBadSignature, what, clip(sig), err)
	}
	if !ed25519.Verify(pub, text, raw) {
		return fmt.Errorf("%w: the %s is not signed by %s", ErrBadSignature, what, clip(key))
	}
	return nil
}

// maxLabel bounds a label's bytes (the packets' own limit).
const maxLabel = 64

// checkLabelText refuses a label that is empty, too long, not UTF-8, or holds a
// character that could steer a terminal or hide text (controls, format
// characters such as bidirectional overrides and zero-width spaces, line
// and paragraph separators). Every label of a proposal is checked when it
// is parsed; the signed texts put each on a line of its own.
func checkLabelText(what, s string) error {
	if s == "" || len(s) > maxLabel || !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s %q: want 1 to %d bytes of UTF-8", ErrMalformedProposal, what, clip(s), maxLabel)
	}
	for _, r := range s {
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("%w: %s %q holds the control or format character %U", ErrMalformedProposal, what, clip(s), r)
		}
	}
	return nil
}
