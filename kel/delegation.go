package kel

import (
	"fmt"
	"slices"
)

// Delegation. A dip or drt is accepted only once the verifier holds its
// delegator's KEL with an event seal anchoring it. Until then the message
// waits, held with every later event of its identifier, and is decided the
// moment an accepted event anchors it: the order in which KELs arrive does
// not change what is accepted. The -G couple (the delegator's anchoring
// event by sequence number and SAID) is a hint for finding the anchor, never
// a reason to refuse an event the delegator's KEL anchors.

// heldMsg is a message waiting in the verifier.
type heldMsg struct {
	m   Message
	seq int // arrival order among every held message
}

// hold keeps a message waiting for its delegator's anchor. Held messages are
// verified again in full when they are decided (even those RestoreAccepted
// held), since the events held behind one were never checked.
func (v *Verifier) hold(m Message) {
	m.check = nil
	v.heldSeq++
	// Clipped: a Clone shares these lists.
	v.held[m.Event.prefix] = append(slices.Clip(v.held[m.Event.prefix]), heldMsg{m: m, seq: v.heldSeq})
}

// holdBehind holds an event of an identifier that already has one waiting:
// it cannot be judged before the events it follows.
func (v *Verifier) holdBehind(m Message) Result {
	ev := m.Event
	r := Result{Prefix: ev.prefix, Sn: ev.sn, Ilk: ev.ilk, SAID: ev.said, Held: true}
	q := v.held[ev.prefix]
	head := q[0].m.Event
	r.Err = eventErr(ev, fmt.Errorf("%w: waits for %s sn %d %s of the same identifier, whose delegation is not anchored",
		ErrDelegationMissing, head.ilk, head.sn, head.said))
	for _, h := range q {
		if h.m.Event.said == ev.said {
			r.Warnings = []string{"duplicate_event"}
			return r
		}
	}
	v.hold(m)
	return r
}

// release decides the held messages that the just committed event from
// anchors, and what their acceptance releases in turn, in order.
func (v *Verifier) release(from *Event) []Released {
	var out []Released
	work := []*Event{from}
	for len(work) > 0 {
		e := work[0]
		work = work[1:]
		for _, s := range e.seals {
			if s.Kind != SealEvent {
				continue
			}
			q := v.held[s.I]
			if len(q) == 0 || q[0].m.Event.sn != s.S || q[0].m.Event.said != s.D {
				continue
			}
			out, work = v.drain(s.I, out, work)
		}
	}
	return out
}

// drain decides the held messages of prefix in order until one has to wait
// again; the committed ones go on the work list (their seals may anchor
// other held events).
func (v *Verifier) drain(prefix string, out []Released, work []*Event) ([]Released, []*Event) {
	for len(v.held[prefix]) > 0 {
		h := v.held[prefix][0]
		r, committed, wait := v.decide(h.m, false)
		if wait {
			break
		}
		v.held[prefix] = v.held[prefix][1:]
		out = append(out, Released{Message: h.m, Result: r})
		if committed {
			work = append(work, h.m.Event)
		}
	}
	if len(v.held[prefix]) == 0 {
		delete(v.held, prefix)
	}
	return out, work
}

// Held lists the messages still waiting for their delegator's anchor, in
// the order they arrived.
func (v *Verifier) Held() []Message {
	var hs []heldMsg
	for _, q := range v.held {
		hs = append(hs, q...)
	}
	slices.SortFunc(hs, func(a, b heldMsg) int { return a.seq - b.seq })
	out := make([]Message, len(hs))
	for i, h := range hs {
		out[i] = h.m
	}
	return out
}

// AcceptUnanchored decides every held message as if its delegator had
// anchored it: accepted with the warning delegation_not_anchored when
// nothing else fails. It is for a person who explicitly asks to look past
// a missing delegator KEL (`keremony verify --allow-unanchored-delegation`);
// nothing that keeps a KEL may call it.
func (v *Verifier) AcceptUnanchored() []Released {
	v.lenient = true
	defer func() { v.lenient = false }()
	var out []Released
	for len(v.held) > 0 {
		first, best := "", -1
		for p, q := range v.held {
			if best < 0 || q[0].seq < best {
				first, best = p, q[0].seq
			}
		}
		h := v.held[first][0]
		if v.held[first] = v.held[first][1:]; len(v.held[first]) == 0 {
			delete(v.held, first)
		}
		r, committed, _ := v.decide(h.m, false)
		out = append(out, Released{Message: h.m, Result: r})
		if committed {
			out = append(out, v.release(h.m.Event)...)
		}
	}
	return out
}

// Settle gives each held message in results its final verdict: the result
// of a held message that a later result released is replaced by the
// released one (the first held result of that event, once). Results of
// messages still held are left as they are.
func Settle(results []Result) []Result {
	type key struct{ prefix, said string }
	waiting := map[key][]int{}
	for i, r := range results {
		if r.Held {
			k := key{r.Prefix, r.SAID}
			waiting[k] = append(waiting[k], i)
		}
		for _, rel := range r.Released {
			k := key{rel.Result.Prefix, rel.Result.SAID}
			if idx := waiting[k]; len(idx) > 0 {
				results[idx[0]] = rel.Result
				waiting[k] = idx[1:]
			}
		}
	}
	return results
}

// checkDelegation looks for the delegator's event seal anchoring ev. It
// fails (err) when the delegator refuses to delegate or the couple is
// malformed, and reports unanchored when the delegator's KEL is not held or
// holds no accepted event anchoring ev (events a recovery superseded do not
// count). The -G couple only says where to look first.
func (v *Verifier) checkDelegation(ev *Event, delegator string, sources []SourceSeal) (warnings []string, unanchored, err error) {
	drec, known := v.kels[delegator]
	if !known {
		return nil, fmt.Errorf("%w: the kel of delegator %s is not held", ErrDelegationMissing, delegator), nil
	}
	dstate := drec.last()
	if slices.Contains(drec.states[0].Config, "DND") || slices.Contains(dstate.Config, "DND") {
		return nil, nil, fmt.Errorf("%w: %s", ErrDelegatorRefuses, delegator)
	}
	var src *SourceSeal
	if len(sources) > 0 {
		src = &sources[len(sources)-1]
		if src.Sn == 0 {
			// A delegating event is never the delegator's inception (whose
			// SAID the delegated event names); keripy drops such an event.
			return nil, nil, fmt.Errorf("%w: couple names sn 0 of %s, an inception", ErrDelegationMismatch, delegator)
		}
	}
	var byDelegator []AnchorRef
	for _, a := range v.anchors[anchorKey{ev.prefix, ev.sn, ev.said}] {
		if a.Prefix == delegator {
			byDelegator = append(byDelegator, a)
		}
	}
	if len(byDelegator) == 0 {
		return nil, fmt.Errorf("%w: %s holds no seal for %s", ErrDelegationMissing, delegator, ev.said), nil
	}
	switch {
	case src == nil:
		return []string{"delegation_source_seal_not_attached"}, nil, nil
	case !slices.Contains(byDelegator, AnchorRef{Prefix: delegator, Sn: src.Sn, SAID: src.SAID}):
		return []string{"delegation_source_seal_mismatch"}, nil, nil
	}
	return nil, nil, nil
}
