package ceremony

import (
	"slices"
	"strconv"
)

// Kind is the sort of event a ceremony produces.
type Kind string

const (
	KindInception Kind = "inception" // icp, or dip when a delegator is named
	KindRotation  Kind = "rotation"  // rot (drt for a delegated group)
	KindAnchoring Kind = "anchoring" // ixn with seals
)

// Card is what a member brings to a group inception: a label (its alias in
// the group), its current key and its next-key digest.
type Card struct {
	Label string `json:"label"`
	Key   string `json:"key,omitempty"`  // current signing key, qb64 D…; "" for a member with rotation authority only
	Next  string `json:"next,omitempty"` // next-key digest, qb64 E…; "" for a member with signing authority only
	// Sig is the member's signature by Key over SigningBytes (qb64 0B…):
	// the card as its holder made it, which binds Label to the keys.
	Sig string `json:"sig,omitempty"`
}

// Role is what a member does in a ceremony.
type Role string

const (
	// RoleSigner signs with its current key (inception, anchoring).
	RoleSigner Role = "signer"
	// RoleRotate reveals the key whose digest it committed in the group's
	// prior n and signs with it (A/2A codes), committing a new next digest.
	RoleRotate Role = "rotate"
	// RoleFresh adds a key that was never committed: it signs with a B code
	// and counts only toward the new kt.
	RoleFresh Role = "fresh"
	// RoleNextOnly adds only a next digest: the member can sign from the
	// next rotation on ("grow through the next commitment").
	RoleNextOnly Role = "next-only"
	// RoleReserve carries the member's prior digest into the new n
	// unexposed (partial rotation).
	RoleReserve Role = "reserve"
	// RoleDrop leaves the member's prior digest neither revealed nor
	// carried (a lost device).
	RoleDrop Role = "drop"
)

// Contribution is one member's part in a rotation: round one of a rotation
// ceremony collects these before the event is built.
type Contribution struct {
	Label string `json:"label"`
	Role  Role   `json:"role"`
	// Key is the revealed key (RoleRotate) or the fresh key (RoleFresh).
	Key string `json:"key,omitempty"`
	// Next is the new next digest (RoleRotate, RoleFresh, RoleNextOnly).
	Next string `json:"next,omitempty"`
	// Prior is the member's digest in the group's prior n (RoleReserve,
	// RoleDrop; for RoleRotate it is derived from Key and may be left empty).
	Prior string `json:"prior,omitempty"`
	// Signer (the member's current key, qb64 D…) and Sig (qb64 0B…) are
	// the member's signature over SigningBytes, which binds Label to the
	// keys; a member joining through its card carries the card's key and
	// signature. A proposer's --reserve or --drop of a member that is not
	// there has neither.
	Signer string `json:"signer,omitempty"`
	Sig    string `json:"sig,omitempty"`
}

// Member is one roster entry: who a key or digest of the proposed event
// belongs to.
type Member struct {
	Label string `json:"label"`
	Role  Role   `json:"role"`
	// Key is the member's key in the list signatures index into: the event's
	// k, or for an anchoring the group's current k. "" when it does not sign.
	Key string `json:"key,omitempty"`
	// Next is the member's digest in the event's n ("" when none).
	Next string `json:"next,omitempty"`
	// Prior is, for rotations, the member's digest in the prior n.
	Prior string `json:"prior,omitempty"`
	// Index is the position of Key (-1 when the member does not sign).
	Index int `json:"index"`
	// NextIndex is the position of Next in the event's n (-1 when none).
	NextIndex int `json:"next_index"`
	// Ondex is, for rotations, the position of Prior in the prior n (-1).
	Ondex int `json:"ondex"`
}

// Signs reports whether the member has a key that signatures index.
func (m Member) Signs() bool { return m.Index >= 0 }

// Roster maps the proposed event's keys and digests to members, in the
// order the builder was given them.
type Roster []Member

// ByLabel finds a member by label.
func (r Roster) ByLabel(label string) (Member, bool) {
	for _, m := range r {
		if m.Label == label {
			return m, true
		}
	}
	return Member{}, false
}

// ByIndex finds the member whose key sits at index.
func (r Roster) ByIndex(index int) (Member, bool) {
	for _, m := range r {
		if m.Index >= 0 && m.Index == index {
			return m, true
		}
	}
	return Member{}, false
}

// ByKey finds the member holding key.
func (r Roster) ByKey(key string) (Member, bool) {
	for _, m := range r {
		if key != "" && m.Key == key {
			return m, true
		}
	}
	return Member{}, false
}

// KeyLabels names each signing position, for Threshold.Describe.
func (r Roster) KeyLabels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "#" + strconv.Itoa(i)
	}
	for _, m := range r {
		if m.Index >= 0 && m.Index < n {
			out[m.Index] = m.Label
		}
	}
	return out
}

// NextLabels names each position of the event's n.
func (r Roster) NextLabels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "#" + strconv.Itoa(i)
	}
	for _, m := range r {
		if m.NextIndex >= 0 && m.NextIndex < n {
			out[m.NextIndex] = m.Label
		}
	}
	return out
}

func (r Roster) clone() Roster { return slices.Clone(r) }

// labelAt names a signing position: the roster's label or "#i".
func (r Roster) labelAt(index int) string {
	if m, ok := r.ByIndex(index); ok {
		return m.Label
	}
	return "#" + strconv.Itoa(index)
}
