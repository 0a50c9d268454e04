package ceremony

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keremony/keremony/kel"
)

// labelled is one member as the proposal names it: its label, the keys and
// digests that label stands for, and the proof that binds them.
type labelled struct {
	label string
	ids   []string     // keys and digests the label names
	proof func() error // nil: the member signed nothing (a reserve or a drop, an anchoring's roster)
	need  bool         // the member must have signed (its card, or a contribution revealing or adding a key)
}

// membersOf lists the members a proposal names.
func membersOf(p Proposal) []labelled {
	var out []labelled
	switch {
	case p.Inception != nil:
		for _, c := range p.Inception.Members {
			out = append(out, labelled{label: c.Label, ids: []string{c.Key, c.Next}, proof: c.CheckProof, need: true})
		}
	case p.Rotation != nil:
		for _, c := range p.Rotation.Members {
			ids := []string{c.Key, c.Next, c.Prior, c.Signer}
			if c.Key != "" {
				ids = append(ids, kel.NextDigest(c.Key))
			}
			l := labelled{label: c.Label, ids: ids}
			switch c.Role {
			case RoleRotate, RoleFresh, RoleNextOnly:
				l.need = true
			}
			if l.need || c.Sig != "" {
				group := p.Rotation.Prefix
				l.proof = func() error { return c.CheckProof(group) }
			}
			out = append(out, l)
		}
	case p.Anchoring != nil:
		for _, c := range p.Anchoring.Members {
			l := labelled{label: c.Label, ids: []string{c.Key, c.Next}}
			if c.Sig != "" {
				l.proof = c.CheckProof
			}
			out = append(out, l)
		}
	}
	return out
}

// checkLabels is the review's check of the labels a proposal gives the
// members, which the review shows and reads thresholds with: every
// signature carried must verify, inception cards and contributions that
// reveal, add or commit a key must carry one (so a label swapped between
// two members no longer verifies), and no label may disagree with this
// device's record (book: key or digest → label, from its own ceremonies of
// the group). A label that is neither signed nor known here is the
// proposer's word alone: a warning says so.
func checkLabels(p Proposal, book map[string]string) ([]string, error) {
	var warnings []string
	for _, m := range membersOf(p) {
		for _, id := range m.ids {
			// "#i" names a position nobody labelled: no record.
			if l := book[id]; id != "" && l != "" && !strings.HasPrefix(l, "#") && l != m.label {
				return nil, fmt.Errorf("%w: the proposal calls %s %q, this device knows it as %q", ErrUnboundLabel, id, m.label, l)
			}
		}
		if m.proof == nil && m.need {
			return nil, fmt.Errorf("%w: %q carries no signature", ErrUnboundLabel, m.label)
		}
		if m.proof != nil {
			if err := m.proof(); err != nil {
				if !errors.Is(err, ErrUnboundLabel) {
					err = fmt.Errorf("%w: %w", ErrUnboundLabel, err)
				}
				return nil, err
			}
			continue
		}
		known := false
		for _, id := range m.ids {
			known = known || id != "" && book[id] == m.label
		}
		if !known {
			warnings = append(warnings, fmt.Sprintf("nothing signed binds the label %q and this device has no record of it: it is the proposer's word", m.label))
		}
	}
	return warnings, nil
}
