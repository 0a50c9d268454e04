package kel

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
)

// Verifier replays signed events, checking each against the key state that
// authorizes it, and keeps what it accepted: key state per identifier, the
// accepted messages (with the events a recovery rotation superseded), one
// index of the event seals they anchor (shared by delegation checks and by
// callers linking an anchor to its target), and the delegated events held
// until their delegator's anchor arrives (see delegation.go).
//
// Accept, AcceptStream and AcceptMessages check every signature; Clone
// copies a verifier without checking anything again, and RestoreAccepted
// (for a store's own accepted messages only) skips Ed25519.
type Verifier struct {
	kels    map[string]*kelRecord
	order   []string                  // prefixes in first-seen order
	anchors map[anchorKey][]AnchorRef // every accepted event anchoring the key, in order
	reserve map[string]int            // during RestoreAccepted: events to come per prefix
	held    map[string][]heldMsg      // per prefix, in arrival order (delegation.go)
	heldSeq int                       // arrival counter of held messages
	lenient bool                      // during AcceptUnanchored only
	scratch sigScratch                // lent to the signature checks of accept (not of Progress)
}

type kelRecord struct {
	states     []KeyState // after each establishment event, in order (record.go)
	msgs       []keptMsg  // msgs[sn]: the accepted message at sn
	superseded []supersession
}

type anchorKey struct {
	prefix string
	sn     uint64
	said   string
}

// AnchorRef locates the event whose a list holds an event seal.
type AnchorRef struct {
	Prefix string
	Sn     uint64
	SAID   string
}

// EventRef names one event.
type EventRef struct {
	Prefix string
	Sn     uint64
	Ilk    string
	SAID   string
}

// Result is the verdict on one message.
type Result struct {
	Prefix   string
	Sn       uint64
	Ilk      string
	SAID     string
	Err      error // nil when accepted; may join several failures
	Warnings []string
	// Bt is the event's witness threshold and Witnessed the number of
	// witnesses whose signatures came with it (all verified), once
	// accepted; FullyWitnessed compares them.
	Bt        uint64
	Witnessed int
	// Held is set when the verifier keeps the message waiting (Err then
	// wraps ErrDelegationMissing): a delegated event whose delegator's
	// anchor it does not hold, or a later event of an identifier that has
	// such an event waiting. A later result lists it in Released when the
	// anchor arrives; AcceptUnanchored decides what is still waiting.
	Held bool
	// Released lists the held messages this message's acceptance decided
	// (accepted, or refused), in the order they were decided.
	Released []Released
	// Supersedes lists, for a recovery rotation, the events it superseded.
	Supersedes []EventRef
}

// Released is a held message and its final verdict.
type Released struct {
	Message Message
	Result  Result
}

// OK reports whether the message was accepted.
func (r Result) OK() bool { return r.Err == nil }

// NewVerifier starts with no identifiers.
func NewVerifier() *Verifier {
	return &Verifier{kels: map[string]*kelRecord{}, anchors: map[anchorKey][]AnchorRef{}, held: map[string][]heldMsg{}}
}

// State returns an identifier's current key state.
func (v *Verifier) State(prefix string) (KeyState, bool) {
	k, ok := v.kels[prefix]
	if !ok {
		return KeyState{}, false
	}
	return k.last().clone(), true
}

// Prefixes lists the identifiers seen, in first-seen order.
func (v *Verifier) Prefixes() []string { return slices.Clone(v.order) }

// Messages returns an identifier's accepted messages in order: its KEL
// without the events recovery rotations superseded (see Superseded).
func (v *Verifier) Messages(prefix string) []Message {
	if k, ok := v.kels[prefix]; ok {
		return messagesOf(k.msgs)
	}
	return nil
}

// Export writes an identifier's KEL as a CESR stream, every accepted event
// in the order it was first seen: superseded events stand before the
// recovery rotation that superseded them, as keripy's first-seen log keeps
// them, so that a verifier replaying the stream accepts every event.
func (v *Verifier) Export(prefix string) []byte {
	var out []byte
	for _, m := range v.FirstSeen(prefix) {
		out = append(out, m.Bytes()...)
	}
	return out
}

// FirstSeen lists every accepted message of an identifier in the order it
// was first seen: its KEL with, before each recovery rotation, the events
// it superseded.
func (v *Verifier) FirstSeen(prefix string) []Message {
	rec, ok := v.kels[prefix]
	if !ok {
		return nil
	}
	if len(rec.superseded) == 0 {
		return messagesOf(rec.msgs)
	}
	out := make([]Message, 0, len(rec.msgs))
	runs := rec.superseded
	for sn, m := range rec.msgs {
		for len(runs) > 0 && runs[0].at == uint64(sn) {
			out = append(out, runs[0].msgs...)
			runs = runs[1:]
		}
		out = append(out, m.message())
	}
	return out
}

