package kel

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
)

// Verifier replays signed events, checking each against the key state that
// authorizes it, and keeps what it accepted: key state per identifier, the
// accepted messages, and one index of the event seals they anchor (shared by
// delegation checks and by callers linking an anchor to its target).
//
// Accept, AcceptStream and AcceptMessages check every signature; Clone
// copies a verifier without checking anything again, and RestoreAccepted
// (for a store's own accepted messages only) skips Ed25519.
type Verifier struct {
	kels    map[string]*kelRecord
	order   []string                  // prefixes in first-seen order
	anchors map[anchorKey][]AnchorRef // every accepted event anchoring the key, in order
	reserve map[string]int            // during RestoreAccepted: events to come per prefix
}

type kelRecord struct {
	states []KeyState // states[sn]: after the event at sn
	msgs   []Message  // msgs[sn]: the accepted message at sn
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
}

// OK reports whether the message was accepted.
func (r Result) OK() bool { return r.Err == nil }

// NewVerifier starts with no identifiers.
func NewVerifier() *Verifier {
	return &Verifier{kels: map[string]*kelRecord{}, anchors: map[anchorKey][]AnchorRef{}}
}

// State returns an identifier's current key state.
func (v *Verifier) State(prefix string) (KeyState, bool) {
	k, ok := v.kels[prefix]
	if !ok {
		return KeyState{}, false
	}
	return k.states[len(k.states)-1].clone(), true
}

// Prefixes lists the identifiers seen, in first-seen order.
func (v *Verifier) Prefixes() []string { return slices.Clone(v.order) }

// Messages returns an identifier's accepted messages in order.
func (v *Verifier) Messages(prefix string) []Message {
	if k, ok := v.kels[prefix]; ok {
		return slices.Clone(k.msgs)
	}
	return nil
}

