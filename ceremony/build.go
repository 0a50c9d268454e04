package ceremony

import (
	"fmt"
	"slices"

	"github.com/keremony/keremony/kel"
)

// InceptionParams declare a group inception.
type InceptionParams struct {
	// Members in roster order: keys go into k and digests into n in this
	// order.
	Members   []Card
	Kt, Nt    kel.Threshold
	Witnesses []string
	Bt        uint64
	Config    []string // "EO" (establishment only), "DND" (do not delegate)
	// Delegator makes the event a dip: the delegator must anchor it before
	// the ceremony can finalize.
	Delegator string
}

// RotationParams declare a group rotation. The prefix, sn and prior event
// come from the group's key state, never from the parameters.
type RotationParams struct {
	Prefix string
	// Members in roster order: the keys of RoleRotate and RoleFresh members
	// go into k, and every new or carried digest into n, in this order.
	Members []Contribution
	Kt, Nt  kel.Threshold
	// Bt is the new witness threshold; 0 keeps the current one (or none
	// when the new witness list is empty).
	Bt    uint64
	Cuts  []string
	Adds  []string
	Seals []kel.Seal
	// Supersede makes a recovery rotation: the rotation takes sequence
	// number Supersede, superseding the interaction events the group's KEL
	// holds from there on (0: an ordinary rotation after the last event).
	// See RotationBase for where it may stand.
	Supersede uint64
}

// AnchoringParams declare an ixn that anchors seals in the group's KEL.
type AnchoringParams struct {
	Prefix string
	Seals  []kel.Seal
	// Members optionally label the group's current keys (matched by Key).
	Members []Card
	// Documents are the proposer's notes on the documents behind digest
	// seals (file name and size): hints for the co-signers, not part of
	// the event.
	Documents []DocumentNote
}

// traits ceremonies can set at inception.
var allowedTraits = []string{"EO", "DND"}

// BuildInception builds the proposed icp (or dip) and its roster. It is a
// pure function: every co-signer rebuilds the same bytes from the same
// parameters.
func BuildInception(p InceptionParams) (*kel.Event, Roster, error) {
	if len(p.Members) == 0 {
		return nil, nil, fmt.Errorf("%w: an inception needs at least one member", ErrInvalidParams)
	}
	var keys, next []string
	roster := make(Roster, 0, len(p.Members))
	labels := map[string]bool{}
	for i, c := range p.Members {
		if err := checkLabel(c.Label, i, labels); err != nil {
			return nil, nil, err
		}
		if c.Key == "" && c.Next == "" {
			return nil, nil, fmt.Errorf("%w: member %q brings neither a key nor a next digest", ErrInvalidParams, c.Label)
		}
		m := Member{Label: c.Label, Role: RoleSigner, Index: -1, NextIndex: -1, Ondex: -1}
		if c.Key != "" {
			if err := checkKey(c.Key, c.Label); err != nil {
				return nil, nil, err
			}
			if j := slices.Index(keys, c.Key); j >= 0 {
				return nil, nil, fmt.Errorf("%w: %s is the key of both %q and %q", ErrDuplicateKey, c.Key, roster.labelAt(j), c.Label)
			}
			m.Key, m.Index = c.Key, len(keys)
			keys = append(keys, c.Key)
		}
		if c.Next != "" {
			if err := checkDigest(c.Next, c.Label); err != nil {
				return nil, nil, err
			}
			if j := slices.Index(next, c.Next); j >= 0 {
				return nil, nil, fmt.Errorf("%w: %s is the next digest of both %q and %q", ErrDuplicateDigest, c.Next, roster.NextLabels(len(next))[j], c.Label)
			}
			m.Next, m.NextIndex = c.Next, len(next)
			next = append(next, c.Next)
		}
		roster = append(roster, m)
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("%w: no member brings a signing key", ErrInvalidParams)
	}
	if len(next) == 0 {
		return nil, nil, fmt.Errorf("%w: no member brings a next digest, so the group could never rotate", ErrInvalidParams)
	}
	if err := checkExposedCommitments(keys, next); err != nil {
		return nil, nil, err
	}
	if err := checkThresholds(p.Kt, len(keys), p.Nt, len(next)); err != nil {
		return nil, nil, err
	}
	for _, c := range p.Config {
		if !slices.Contains(allowedTraits, c) {
			return nil, nil, fmt.Errorf("%w: configuration trait %q (ceremonies set only EO and DND)", ErrInvalidParams, c)
		}
	}
	ev, err := kel.Incept(kel.InceptionOptions{
		Keys: keys, Kt: p.Kt, Next: next, Nt: p.Nt,
		Witnesses: p.Witnesses, Bt: p.Bt, Config: p.Config, Delegator: p.Delegator,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidParams, err)
	}
	return ev, roster, nil
}