// AnchorOf finds the first accepted event that anchors event sn/said of
// prefix with an event seal.
func (v *Verifier) AnchorOf(prefix string, sn uint64, said string) (AnchorRef, bool) {
	as := v.anchors[anchorKey{prefix, sn, said}]
	if len(as) == 0 {
		return AnchorRef{}, false
	}
	return as[0], true
}

// AnchorsOf lists every accepted event that anchors event sn/said of prefix
// (seals are public data: other identifiers may repeat them). Events a
// recovery rotation superseded anchor nothing.
func (v *Verifier) AnchorsOf(prefix string, sn uint64, said string) []AnchorRef {
	return slices.Clone(v.anchors[anchorKey{prefix, sn, said}])
}

// AcceptStream parses a CESR stream and accepts its messages in order. The
// error reports a framing problem that stopped the parse; per-message
// failures are in the results.
func (v *Verifier) AcceptStream(b []byte) ([]Result, error) {
	msgs, err := ParseStream(b)
	return v.AcceptMessages(msgs), err
}

// AcceptMessages accepts already parsed messages in order, exactly as Accept
// would one by one (every signature is checked against the key state that
// authorizes it), while worker goroutines verify signatures ahead on the
// cores acceptance leaves free (see preverify.go).
func (v *Verifier) AcceptMessages(msgs []Message) []Result {
	v.reserveFor(msgs)
	defer func() { v.reserve = nil }()
	results := make([]Result, 0, len(msgs))
	cache := v.newSigCache(msgs)
	stop := cache.start()
	defer stop()
	var body bodyBuf // the bodies the acceptance verifies signatures of
	for i, m := range msgs {
		m.check = func(j int, pub ed25519.PublicKey) bool { return cache.verdict(i, j, pub, &body) }
		results = append(results, v.accept(m, false))
	}
	return results
}

// Accept validates one message against the current key state and, when it
// is fully valid, appends it to its KEL. A delegated event whose
// delegator's anchor is not held waits (Result.Held), and so does every
// later event of its identifier; they are decided when the anchor arrives.
func (v *Verifier) Accept(m Message) Result { return v.accept(m, false) }

// accept is Accept; trusted (only RestoreAccepted sets it) skips the
// Ed25519 verification of signatures and nothing else.
func (v *Verifier) accept(m Message, trusted bool) Result {
	if trusted {
		m.check = trustSig
	}
	ev := m.Event
	if len(v.held[ev.prefix]) > 0 && !v.isAccepted(ev) {
		return v.holdBehind(m)
	}
	r, committed, wait := v.decide(m, trusted)
	switch {
	case wait:
		v.hold(m)
		r.Held = true
	case committed:
		r.Released = v.release(ev)
	}
	return r
}

// isAccepted reports whether ev is the accepted event at its sn.
func (v *Verifier) isAccepted(ev *Event) bool {
	rec := v.kels[ev.prefix]
	return rec != nil && ev.sn < uint64(len(rec.msgs)) && rec.msgs[ev.sn].Event.said == ev.said
}

// decide judges m against the key state it builds on and commits it when
// it is valid. wait reports a message valid in every respect but its
// delegation, which its delegator has not anchored (yet): it is not
// committed, and the caller holds it.
func (v *Verifier) decide(m Message, trusted bool) (r Result, committed, wait bool) {
	ev := m.Event
	r = Result{Prefix: ev.prefix, Sn: ev.sn, Ilk: ev.ilk, SAID: ev.said}
	rec := v.kels[ev.prefix]
	var base *KeyState
	var st KeyState
	if rec != nil {
		st = rec.last()
		base = &st
	}
	recovery := false
	if rec != nil {
		if run, ok := rec.supersededAt(ev.sn, ev.said); ok {
			return v.supersededDuplicate(m, rec, run, trusted), false, false
		}
	}
	// An event at a sequence number already accepted is a duplicate, a
	// recovery rotation, or duplicity.
	if rec != nil && ev.sn < uint64(len(rec.msgs)) {
		if rec.msgs[ev.sn].Event.said == ev.said {
			return v.duplicate(m, rec, trusted), false, false
		}
		if why := recoverable(rec, ev); why != nil {
			return v.duplicitous(m, rec, trusted, why), false, false
		}
		st, recovery = rec.stateAt(ev.sn-1), true // base points at st
	}
	vd := v.evaluate(m, base, trusted, &v.scratch)
	r.Warnings = vd.warnings
	err := vd.err
	if err == nil {
		err = vd.p.Err()
	}
	if err == nil && recovery {
		err = checkRecoveryWitnesses(ev)
	}
	if err != nil {
		r.Err = eventErr(ev, err)
		return r, false, false
	}
	if vd.unanchored != nil {
		if !v.lenient {
			r.Err = eventErr(ev, vd.unanchored)
			return r, false, true
		}
		r.Warnings = append(r.Warnings, "delegation_not_anchored")
	}
	if recovery {
		r.Supersedes = v.supersede(rec, ev.sn, EventRef{Prefix: ev.prefix, Sn: ev.sn, Ilk: ev.ilk, SAID: ev.said})
	}
	v.commit(m, vd.next)
	r.Bt, r.Witnessed = vd.next.Bt, witnessed(m.Wigs)
	return r, true, false
}

