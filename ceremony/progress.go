package ceremony

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keremony/keremony/kel"
)

// SlotStatus is one member's standing in a ceremony.
type SlotStatus string

const (
	SlotSigned     SlotStatus = "signed"
	SlotWaiting    SlotStatus = "waiting"
	SlotInvalid    SlotStatus = "invalid"     // waiting; the last signature delivered for it was refused
	SlotNotSigning SlotStatus = "not signing" // the member has no key in this event (next-only, reserve, dropped)
)

// Slot is one roster member's line in the progress view.
type Slot struct {
	Label  string
	Role   Role
	Index  int // signing position, -1 when the member does not sign
	Ondex  int // rotations: the member's position in the prior n, -1 when none
	Status SlotStatus
	Code   string // code of the held signature (A, B, 2A, 2B)
	// Exposes is set (rotations) when the held signature reveals the
	// member's committed prior digest, so it counts toward the prior nt.
	Exposes bool
	Why     string // SlotInvalid: why the last signature was refused
}

// Progress says how far a ceremony is from finalizing. For open
// ceremonies the thresholds are measured by kel (Verifier.Progress) against
// the local KEL copy.
type Progress struct {
	State State
	Slots []Slot
	// Signed lists the signing positions holding a verified signature.
	Signed []int
	// Kt is the signing threshold's satisfaction (per-clause sums for
	// weighted thresholds); KtThreshold and KtText show the threshold.
	Kt          kel.Satisfaction
	KtThreshold string
	KtText      string
	// Rotation is set for rotations, which must also meet the prior nt over
	// the prior next positions their signatures expose.
	Rotation         bool
	Exposed          []int
	PriorNt          kel.Satisfaction
	PriorNtThreshold string
	PriorNtText      string
	// AwaitingAnchor is set for a delegated inception or rotation that its
	// delegator has not (yet, on this device) anchored.
	AwaitingAnchor bool
	// Blocked is a failure no further signature can cure, such as the
	// group's KEL having moved past this event.
	Blocked error
	// Missing says in plain words what is still missing ("" when Met).
	Missing string
	// Met: every threshold is met and the ceremony can finalize (for a
	// finalized ceremony: was met).
	Met bool
}

// Progress measures the collected signatures.
func (c *Ceremony) Progress() Progress {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.progressLocked()
}

func (c *Ceremony) progressLocked() Progress {
	b := c.b
	keyLabels := b.roster.KeyLabels(len(b.keys))
	p := Progress{State: c.state, Rotation: b.rotation, KtThreshold: b.kt.String(), KtText: b.kt.Describe(keyLabels)}
	priorLabels := priorNextLabels(b.roster, len(b.priorNext))
	if b.rotation {
		p.PriorNtThreshold, p.PriorNtText = b.priorNt.String(), b.priorNt.Describe(priorLabels)
	}
	met := c.measureLocally(&p)
	if c.delegator() != "" && c.state.Open() {
		_, anchored := c.delegationAnchor()
		p.AwaitingAnchor = !anchored
	}
	if c.state.Open() {
		met = c.measureWithKEL(&p, met)
	}
	p.Met = met && !p.AwaitingAnchor && p.Blocked == nil
	if c.state == StateFinalized {
		p.Met, p.AwaitingAnchor = true, false
	}
	p.Slots = c.slots()
	if !p.Met {
		p.Missing = c.missing(p, keyLabels, priorLabels)
	}
	return p
}

// measureLocally fills in the signed and exposed positions and the
// thresholds' satisfaction from the held signatures alone, the measure used
// when kel cannot be asked (closed ceremonies); it reports whether every
// threshold is met.
func (c *Ceremony) measureLocally(p *Progress) bool {
	b := c.b
	for _, s := range c.countedSigs() {
		p.Signed = append(p.Signed, s.Index)
		if c.exposes(s) {
			p.Exposed = append(p.Exposed, s.Ondex)
		}
	}
	slices.Sort(p.Exposed)
	p.Kt = b.kt.Satisfy(p.Signed)
	met := p.Kt.Met
	if b.rotation {
		p.PriorNt = b.priorNt.Satisfy(p.Exposed)
		met = met && p.PriorNt.Met
	}
	return met
}

// measureWithKEL asks kel, for an open ceremony, whether the held
// signatures meet the thresholds (replacing the local measure) or why the
// event can no longer be accepted (p.Blocked); met is the local measure's
// answer, returned when kel gives none.
func (c *Ceremony) measureWithKEL(p *Progress, met bool) bool {
	if len(c.sigs) == 0 {
		// Nothing collected: kel still says whether the event can chain.
		if _, err := c.v.Progress(kel.NewMessage(c.b.ev, nil)); err != nil && !errors.Is(err, kel.ErrMissingSignatures) {
			p.Blocked = err
		}
		return met
	}
	kp, err := c.v.Progress(c.message())
	switch {
	case err == nil, errors.Is(err, kel.ErrDelegationMissing), errors.Is(err, kel.ErrDelegationMismatch):
		p.Signed, p.Kt, p.Exposed, p.PriorNt = kp.Signed, kp.Kt, kp.Exposed, kp.PriorNt
		if err != nil {
			p.AwaitingAnchor = true
		}
		return kp.Met
	default:
		p.Blocked = err
		return met
	}
}

