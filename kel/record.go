package kel

import (
	"slices"
	"sort"
)

// keptMsg is a message as its record keeps it: without what only a
// replay uses (attachErr, nil once accepted; check), and with its seal
// sources and receipt couples, which few messages carry, behind a pointer.
// Half the size of a Message.
type keptMsg struct {
	Event      *Event
	sigs, wigs []Siger
	more       *keptMore // nil when both are nil
}

type keptMore struct {
	sources []SourceSeal
	couples []Couple
}

func keep(m Message) keptMsg {
	a := keptMsg{Event: m.Event, sigs: m.Sigs, wigs: m.Wigs}
	if m.Sources != nil || m.Couples != nil {
		a.more = &keptMore{m.Sources, m.Couples}
	}
	return a
}

// message is the accepted message again.
func (a keptMsg) message() Message {
	m := Message{Event: a.Event, Sigs: a.sigs, Wigs: a.wigs}
	if a.more != nil {
		m.Sources, m.Couples = a.more.sources, a.more.couples
	}
	return m
}

// messagesOf lists the accepted messages of as.
func messagesOf(as []keptMsg) []Message {
	out := make([]Message, len(as))
	for i, a := range as {
		out[i] = a.message()
	}
	return out
}

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

// reserveFor sizes the records of the prefixes of msgs, about to be
// accepted, once for all of them instead of growing each event by event:
// a record made for a prefix gets room for its messages among msgs, an
// existing one grows by as many. The room is at most one slot per message
// already in memory, however many of them are refused.
func (v *Verifier) reserveFor(msgs []Message) {
	if len(msgs) < 2 {
		return
	}
	v.reserve = map[string]int{}
	for _, m := range msgs {
		v.reserve[m.Event.prefix]++
	}
	for p, n := range v.reserve {
		if rec := v.kels[p]; rec != nil {
			rec.msgs = slices.Grow(rec.msgs, n)
		}
	}
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
