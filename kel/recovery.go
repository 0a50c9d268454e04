package kel

import (
	"errors"
	"fmt"
	"slices"
)

// Recovery. A rotation may be accepted at the sequence number of an
// interaction event that came after the last establishment event,
// superseding that interaction and every event after it: how a group
// recovers when a compromised signing key signed interactions (KERI's
// superseding recovery). The superseded events stay on record, before the
// rotation in first-seen order, and anchor nothing any more.
//
// What may supersede what, as keripy 1.3.6 accepts it:
//   - a rot may supersede the interactions after the last establishment
//     event, from any of their sequence numbers on; never a rotation;
//   - a drt may supersede only the latest event, and only when it is an
//     interaction (keripy refuses a drt at an earlier interaction);
//   - keremony accepts no drt superseding a drt: keripy accepts it only when
//     the new rotation's delegating event is later, and then checks it
//     against the next keys of the rotation it supersedes, which a
//     recovering delegate does not hold; its other cases fail in keripy;
//   - an interaction supersedes nothing;
//   - a recovery rotation may not change witnesses (keripy ignores its br
//     and ba).

// supersession is one recovery: the events the rotation at sn at replaced.
type supersession struct {
	at   uint64
	by   EventRef
	msgs []Message // msgs[i] was at sn at+i
}

// Superseded is an event a recovery rotation superseded: accepted once, no
// longer part of the KEL's authoritative chain.
type Superseded struct {
	Message Message
	By      EventRef // the recovery rotation
}

// Superseded lists an identifier's superseded events in the order they were
// first seen.
func (v *Verifier) Superseded(prefix string) []Superseded {
	rec, ok := v.kels[prefix]
	if !ok {
		return nil
	}
	var out []Superseded
	for _, run := range rec.superseded {
		for _, m := range run.msgs {
			out = append(out, Superseded{Message: m, By: run.by})
		}
	}
	return out
}

// RecoveryBase reports whether a rotation at sn could supersede the events
// of prefix from sn on, and returns the key state it would build on (after
// the event at sn-1).
func (v *Verifier) RecoveryBase(prefix string, sn uint64, delegated bool) (KeyState, error) {
	rec, ok := v.kels[prefix]
	if !ok {
		return KeyState{}, fmt.Errorf("%w: %s", ErrUnknownPrefix, prefix)
	}
	ilk := IlkRot
	if delegated {
		ilk = IlkDrt
	}
	last := rec.last()
	if sn == 0 || sn > last.Sn {
		return KeyState{}, fmt.Errorf("%w: no event at sn %d to supersede (the kel ends at sn %d)", ErrOutOfOrder, sn, last.Sn)
	}
	if err := recoverable(rec, &Event{ilk: ilk, sn: sn, estFields: noEst}); err != nil {
		return KeyState{}, err
	}
	return rec.stateAt(sn - 1).clone(), nil
}

// errNotRecoverable is wrapped (beside ErrDuplicitous) when a different
// event at an accepted sequence number may not supersede it.
var errNotRecoverable = errors.New("it may not supersede the accepted event")

// recoverable reports why ev may not supersede the accepted event at its
// sequence number (nil when it may: the rules above).
func recoverable(rec *kelRecord, ev *Event) error {
	last := rec.last()
	why := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errNotRecoverable}, a...)...)
	}
	switch {
	case ev.ilk != IlkRot && ev.ilk != IlkDrt:
		return why("only a rotation supersedes events")
	case last.LastIlk == IlkDrt && ev.ilk == IlkDrt && ev.sn == last.Sn:
		return why("a drt does not supersede a drt")
	case ev.sn <= last.EstSn:
		return why("a rotation supersedes only interactions after the last establishment event (sn %d)", last.EstSn)
	case ev.ilk == IlkDrt && ev.sn != last.Sn:
		return why("a drt supersedes only the latest event (sn %d)", last.Sn)
	}
	return nil
}

