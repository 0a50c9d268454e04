package device

import (
	"fmt"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// Recovery: when a group's latest events are interactions (signed, in a
// compromise, by a key an attacker holds), a recovery rotation at the sn of
// the first of them supersedes them. A delegated group may supersede only
// its latest event.

// Recoverable is where a recovery rotation of prefix would stand by
// default and the events it would supersede; from is 0 and events empty
// when the group's latest event is an establishment event (or its KEL
// does not restore: the operation that reads it reports why).
func (d *Device) Recoverable(prefix string) (from uint64, events []kel.EventRef) {
	if st, ok := d.store.State(prefix); !ok || st.LastIlk != kel.IlkIxn || st.Sn == st.EstSn {
		return 0, nil // nothing to read
	}
	v, err := d.store.VerifierOf(prefix)
	if err != nil {
		return 0, nil
	}
	return recoverableIn(v, prefix)
}

// recoverableIn is Recoverable on a copy of the store's verifier.
func recoverableIn(v *kel.Verifier, prefix string) (from uint64, events []kel.EventRef) {
	st, ok := v.State(prefix)
	if !ok || st.LastIlk != kel.IlkIxn || st.Sn == st.EstSn {
		return 0, nil
	}
	from = st.EstSn + 1
	if st.Delegator != "" {
		from = st.Sn
	}
	msgs := v.Messages(prefix)
	for _, m := range msgs[from:] {
		ev := m.Event
		events = append(events, kel.EventRef{Prefix: prefix, Sn: ev.Sn(), Ilk: ev.Ilk(), SAID: ev.SAID()})
	}
	return from, events
}

// recoverySn is the sn a recovery rotation of prefix takes: at, or by
// default the first interaction a recovery may supersede.
func (d *Device) recoverySn(prefix string, at uint64) (uint64, error) {
	from, events := d.Recoverable(prefix)
	if len(events) == 0 {
		st, _ := d.store.State(prefix)
		return 0, fmt.Errorf("%w: the latest event of %s is sn %d %s, an establishment event: a recovery rotation supersedes interaction events, and there are none since",
			ceremony.ErrNotRecoverable, d.GroupName(prefix), st.Sn, st.LastIlk)
	}
	if at == 0 {
		return from, nil
	}
	last := events[len(events)-1].Sn
	if at < from || at > last {
		return 0, fmt.Errorf("%w: --at %d: a recovery of %s may supersede from sn %d to sn %d", ceremony.ErrNotRecoverable, at, d.GroupName(prefix), from, last)
	}
	return at, nil
}