// Export writes an identifier's KEL as a CESR stream.
func (v *Verifier) Export(prefix string) []byte {
	var out []byte
	for _, m := range v.Messages(prefix) {
		out = append(out, m.Bytes()...)
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
// (seals are public data: other identifiers may repeat them).
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
	results := make([]Result, 0, len(msgs))
	cache := v.newSigCache(msgs)
	stop := cache.start()
	defer stop()
	for i, m := range msgs {
		m.check = func(j int, pub ed25519.PublicKey) bool { return cache.verdict(i, j, pub) }
		results = append(results, v.accept(m, false))
	}
	return results
}

// Accept validates one message against the current key state and, when it
// is fully valid, appends it to its KEL.
func (v *Verifier) Accept(m Message) Result { return v.accept(m, false) }

// accept is Accept; trusted (only RestoreAccepted sets it) skips the
// Ed25519 verification of signatures and nothing else.
func (v *Verifier) accept(m Message, trusted bool) Result {
	if trusted {
		m.check = trustSig
	}
	ev := m.Event
	r := Result{Prefix: ev.prefix, Sn: ev.sn, Ilk: ev.ilk, SAID: ev.said}
	rec := v.kels[ev.prefix]
	// An event at a sequence number already accepted is a duplicate or duplicity.
	if rec != nil && ev.sn < uint64(len(rec.states)) {
		accepted := rec.msgs[ev.sn].Event.said
		var base *KeyState
		if ev.sn > 0 {
			base = &rec.states[ev.sn-1]
		}
		if accepted == ev.said {
			// The same event again: its signatures are still checked, but
			// a partial set is fine since the event is already accepted.
			next, p, w, err := v.evaluate(m, base, trusted)
			for _, s := range p.Sigs {
				if err == nil {
					err = s.Err
				}
			}
			if err != nil {
				r.Err, r.Warnings = eventErr(ev, err), w
				return r
			}
			r.Warnings = append(w, "duplicate_event")
			r.Bt, r.Witnessed = next.Bt, witnessed(m.Wigs)
			return r
		}
		if _, p, w, err := v.evaluate(m, base, trusted); err != nil {
			r.Err, r.Warnings = eventErr(ev, err), w
		} else if p.Met {
			r.Err = eventErr(ev, fmt.Errorf("%w: sn %d has accepted %s and a validly signed %s", ErrDuplicitous, ev.sn, accepted, ev.said))
		} else {
			r.Err = eventErr(ev, p.Err())
		}
		return r
	}
	var base *KeyState
	if rec != nil {
		base = &rec.states[len(rec.states)-1]
	}
	next, p, w, err := v.evaluate(m, base, trusted)
	r.Warnings = w
	if err == nil {
		err = p.Err()
	}
	if err != nil {
		r.Err = eventErr(ev, err)
		return r
	}
	v.commit(m, next)
	r.Bt, r.Witnessed = next.Bt, witnessed(m.Wigs)
	return r
}

func (v *Verifier) commit(m Message, next KeyState) {
	m.check = nil // accepted messages keep no reference to a replay's verdicts
	ev := m.Event
	rec := v.kels[ev.prefix]
	if rec == nil {
		n := v.reserve[ev.prefix] // 0 but in RestoreAccepted
		rec = &kelRecord{states: make([]KeyState, 0, n), msgs: make([]Message, 0, n)}
		v.kels[ev.prefix] = rec
		v.order = append(v.order, ev.prefix)
	}
	rec.states = append(rec.states, next)
	rec.msgs = append(rec.msgs, m)
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
// no further signature can cure (wrong sn, prior, delegation and so on).
func (v *Verifier) Progress(m Message) (Progress, error) {
	var base *KeyState
	if rec := v.kels[m.Event.prefix]; rec != nil {
		base = &rec.states[len(rec.states)-1]
	}
	_, p, _, err := v.evaluate(m, base, false)
	return p, err
}

// evaluate runs every check of one message against base; trusted skips the
// Ed25519 verification of witness signatures (m.check decides for the
// controllers').
func (v *Verifier) evaluate(m Message, base *KeyState, trusted bool) (KeyState, Progress, []string, error) {
	ev := m.Event
	warnings := slices.Clone(ev.warnings)
	if m.attachErr != nil {
		return KeyState{}, Progress{}, warnings, m.attachErr
	}
	next, err := transition(base, ev)
	if err != nil {
		return KeyState{}, Progress{}, warnings, err
	}
	var prior *KeyState
	if ev.ilk == IlkRot || ev.ilk == IlkDrt {
		prior = base
	}
	p := evaluateSigs(ev.raw, &next, prior, m.Sigs, m.check)
	if len(m.Sigs) == 0 { // the progress still says what is needed
		return KeyState{}, p, warnings, fmt.Errorf("%w", ErrMissingSignatures)
	}
	if p.duplicates {
		warnings = append(warnings, "signature_duplicate_index")
	}
	if err := v.checkWitnessSigs(ev, &next, m.Wigs, trusted); err != nil {
		return KeyState{}, p, warnings, err
	}
	if ev.ilk == IlkDip || ev.ilk == IlkDrt {
		w, err := v.checkDelegation(ev, next.Delegator, m.Sources)
		warnings = append(warnings, w...)
		if err != nil {
			return KeyState{}, p, warnings, err
		}
	}
	if err := v.checkAnchors(ev); err != nil {
		return KeyState{}, p, warnings, err
	}
	return next, p, warnings, nil
}

func (v *Verifier) checkWitnessSigs(ev *Event, s *KeyState, wigs []Siger, trusted bool) error {
	var errs []error
	for _, w := range wigs {
		if w.Index >= len(s.Witnesses) {
			errs = append(errs, fmt.Errorf("%w: witness index %d with %d witnesses", ErrWitnessSignature, w.Index, len(s.Witnesses)))
			continue
		}
		pub, err := DecodeVerKey(s.Witnesses[w.Index])
		if err != nil || (!trusted && !verifySig(pub, ev.raw, w.Sig)) {
			errs = append(errs, fmt.Errorf("%w: witness %d", ErrWitnessSignature, w.Index))
		}
	}
	return errors.Join(errs...)
}

// checkDelegation finds the delegator's event seal for ev through the anchor
// index. A delegator whose KEL is unknown leaves the delegation unverified
// (a warning); a known one must anchor the event, where the -G couple says.
func (v *Verifier) checkDelegation(ev *Event, delegator string, sources []SourceSeal) ([]string, error) {
	drec, known := v.kels[delegator]
	if !known {
		return []string{"delegation_unverified"}, nil
	}
	dstate := drec.states[len(drec.states)-1]
	if slices.Contains(drec.states[0].Config, "DND") || slices.Contains(dstate.Config, "DND") {
		return nil, fmt.Errorf("%w: %s", ErrDelegatorRefuses, delegator)
	}
	var byDelegator []AnchorRef
	for _, a := range v.anchors[anchorKey{ev.prefix, ev.sn, ev.said}] {
		if a.Prefix == delegator {
			byDelegator = append(byDelegator, a)
		}
	}
	found := len(byDelegator) > 0
	if len(sources) > 0 {
		src := sources[len(sources)-1]
		if src.Sn >= uint64(len(drec.msgs)) || drec.msgs[src.Sn].Event.said != src.SAID {
			return nil, fmt.Errorf("%w: couple names %s sn %d, which %s's kel does not hold", ErrDelegationMissing, src.SAID, src.Sn, delegator)
		}
		if !slices.Contains(byDelegator, AnchorRef{Prefix: delegator, Sn: src.Sn, SAID: src.SAID}) {
			return nil, fmt.Errorf("%w: couple names %s sn %d of %s", ErrDelegationMismatch, src.SAID, src.Sn, delegator)
		}
		return nil, nil
	}
	if !found {
		return nil, fmt.Errorf("%w: %s holds no seal for %s", ErrDelegationMissing, delegator, ev.said)
	}
	return []string{"delegation_source_seal_not_attached"}, nil
}

// checkAnchors refuses event seals that contradict an accepted event.
func (v *Verifier) checkAnchors(ev *Event) error {
	for _, s := range ev.seals {
		if s.Kind != SealEvent {
			continue
		}
		rec, ok := v.kels[s.I]
		if !ok || s.S >= uint64(len(rec.msgs)) {
			continue
		}
		if got := rec.msgs[s.S].Event.said; got != s.D {
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

// Replay verifies streams in order through one Verifier (delegators before
// delegates) and reports every message and the final key states.
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
	rep.Err = errors.Join(errs...)
	rep.States = map[string]KeyState{}
	rep.Prefixes = v.Prefixes()
	for _, p := range rep.Prefixes {
		rep.States[p], _ = v.State(p)
	}
	return rep
}