// MayRecoverAt reports whether a recovery rotation could still supersede
// the accepted event at sn of prefix (a seal naming another event there may
// be a delegator's approval of that rotation).
func (v *Verifier) MayRecoverAt(prefix string, sn uint64) bool {
	rec, ok := v.kels[prefix]
	return ok && sn < uint64(len(rec.msgs)) && rec.mayRecoverAt(sn)
}

// mayRecoverAt reports whether a rotation (a drt for a delegated
// identifier) could still supersede the accepted event at sn.
func (rec *kelRecord) mayRecoverAt(sn uint64) bool {
	if sn == 0 {
		return false
	}
	ev := &Event{ilk: IlkRot, sn: sn, estFields: noEst}
	if rec.states[len(rec.states)-1].Delegator != "" {
		ev.ilk = IlkDrt
	}
	return recoverable(rec, ev) == nil
}

// checkRecoveryWitnesses refuses a recovery rotation that changes witnesses.
func checkRecoveryWitnesses(ev *Event) error {
	if len(ev.cuts) > 0 || len(ev.adds) > 0 {
		return fmt.Errorf("%w: a recovery rotation may not change witnesses (keripy ignores its br and ba)", ErrWitnessConfig)
	}
	return nil
}

// supersededAt finds a superseded event by sequence number and SAID.
func (rec *kelRecord) supersededAt(sn uint64, said string) (supersession, bool) {
	for _, run := range rec.superseded {
		if sn >= run.at && sn-run.at < uint64(len(run.msgs)) && run.msgs[sn-run.at].Event.said == said {
			return run, true
		}
	}
	return supersession{}, false
}

// supersededDuplicate judges a superseded event arriving again: its
// signatures are checked against the keys that signed it (the state before
// the recovery, which only interactions followed), and it is accepted as a
// duplicate.
func (v *Verifier) supersededDuplicate(m Message, rec *kelRecord, run supersession, trusted bool) Result {
	ev := m.Event
	r := Result{Prefix: ev.prefix, Sn: ev.sn, Ilk: ev.ilk, SAID: ev.said, Warnings: slices.Clone(ev.warnings)}
	var err error
	switch {
	case m.attachErr != nil:
		err = m.attachErr
	case len(m.Sigs) == 0:
		err = fmt.Errorf("%w", ErrMissingSignatures)
	default:
		check := m.check
		if trusted {
			check = trustSig
		}
		base := rec.stateAt(run.at - 1)
		p := evaluateSigs(ev.raw, &base, nil, m.Sigs, check, &v.scratch)
		for _, s := range p.Sigs {
			if err == nil {
				err = s.Err
			}
		}
	}
	if err != nil {
		r.Err = eventErr(ev, err)
		return r
	}
	r.Warnings = append(r.Warnings, "duplicate_event", "superseded_event")
	return r
}

// supersede moves the events from sn on out of the chain into a
// supersession by the recovery rotation by, and drops their anchors. The
// lists are copied, never cut in place: a Clone may share them.
func (v *Verifier) supersede(rec *kelRecord, sn uint64, by EventRef) []EventRef {
	run := supersession{at: sn, by: by, msgs: messagesOf(rec.msgs[sn:])}
	refs := make([]EventRef, len(run.msgs))
	for i, m := range run.msgs {
		ev := m.Event
		refs[i] = EventRef{Prefix: ev.prefix, Sn: ev.sn, Ilk: ev.ilk, SAID: ev.said}
		for _, s := range ev.seals {
			if s.Kind != SealEvent {
				continue
			}
			k := anchorKey{s.I, s.S, s.D}
			ref := AnchorRef{Prefix: ev.prefix, Sn: ev.sn, SAID: ev.said}
			kept := slices.DeleteFunc(slices.Clone(v.anchors[k]), func(a AnchorRef) bool { return a == ref })
			if len(kept) == 0 {
				delete(v.anchors, k)
			} else {
				v.anchors[k] = kept
			}
		}
	}
	rec.truncate(sn)
	rec.superseded = append(slices.Clip(rec.superseded), run)
	return refs
}