// duplicate judges the accepted event arriving again: its signatures are
// still checked, but a partial set is fine since the event is accepted.
func (v *Verifier) duplicate(m Message, rec *kelRecord, trusted bool) Result {
	ev := m.Event
	r := Result{Prefix: ev.prefix, Sn: ev.sn, Ilk: ev.ilk, SAID: ev.said}
	var base *KeyState
	if ev.sn > 0 {
		st := rec.stateAt(ev.sn - 1)
		base = &st
	}
	vd := v.evaluate(m, base, trusted, &v.scratch)
	err := vd.err
	for _, s := range vd.p.Sigs {
		if err == nil {
			err = s.Err
		}
	}
	r.Warnings = vd.warnings
	if err != nil {
		r.Err = eventErr(ev, err)
		return r
	}
	r.Warnings = append(r.Warnings, "duplicate_event")
	r.Bt, r.Witnessed = vd.next.Bt, witnessed(m.Wigs)
	return r
}

// duplicitous judges a different event at an accepted sequence number that
// may not supersede the accepted one (why says what forbids it).
func (v *Verifier) duplicitous(m Message, rec *kelRecord, trusted bool, why error) Result {
	ev := m.Event
	r := Result{Prefix: ev.prefix, Sn: ev.sn, Ilk: ev.ilk, SAID: ev.said}
	var base *KeyState
	if ev.sn > 0 {
		st := rec.stateAt(ev.sn - 1)
		base = &st
	}
	accepted := rec.msgs[ev.sn].Event
	vd := v.evaluate(m, base, trusted, &v.scratch)
	r.Warnings = vd.warnings
	switch {
	case vd.err != nil:
		r.Err = eventErr(ev, vd.err)
	case vd.p.Met:
		r.Err = eventErr(ev, fmt.Errorf("%w: sn %d has accepted %s %s and a validly signed %s %s (%w)",
			ErrDuplicitous, ev.sn, accepted.ilk, accepted.said, ev.ilk, ev.said, why))
	default:
		r.Err = eventErr(ev, vd.p.Err())
	}
	return r
}

func (v *Verifier) commit(m Message, next KeyState) {
	ev := m.Event
	rec := v.kels[ev.prefix]
	if rec == nil {
		n := v.reserve[ev.prefix] // 0 but in RestoreAccepted
		rec = &kelRecord{msgs: make([]keptMsg, 0, n)}
		v.kels[ev.prefix] = rec
		v.order = append(v.order, ev.prefix)
	}
	if ev.IsEstablishment() {
		rec.states = append(rec.states, next)
	}
	rec.msgs = append(rec.msgs, keep(m))
	for _, s := range ev.seals {
		if s.Kind == SealEvent {
			k := anchorKey{s.I, s.S, s.D}
			ref := AnchorRef{Prefix: ev.prefix, Sn: ev.sn, SAID: ev.said}
			if !slices.Contains(v.anchors[k], ref) {
				// Clipped: a Clone shares these lists, so an append
				// never writes into a shared array.
				v.anchors[k] = append(slices.Clip(v.anchors[k]), ref)
			}
		}
	}
}

// Progress evaluates a message against current key state without accepting
// it: which signatures verify, and how far each threshold is from being met.
// Ceremonies use it to show live progress; the error reports a failure that
// no further signature can cure (wrong sn, prior, delegation and so on). A
// recovery rotation is measured against the state it builds on.
func (v *Verifier) Progress(m Message) (Progress, error) {
	ev := m.Event
	var base *KeyState
	if rec := v.kels[ev.prefix]; rec != nil {
		st := rec.last()
		base = &st
		if ev.sn > 0 && ev.sn < uint64(len(rec.msgs)) && rec.msgs[ev.sn].Event.said != ev.said && recoverable(rec, ev) == nil {
			st = rec.stateAt(ev.sn - 1)
			if err := checkRecoveryWitnesses(ev); err != nil {
				return Progress{}, err
			}
		}
	}
	vd := v.evaluate(m, base, false, nil) // the progress is returned
	if vd.err == nil {
		vd.err = vd.unanchored
	}
	return vd.p, vd.err
}