// RotationBase is the key state a rotation builds on: the group's current
// state, or for a recovery rotation (p.Supersede) the state after the
// event before Supersede. A recovery may supersede the interactions after
// the group's last establishment event (a delegated group: only its latest
// event, an interaction); a Supersede one past the KEL's last event is an
// ordinary rotation, as on a device that never saw the interactions.
func RotationBase(v *kel.Verifier, p RotationParams) (kel.KeyState, error) {
	st, ok := v.State(p.Prefix)
	if !ok {
		return kel.KeyState{}, fmt.Errorf("%w: %s", ErrUnknownGroup, p.Prefix)
	}
	switch {
	case p.Supersede == 0 || p.Supersede == st.Sn+1:
		return st, nil
	case p.Supersede > st.Sn+1:
		return kel.KeyState{}, fmt.Errorf("%w: sn %d is past the kel of %s, which ends at sn %d", ErrNotRecoverable, p.Supersede, p.Prefix, st.Sn)
	}
	base, err := v.RecoveryBase(p.Prefix, p.Supersede, st.Delegator != "")
	if err != nil {
		return kel.KeyState{}, fmt.Errorf("%w: sn %d of %s: %w", ErrNotRecoverable, p.Supersede, p.Prefix, err)
	}
	return base, nil
}

// BuildRotation builds the proposed rot (drt for a delegated group) on top
// of state: the group's current key state, or for a recovery rotation the
// state RotationBase gives. Like keripy's BaseHab.rotate it refuses, before
// anyone signs, a plan whose revealed keys cannot satisfy the prior nt
// (ErrPriorNextUnreachable).
func BuildRotation(state kel.KeyState, p RotationParams) (*kel.Event, Roster, error) {
	if err := checkRotatable(state, p); err != nil {
		return nil, nil, err
	}
	if p.Supersede != 0 && p.Supersede != state.Sn+1 {
		return nil, nil, fmt.Errorf("%w: a recovery at sn %d builds on the state at sn %d, not %d", ErrInvalidParams, p.Supersede, p.Supersede-1, state.Sn)
	}
	if p.Supersede != 0 && (len(p.Cuts) > 0 || len(p.Adds) > 0) {
		return nil, nil, fmt.Errorf("%w: a recovery rotation keeps the witnesses (keripy ignores changes in one)", ErrInvalidParams)
	}
	rb := rosterBuilder{state: state, claimed: map[int]string{}, labels: map[string]bool{}, roster: make(Roster, 0, len(p.Members))}
	for i, c := range p.Members {
		if err := rb.add(i, c); err != nil {
			return nil, nil, err
		}
	}
	if err := rb.check(p); err != nil {
		return nil, nil, err
	}
	bt, err := rotationBt(state, p)
	if err != nil {
		return nil, nil, err
	}
	ev, err := kel.Rotate(kel.RotationOptions{
		Prefix: state.Prefix, Sn: state.Sn + 1, Prior: state.Last,
		Keys: rb.keys, Kt: p.Kt, Next: rb.next, Nt: p.Nt,
		Bt: bt, Cuts: p.Cuts, Adds: p.Adds, Seals: p.Seals,
		Delegated: state.Delegator != "",
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidParams, err)
	}
	return ev, rb.roster, nil
}

// checkRotatable checks that the parameters are of this group, that the
// group can still rotate and that someone contributes.
func checkRotatable(state kel.KeyState, p RotationParams) error {
	if p.Prefix != state.Prefix {
		return fmt.Errorf("%w: parameters name group %q, key state is of %q", ErrInvalidParams, p.Prefix, state.Prefix)
	}
	if !state.Transferable() {
		return fmt.Errorf("%w: group %s has no next keys and can no longer rotate", ErrInvalidParams, state.Prefix)
	}
	if len(p.Members) == 0 {
		return fmt.Errorf("%w: a rotation needs contributions", ErrInvalidParams)
	}
	return nil
}

// rosterBuilder places a rotation's contributions, in order, in the new key
// and next lists and the roster.
type rosterBuilder struct {
	state      kel.KeyState
	keys, next []string
	exposed    []int          // prior n positions whose keys are revealed
	claimed    map[int]string // prior n position → label
	roster     Roster
	labels     map[string]bool
}

