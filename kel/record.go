package kel

import (
	"slices"
	"sort"
)

// A kelRecord keeps one key state per establishment event, not per event:
// an interaction changes only the fields that name the last event (Sn, Last,
// Prior, LastIlk), so the state after any accepted event is its last
// establishment event's state with those fields taken from the event itself
// (exactly what transition computes for an ixn).

// stateAt is the key state right after the accepted event at sn, which
// must be below len(rec.msgs).
func (rec *kelRecord) stateAt(sn uint64) KeyState {
	i := len(rec.states) - 1
	if rec.states[i].EstSn > sn {
		i = sort.Search(len(rec.states), func(j int) bool { return rec.states[j].EstSn > sn }) - 1
	}
	s := rec.states[i]
	if s.Sn != sn {
		ev := rec.msgs[sn].Event
		s.Sn, s.Last, s.Prior, s.LastIlk = ev.sn, ev.said, ev.prior, ev.ilk
	}
	return s
}

// last is the key state after the record's last accepted event.
func (rec *kelRecord) last() KeyState { return rec.stateAt(uint64(len(rec.msgs) - 1)) }

// truncate drops the accepted events from sn on (and the states of the
// establishment events among them), copying: a Clone may share the lists.
func (rec *kelRecord) truncate(sn uint64) {
	n := sort.Search(len(rec.states), func(j int) bool { return rec.states[j].EstSn >= sn })
	rec.states = slices.Clone(rec.states[:n])
	rec.msgs = slices.Clone(rec.msgs[:sn])
}
