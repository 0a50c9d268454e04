package device

import (
	"fmt"
	"slices"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// smallKEL is the length (in events) up to which the KEL of an identifier
// other than the group (a delegator, an identifier whose event is anchored)
// comes whole with a proposal; a longer one contributes its last
// establishment event and the event concerned, and a device without the
// rest imports a catch-up bundle.
const smallKEL = 8

// proposalContext is the CESR stream of the events a ceremony's event
// builds on, bounded whatever the history: for a rotation or anchoring,
// the group's last establishment event and the event it chains to (for a
// recovery rotation also the group's latest event here, so that a device
// that does not hold the interactions it supersedes is told to import
// them first); for a delegated inception the delegator's KEL while small,
// else its last establishment event and latest event; then, for each other
// identifier whose event it anchors, that identifier's KEL while small,
// else its last establishment event and the anchored event. A co-signer
// whose KEL is behind these is told which sequence numbers it lacks
// (behind) and imports them as a catch-up bundle (kel export --since).
func (d *Device) proposalContext(cer *ceremony.Ceremony) ([]byte, error) {
	v, err := d.store.VerifierOf(cer.Event().KELsRead()...)
	if err != nil {
		return nil, err
	}
	return contextFor(v, cer.Kind(), cer.Event()), nil
}

// contextFor is proposalContext for an event of kind, on the KELs in v.
func contextFor(v *kel.Verifier, kind ceremony.Kind, ev *kel.Event) []byte {
	if kind == ceremony.KindInception {
		if del := ev.Delegator(); del != "" {
			if st, ok := v.State(del); ok {
				return contextOf(v, del, st.Sn)
			}
		}
		return nil
	}
	var out []byte
	p := ev.Prefix()
	if ev.Sn() > 0 {
		if prior, ok := v.StateAt(p, ev.Sn()-1); ok {
			sns := []uint64{prior.EstSn, ev.Sn() - 1}
			rotation := ev.Ilk() == kel.IlkRot || ev.Ilk() == kel.IlkDrt
			if st, ok := v.State(p); ok && rotation && st.Sn >= ev.Sn() {
				sns = append(sns, st.Sn)
			}
			out = appendAt(out, v, p, sns)
		}
	}
	var with []string
	for _, s := range ev.Seals() {
		if s.Kind != kel.SealEvent || s.I == p || slices.Contains(with, s.I) {
			continue
		}
		if _, ok := v.MessageAt(s.I, s.S); !ok {
			continue
		}
		with = append(with, s.I)
		out = append(out, contextOf(v, s.I, s.S)...)
	}
	return out
}

// contextOf is prefix's KEL while small, else its last establishment event
// at or before sn and its event at sn.
func contextOf(v *kel.Verifier, prefix string, sn uint64) []byte {
	if st, _ := v.State(prefix); st.Sn < smallKEL {
		return v.Export(prefix)
	}
	at, _ := v.StateAt(prefix, sn)
	return appendAt(nil, v, prefix, []uint64{at.EstSn, sn})
}

// appendAt appends prefix's accepted events at sns (ascending, each once).
func appendAt(out []byte, v *kel.Verifier, prefix string, sns []uint64) []byte {
	slices.Sort(sns)
	for _, sn := range slices.Compact(sns) {
		if m, ok := v.MessageAt(prefix, sn); ok {
			out = append(out, m.Bytes()...)
		}
	}
	return out
}

// behind refuses a proposal's context that does not chain to this
// device's KELs (in v): for the first identifier whose events in it start
// past the end of this device's copy, it names the sequence numbers this
// device holds and those it lacks, and the catch-up bundle that brings
// them (ErrBehind).
func (d *Device) behind(v *kel.Verifier, context []kel.Message) error {
	next := map[string]uint64{}
	last := map[string]uint64{}
	var order []string
	for _, m := range context {
		p := m.Event.Prefix()
		if _, seen := next[p]; !seen {
			order = append(order, p)
			next[p] = 0
			if st, ok := v.State(p); ok {
				next[p] = st.Sn + 1
			}
		}
		last[p] = max(last[p], m.Event.Sn())
	}
	gap := map[string]bool{}
	for _, m := range context {
		p, sn := m.Event.Prefix(), m.Event.Sn()
		switch {
		case gap[p] || sn < next[p]:
		case sn == next[p]:
			next[p]++
		default:
			gap[p] = true
		}
	}
	for _, p := range order {
		if !gap[p] {
			continue
		}
		st, held := v.State(p)
		from := uint64(0)
		holds := "this device holds no event of " + d.GroupName(p)
		if held {
			from = st.Sn + 1
			holds = fmt.Sprintf("this device holds sn 0 to %d of %s", st.Sn, d.GroupName(p))
		}
		return fmt.Errorf("%w: %s; the proposal needs sn %d to %d: import a catch-up bundle (keremony kel export %s --since %d, on a device that holds them)",
			ErrBehind, holds, from, last[p], p, from)
	}
	return nil
}