// add checks contribution i and places its member.
func (rb *rosterBuilder) add(i int, c Contribution) error {
	if err := checkLabel(c.Label, i, rb.labels); err != nil {
		return err
	}
	if err := checkContribution(rb.state, c); err != nil {
		return err
	}
	m, err := rb.member(c)
	if err != nil {
		return err
	}
	if err := rb.place(&m, c.Label); err != nil {
		return err
	}
	rb.roster = append(rb.roster, m)
	return nil
}

// member makes a contribution's roster member: its key and next digest,
// and the prior digest it claims.
func (rb *rosterBuilder) member(c Contribution) (Member, error) {
	m := Member{Label: c.Label, Role: c.Role, Index: -1, NextIndex: -1, Ondex: -1}
	var err error
	switch c.Role {
	case RoleRotate:
		if err = rb.claim(&m, kel.NextDigest(c.Key)); err == nil {
			rb.exposed = append(rb.exposed, m.Ondex)
		}
		m.Key, m.Next = c.Key, c.Next
	case RoleFresh:
		m.Key, m.Next = c.Key, c.Next
	case RoleNextOnly:
		m.Next = c.Next
	case RoleReserve:
		err = rb.claim(&m, c.Prior)
		m.Next = c.Prior
	case RoleDrop:
		if c.Prior != "" {
			err = rb.claim(&m, c.Prior)
		}
	}
	return m, err
}

// claim records that m accounts for the prior digest; no two members may.
func (rb *rosterBuilder) claim(m *Member, prior string) error {
	j := slices.Index(rb.state.Next, prior)
	if who, ok := rb.claimed[j]; ok {
		return fmt.Errorf("%w: prior digest %s is claimed by both %q and %q", ErrContribution, prior, who, m.Label)
	}
	rb.claimed[j] = m.Label
	m.Prior, m.Ondex = prior, j
	return nil
}

// place appends m's key and next digest to the new lists, refusing one
// another member already has.
func (rb *rosterBuilder) place(m *Member, label string) error {
	if m.Key != "" {
		if j := slices.Index(rb.keys, m.Key); j >= 0 {
			return fmt.Errorf("%w: %s is the key of both %q and %q", ErrDuplicateKey, m.Key, rb.roster.labelAt(j), label)
		}
		m.Index = len(rb.keys)
		rb.keys = append(rb.keys, m.Key)
	}
	if m.Next != "" {
		if j := slices.Index(rb.next, m.Next); j >= 0 {
			return fmt.Errorf("%w: %s is the next digest of both %q and %q", ErrDuplicateDigest, m.Next, rb.roster.NextLabels(len(rb.next))[j], label)
		}
		m.NextIndex = len(rb.next)
		rb.next = append(rb.next, m.Next)
	}
	return nil
}

// check checks the placed lists as a whole: someone signs, someone is
// committed, the thresholds fit, and the revealed keys meet the prior nt.
func (rb *rosterBuilder) check(p RotationParams) error {
	if len(rb.keys) == 0 {
		return fmt.Errorf("%w: no member signs the rotation", ErrInvalidParams)
	}
	if len(rb.next) == 0 {
		return fmt.Errorf("%w: the new next list is empty (ceremonies do not abandon a group)", ErrInvalidParams)
	}
	if err := checkExposedCommitments(rb.keys, rb.next); err != nil {
		return err
	}
	if err := checkThresholds(p.Kt, len(rb.keys), p.Nt, len(rb.next)); err != nil {
		return err
	}
	st := rb.state
	if sat := st.Nt.Satisfy(rb.exposed); !sat.Met {
		return fmt.Errorf("%w: prior nt %s (%s) is not met by the revealed keys at prior positions %v",
			ErrPriorNextUnreachable, st.Nt, st.Nt.Describe(priorNextLabels(rb.roster, len(st.Next))), sortedInts(rb.exposed))
	}
	return nil
}

// rotationBt is the witness threshold after the rotation: the given one, or
// the current one when none is given and witnesses remain; it must fit the
// witnesses.
func rotationBt(state kel.KeyState, p RotationParams) (uint64, error) {
	wits, err := rotateWitnesses(state.Witnesses, p.Cuts, p.Adds)
	if err != nil {
		return 0, err
	}
	bt := p.Bt
	if bt == 0 && len(wits) > 0 {
		bt = state.Bt
	}
	if (len(wits) == 0 && bt != 0) || (len(wits) > 0 && (bt < 1 || bt > uint64(len(wits)))) {
		return 0, fmt.Errorf("%w: bt %d does not fit %d witnesses", ErrInvalidParams, bt, len(wits))
	}
	return bt, nil
}

