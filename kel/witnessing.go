package kel

import "fmt"

// Witnessing in the verifier: how many witnesses signed an accepted event,
// the key state at each event (whose witness list indexes its -B
// signatures), and messages with receipts attached.

// witnessed counts the distinct witness positions of verified witness
// signatures.
func witnessed(wigs []Siger) int {
	seen := map[int]bool{}
	for _, w := range wigs {
		seen[w.Index] = true
	}
	return len(seen)
}

// FullyWitnessed reports whether an accepted event came with at least bt
// witness signatures.
func (r Result) FullyWitnessed() bool { return uint64(r.Witnessed) >= r.Bt }

// WitnessErr is ErrNotFullyWitnessed, naming the event, for an accepted
// event with fewer witness signatures than its bt; nil otherwise.
func (r Result) WitnessErr() error {
	if !r.OK() || r.FullyWitnessed() {
		return nil
	}
	return &EventError{Prefix: r.Prefix, Sn: r.Sn, Ilk: r.Ilk, SAID: r.SAID,
		Err: fmt.Errorf("%w: %d of %d witness receipts (bt %d)", ErrNotFullyWitnessed, r.Witnessed, r.Bt, r.Bt)}
}

// StateAt is an identifier's key state right after its accepted event at
// sn: its Witnesses are the list that event's witness signatures index.
func (v *Verifier) StateAt(prefix string, sn uint64) (KeyState, bool) {
	k, ok := v.kels[prefix]
	if !ok || sn >= uint64(len(k.msgs)) {
		return KeyState{}, false
	}
	return k.stateAt(sn).clone(), true
}

// Attachments is the message's attachment text: its bytes after the body
// (what an HTTP request carries in its CESR-ATTACHMENT header).
func (m Message) Attachments() string { return string(m.Bytes()[len(m.Event.raw):]) }

// WithWigs is the message with wigs as its witness signatures.
func (m Message) WithWigs(wigs []Siger) Message {
	m.Wigs = append([]Siger(nil), wigs...)
	m.check = nil
	return m
}

// MessageAt is an identifier's accepted message at sn (without copying
// the whole KEL, as Messages does).
func (v *Verifier) MessageAt(prefix string, sn uint64) (Message, bool) {
	k, ok := v.kels[prefix]
	if !ok || sn >= uint64(len(k.msgs)) {
		return Message{}, false
	}
	return k.msgs[sn].message(), true
}