// verdict is what evaluate finds.
type verdict struct {
	next     KeyState
	p        Progress
	warnings []string
	err      error // a failure no further signature cures
	// unanchored: nothing else fails, but the delegator's anchor of this
	// dip or drt is not held.
	unanchored error
}

// evaluate runs every check of one message against base; trusted skips the
// Ed25519 verification of witness signatures (m.check decides for the
// controllers').
//
// sc (&v.scratch when the caller drops the verdict's progress before its
// next evaluation, nil otherwise) lends evaluateSigs its memory.
func (v *Verifier) evaluate(m Message, base *KeyState, trusted bool, sc *sigScratch) verdict {
	ev := m.Event
	vd := verdict{warnings: slices.Clone(ev.warnings)}
	if m.attachErr != nil {
		vd.err = m.attachErr
		return vd
	}
	next, err := transition(base, ev)
	if err != nil {
		vd.err = err
		return vd
	}
	var prior *KeyState
	if ev.ilk == IlkRot || ev.ilk == IlkDrt {
		prior = base
	}
	vd.p = evaluateSigs(ev.raw, &next, prior, m.Sigs, m.check, sc)
	if len(m.Sigs) == 0 { // the progress still says what is needed
		vd.err = fmt.Errorf("%w", ErrMissingSignatures)
		return vd
	}
	if vd.p.duplicates {
		vd.warnings = append(vd.warnings, "signature_duplicate_index")
	}
	if err := v.checkWitnessSigs(ev, &next, m.Wigs, trusted); err != nil {
		vd.err = err
		return vd
	}
	if ev.ilk == IlkDip || ev.ilk == IlkDrt {
		w, unanchored, err := v.checkDelegation(ev, next.Delegator, m.Sources)
		vd.warnings = append(vd.warnings, w...)
		if err != nil {
			vd.err = err
			return vd
		}
		vd.unanchored = unanchored
	}
	// Seals are checked against the other identifiers' KELs when an event
	// is accepted, not when a store restores it: what a store loads and
	// in which order is its own choice, and an answer that depended on it
	// could refuse an event this store accepted.
	if err := v.checkAnchors(ev); err != nil && !trusted {
		vd.err = err
		return vd
	}
	vd.next = next
	return vd
}

func (v *Verifier) checkWitnessSigs(ev *Event, s *KeyState, wigs []Siger, trusted bool) error {
	var errs []error
	var body bodyBuf
	for _, w := range wigs {
		if w.Index >= len(s.Witnesses) {
			errs = append(errs, fmt.Errorf("%w: witness index %d with %d witnesses", ErrWitnessSignature, w.Index, len(s.Witnesses)))
			continue
		}
		pub, err := DecodeVerKey(s.Witnesses[w.Index])
		if err != nil || (!trusted && !verifySig(pub, body.bytesOf(ev), w.Sig)) {
			errs = append(errs, fmt.Errorf("%w: witness %d", ErrWitnessSignature, w.Index))
		}
	}
	return errors.Join(errs...)
}

// checkAnchors refuses event seals that contradict an accepted event. A
// seal naming another event at the sequence number of an interaction that a
// recovery rotation could still supersede contradicts nothing: it may be a
// delegator approving that rotation.
func (v *Verifier) checkAnchors(ev *Event) error {
	for _, s := range ev.seals {
		if s.Kind != SealEvent {
			continue
		}
		rec, ok := v.kels[s.I]
		if !ok || s.S >= uint64(len(rec.msgs)) {
			continue
		}
		if got := rec.msgs[s.S].Event.said; got != s.D && !rec.mayRecoverAt(s.S) {
			return fmt.Errorf("%w: seal names %s at sn %d of %s, accepted event is %s", ErrAnchorMismatch, s.D, s.S, s.I, got)
		}
	}
	return nil
}

// Report is the outcome of replaying streams.
type Report struct {
	Results  []Result
	States   map[string]KeyState
	Prefixes []string // in first-seen order
	Err      error    // framing errors that stopped reading a stream
}

// OK reports whether every stream was read whole and every message accepted.
func (r Report) OK() bool {
	if r.Err != nil {
		return false
	}
	for _, x := range r.Results {
		if !x.OK() {
			return false
		}
	}
	return true
}

// Replay verifies streams in order through one Verifier and reports every
// message (a delegated event with its final verdict, whatever the order of
// the streams) and the final key states.
func Replay(streams ...[]byte) Report {
	v := NewVerifier()
	var rep Report
	var errs []error
	for _, s := range streams {
		res, err := v.AcceptStream(s)
		rep.Results = append(rep.Results, res...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	rep.Results = Settle(rep.Results)
	rep.Err = errors.Join(errs...)
	rep.States = map[string]KeyState{}
	rep.Prefixes = v.Prefixes()
	for _, p := range rep.Prefixes {
		rep.States[p], _ = v.State(p)
	}
	return rep
}