// CheckContribution checks one contribution against the group's current key
// state as it arrives in round one of a rotation: a revealed key must be the
// one the member committed, a fresh key must not be.
func CheckContribution(state kel.KeyState, c Contribution) error {
	if c.Label == "" {
		return fmt.Errorf("%w: contribution without a label", ErrInvalidParams)
	}
	return checkContribution(state, c)
}

// checkContribution checks a contribution's fields for its role, their
// encodings, and its keys against the group's next list.
func checkContribution(state kel.KeyState, c Contribution) error {
	if err := checkContributionFields(c); err != nil {
		return err
	}
	if err := checkContributionEncodings(state, c); err != nil {
		return err
	}
	return checkContributionCommitment(state, c)
}

// checkContributionFields checks that the role is known and that the
// contribution has exactly the fields its role needs.
func checkContributionFields(c Contribution) error {
	var rules [3]bool // key, next, prior required
	switch c.Role {
	case RoleRotate:
		rules = [3]bool{true, true, false}
	case RoleFresh:
		rules = [3]bool{true, c.Next != "", false}
	case RoleNextOnly:
		rules = [3]bool{false, true, false}
	case RoleReserve:
		rules = [3]bool{false, false, true}
	case RoleDrop:
		rules = [3]bool{false, false, c.Prior != ""}
	default:
		return fmt.Errorf("%w: %q has role %q", ErrInvalidParams, c.Label, c.Role)
	}
	for i, f := range []struct{ name, value string }{{"key", c.Key}, {"next digest", c.Next}, {"prior digest", c.Prior}} {
		if c.Role == RoleRotate && i == 2 {
			continue // optional, checked in checkContributionCommitment
		}
		if (f.value != "") == rules[i] {
			continue
		}
		if rules[i] {
			return fmt.Errorf("%w: %q (%s) needs a %s", ErrContribution, c.Label, c.Role, f.name)
		}
		return fmt.Errorf("%w: %q (%s) takes no %s", ErrContribution, c.Label, c.Role, f.name)
	}
	return nil
}

// checkContributionEncodings checks the key and digests given, and that a
// prior digest is in the group's next list.
func checkContributionEncodings(state kel.KeyState, c Contribution) error {
	if c.Key != "" {
		if err := checkKey(c.Key, c.Label); err != nil {
			return err
		}
	}
	if c.Next != "" {
		if err := checkDigest(c.Next, c.Label); err != nil {
			return err
		}
	}
	if c.Prior == "" {
		return nil
	}
	if err := checkDigest(c.Prior, c.Label); err != nil {
		return err
	}
	if !slices.Contains(state.Next, c.Prior) {
		return fmt.Errorf("%w: prior digest %s of %q is not in the group's next list", ErrContribution, c.Prior, c.Label)
	}
	return nil
}

// checkContributionCommitment checks a revealed key against the group's
// next list (it must be committed, and be the declared prior digest's key)
// and a fresh key (it must not be committed).
func checkContributionCommitment(state kel.KeyState, c Contribution) error {
	switch c.Role {
	case RoleRotate:
		d := kel.NextDigest(c.Key)
		if !slices.Contains(state.Next, d) {
			return fmt.Errorf("%w: the key %s revealed by %q is not committed in the group's next list", ErrContribution, c.Key, c.Label)
		}
		if c.Prior != "" && c.Prior != d {
			return fmt.Errorf("%w: %q reveals %s, whose digest is %s, not the declared %s", ErrContribution, c.Label, c.Key, d, c.Prior)
		}
	case RoleFresh:
		if j := slices.Index(state.Next, kel.NextDigest(c.Key)); j >= 0 {
			return fmt.Errorf("%w: the fresh key %s of %q is committed at prior n[%d]: use role %q", ErrContribution, c.Key, c.Label, j, RoleRotate)
		}
	}
	return nil
}