// countedSigs are the signatures the progress counts, in index order: the
// ones the finalized message carries once the ceremony is finalized (it may
// have arrived from another device with signatures this one never held),
// else the collected ones.
func (c *Ceremony) countedSigs() []kel.Siger {
	if c.state == StateFinalized && len(c.final) > 0 {
		if msgs, err := kel.ParseStream(c.final); err == nil && len(msgs) == 1 {
			sigs := slices.Clone(msgs[0].Sigs)
			slices.SortFunc(sigs, func(a, b kel.Siger) int { return a.Index - b.Index })
			return sigs
		}
	}
	return c.sortedSigs()
}

// slots is each roster member's signing slot and its status.
func (c *Ceremony) slots() []Slot {
	held := map[int]kel.Siger{}
	for _, s := range c.countedSigs() {
		held[s.Index] = s
	}
	var slots []Slot
	for _, m := range c.b.roster {
		s := Slot{Label: m.Label, Role: m.Role, Index: m.Index, Ondex: m.Ondex, Status: SlotNotSigning}
		if m.Index >= 0 {
			s.Status = SlotWaiting
			if sig, ok := held[m.Index]; ok {
				s.Status, s.Code, s.Exposes = SlotSigned, sig.Code, c.exposes(sig)
			} else if why, bad := c.rejected[m.Index]; bad {
				s.Status, s.Why = SlotInvalid, why
			}
		}
		slots = append(slots, s)
	}
	return slots
}

// exposes reports whether a held rotation signature reveals the digest the
// signing key was committed under.
func (c *Ceremony) exposes(s kel.Siger) bool {
	b := c.b
	return b.rotation && s.HasOndex && s.Index >= 0 && s.Index < len(b.keys) && s.Ondex >= 0 &&
		s.Ondex < len(b.priorNext) && kel.NextDigest(b.keys[s.Index]) == b.priorNext[s.Ondex]
}

func (c *Ceremony) missing(p Progress, keyLabels, priorLabels []string) string {
	var parts []string
	if p.Blocked != nil {
		parts = append(parts, "the event can no longer be accepted: "+p.Blocked.Error())
	}
	if !c.state.Open() && c.state != StateFinalized {
		parts = append(parts, "the ceremony is "+string(c.state))
	}
	if !p.Kt.Met {
		var waiting []string
		for i, l := range keyLabels {
			if !slices.Contains(p.Signed, i) {
				waiting = append(waiting, l)
			}
		}
		parts = append(parts, fmt.Sprintf("signing threshold %s (%s) not met: %s; waiting for %s",
			p.KtThreshold, p.KtText, describeSat(p.Kt, names(keyLabels, p.Signed)), orNobody(waiting)))
	}
	if p.Rotation && !p.PriorNt.Met {
		parts = append(parts, fmt.Sprintf("prior next threshold %s (%s) not met: %s",
			p.PriorNtThreshold, p.PriorNtText, describeSat(p.PriorNt, names(priorLabels, p.Exposed))))
	}
	if p.AwaitingAnchor {
		parts = append(parts, fmt.Sprintf("waiting for the delegator %s to anchor the event", c.delegator()))
	}
	return strings.Join(parts, "; ")
}

func describeSat(s kel.Satisfaction, who []string) string {
	if len(s.Clauses) == 0 {
		return fmt.Sprintf("%d of %d (%s)", s.Have, s.Need, orNobody(who))
	}
	var cl []string
	for i, c := range s.Clauses {
		cl = append(cl, fmt.Sprintf("clause %d sums to %s", i+1, c.Sum.RatString()))
	}
	return fmt.Sprintf("%s (%s)", strings.Join(cl, ", "), orNobody(who))
}

func names(labels []string, idx []int) []string {
	var out []string
	for _, i := range idx {
		if i >= 0 && i < len(labels) {
			out = append(out, labels[i])
		}
	}
	return out
}

func orNobody(s []string) string {
	if len(s) == 0 {
		return "nobody"
	}
	return strings.Join(s, ", ")
}

// Summary renders the progress in plain words, one line per member and one
// per threshold.
func (p Progress) Summary() []string {
	var out []string
	for _, s := range p.Slots {
		line := fmt.Sprintf("%s: %s", s.Label, s.Status)
		switch s.Status {
		case SlotSigned:
			line += " (" + s.Code
			if p.Rotation {
				if s.Exposes {
					line += ", reveals its committed key"
				} else {
					line += ", counts toward kt only"
				}
			}
			line += ")"
		case SlotInvalid:
			line += ": " + s.Why
		}
		out = append(out, line)
	}
	out = append(out, fmt.Sprintf("signing threshold %s: %s", p.KtThreshold, metText(p.Kt.Met)))
	if p.Rotation {
		out = append(out, fmt.Sprintf("prior next threshold %s: %s", p.PriorNtThreshold, metText(p.PriorNt.Met)))
	}
	if p.Met {
		out = append(out, "ready")
	} else {
		out = append(out, "not ready: "+p.Missing)
	}
	return out
}

func metText(met bool) string {
	if met {
		return "met"
	}
	return "not met"
}