// BuildAnchoring builds the proposed ixn carrying seals: kel.EventSeal for
// another identifier's event, kel.DigestSeal for a document.
func BuildAnchoring(state kel.KeyState, p AnchoringParams) (*kel.Event, Roster, error) {
	if p.Prefix != state.Prefix {
		return nil, nil, fmt.Errorf("%w: parameters name group %q, key state is of %q", ErrInvalidParams, p.Prefix, state.Prefix)
	}
	if slices.Contains(state.Config, "EO") {
		return nil, nil, fmt.Errorf("%w: group %s is establishment-only and cannot anchor with an ixn", ErrInvalidParams, state.Prefix)
	}
	if !state.Transferable() {
		return nil, nil, fmt.Errorf("%w: group %s has been abandoned", ErrInvalidParams, state.Prefix)
	}
	if len(p.Seals) == 0 {
		return nil, nil, fmt.Errorf("%w: an anchoring needs at least one seal", ErrInvalidParams)
	}
	labels := map[string]bool{}
	for i, c := range p.Members {
		if err := checkLabel(c.Label, i, labels); err != nil {
			return nil, nil, err
		}
		if c.Key != "" && !slices.Contains(state.Keys, c.Key) {
			return nil, nil, fmt.Errorf("%w: key %s of %q is not a current key of %s", ErrInvalidParams, c.Key, c.Label, state.Prefix)
		}
	}
	ev, err := kel.Interact(kel.InteractionOptions{Prefix: state.Prefix, Sn: state.Sn + 1, Prior: state.Last, Seals: p.Seals})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidParams, err)
	}
	roster := make(Roster, len(state.Keys))
	for i, k := range state.Keys {
		roster[i] = Member{Label: fmt.Sprintf("#%d", i), Role: RoleSigner, Key: k, Index: i, NextIndex: -1, Ondex: -1}
		for _, c := range p.Members {
			if c.Key == k {
				roster[i].Label = c.Label
				if j := slices.Index(state.Next, c.Next); c.Next != "" && j >= 0 {
					roster[i].Next, roster[i].NextIndex = c.Next, j
				}
			}
		}
	}
	return ev, roster, nil
}

func checkLabel(label string, i int, seen map[string]bool) error {
	switch {
	case label == "":
		return fmt.Errorf("%w: member %d has no label", ErrInvalidParams, i)
	case len(label) > 64:
		return fmt.Errorf("%w: label %.64q… is longer than 64 bytes", ErrInvalidParams, label)
	case seen[label]:
		return fmt.Errorf("%w: label %q is used twice", ErrInvalidParams, label)
	}
	if err := checkLabelText("label", label); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidParams, err)
	}
	seen[label] = true
	return nil
}

func checkKey(key, label string) error {
	if _, err := kel.DecodeMatter(key, kel.CodeEd25519); err != nil {
		return fmt.Errorf("%w: key %q of %q: %w", ErrInvalidParams, clip(key), label, err)
	}
	return nil
}

func checkDigest(d, label string) error {
	if _, err := kel.DecodeMatter(d, kel.CodeBlake3_256); err != nil {
		return fmt.Errorf("%w: next digest %q of %q: %w", ErrInvalidParams, clip(d), label, err)
	}
	return nil
}

// checkExposedCommitments refuses a next list that commits to a key the same
// event already exposes: that would defeat pre-rotation.
func checkExposedCommitments(keys, next []string) error {
	for _, k := range keys {
		if j := slices.Index(next, kel.NextDigest(k)); j >= 0 {
			return fmt.Errorf("%w: n[%d] commits to %s, which this event exposes as a signing key", ErrDuplicateDigest, j, k)
		}
	}
	return nil
}

func checkThresholds(kt kel.Threshold, nKeys int, nt kel.Threshold, nNext int) error {
	if err := kt.Validate(nKeys); err != nil {
		return fmt.Errorf("%w: kt %s over %d keys: %w", ErrThreshold, kt, nKeys, err)
	}
	if err := nt.Validate(nNext); err != nil {
		return fmt.Errorf("%w: nt %s over %d next digests: %w", ErrThreshold, nt, nNext, err)
	}
	return nil
}

// rotateWitnesses applies cuts and adds exactly as kel does.
func rotateWitnesses(wits, cuts, adds []string) ([]string, error) {
	out, err := kel.RotateWitnesses(wits, cuts, adds)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidParams, err)
	}
	return out, nil
}

// priorNextLabels names the prior n positions claimed by roster members.
func priorNextLabels(r Roster, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("#%d", i)
	}
	for _, m := range r {
		if m.Ondex >= 0 && m.Ondex < n {
			out[m.Ondex] = m.Label
		}
	}
	return out
}

func sortedInts(s []int) []int {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// clip shortens untrusted text for error messages.
func clip(s string) string {
	if len(s) > 48 {
		return s[:48] + "…"
	}
	return s
}
