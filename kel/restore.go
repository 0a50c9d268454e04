package kel

import (
	"crypto/ed25519"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Clone returns an independent copy of the verifier without verifying
// anything again: accepting into the copy never changes v, nor the reverse.
// The copy shares what is never changed once accepted (events, message
// bytes, signature lists, key states) and gets its own maps and lists, so it
// costs one map copy per identifier and anchor, not a replay.
func (v *Verifier) Clone() *Verifier {
	c := &Verifier{
		kels:    make(map[string]*kelRecord, len(v.kels)),
		order:   slices.Clone(v.order),
		anchors: maps.Clone(v.anchors), // commit never appends in place to an anchor list
		held:    maps.Clone(v.held),    // nor hold to a held list
		heldSeq: v.heldSeq,
	}
	for p, rec := range v.kels {
		// Clipped: the first append on either side reallocates, so neither
		// writes into an array the other reads (and a recovery copies).
		c.kels[p] = &kelRecord{states: slices.Clip(rec.states), msgs: slices.Clip(rec.msgs), superseded: slices.Clip(rec.superseded)}
	}
	if c.anchors == nil {
		c.anchors = map[anchorKey][]AnchorRef{}
	}
	if c.held == nil {
		c.held = map[string][]heldMsg{}
	}
	return c
}

// trustSig is the signature verdict of RestoreAccepted: not checked.
func trustSig(int, ed25519.PublicKey) bool { return true }

// RestoreAccepted rebuilds key state from messages that THIS PROCESS'S OWN
// STORE accepted earlier through Accept, AcceptStream or AcceptMessages (and
// so had every signature verified then), WITHOUT VERIFYING ANY SIGNATURE
// AGAIN. Never pass it messages from anywhere else — a peer, a file, a
// network, a user: a forged signature would be accepted. Those go through
// Accept, AcceptStream or AcceptMessages.
//
// It runs every other check of Accept, in order, with the same results
// (messages it holds for their delegator's anchor are verified in full,
// Ed25519 included, when they are decided):
// the SAID of every event (checked when it was parsed), the chaining of each
// event to its prior, its sequence number, the structure and the key state
// rules, signature indices within the signing keys, the current threshold
// (and for a rotation the prior next threshold) satisfied by the indices of
// the signatures present, witness indices, delegation through the anchor
// index. What it does not do is Ed25519, nor compare event seals with
// the other identifiers' KELs (those depend on which KELs the caller
// restored, and in which order; Accept compared them when the messages
// arrived): a signature whose bytes were changed after acceptance
// but whose index is intact is NOT caught here. A caller restoring from
// storage must rule that out by other means (the ceremony store keeps a
// digest of the entries it accepted).
func (v *Verifier) RestoreAccepted(msgs []Message) []Result {
	// Trusted input: size the records once instead of growing them event by
	// event (AcceptMessages does not, since a hostile stream could claim
	// any number of events).
	v.reserve = map[string]int{}
	defer func() { v.reserve = nil }()
	for _, m := range msgs {
		v.reserve[m.Event.prefix]++
	}
	for p, n := range v.reserve {
		if rec := v.kels[p]; rec != nil {
			rec.msgs = slices.Grow(rec.msgs, n)
		}
	}
	results := make([]Result, len(msgs))
	for i, m := range msgs {
		results[i] = v.accept(m, true)
	}
	return results
}

// ParseMessages parses independent entries, each holding exactly one
// message (as a store keeps them), spreading the work over the cores. It
// stops at the first entry that does not parse as one message and returns
// the messages of the entries before it with an error naming the entry. The
// messages keep no reference to the entries' bytes.
func ParseMessages(entries [][]byte) ([]Message, error) {
	msgs := make([]Message, len(entries))
	errs := make([]error, len(entries))
	parse := func(i int) {
		ms, err := ParseStream(entries[i])
		if err == nil && len(ms) != 1 {
			err = fmt.Errorf("%w: %d messages in one entry", ErrStream, len(ms))
		}
		if err != nil {
			errs[i] = err
			return
		}
		msgs[i] = ms[0]
	}
	const chunk = 64 // entries per claim: a few hundred microseconds of work
	workers := min(runtime.GOMAXPROCS(0), (len(entries)+chunk-1)/chunk)
	if workers <= 1 {
		for i := range entries {
			if parse(i); errs[i] != nil {
				return msgs[:i], fmt.Errorf("entry %d: %w", i, errs[i])
			}
		}
		return msgs, nil
	}
	var next atomic.Int64
	var failed atomic.Bool // stop early; the first failure is found below
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(entries) {
					return
				}
				for i := lo; i < min(lo+chunk, len(entries)); i++ {
					if parse(i); errs[i] != nil {
						failed.Store(true)
					}
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() {
		// Chunks are claimed in order and every claimed chunk is finished,
		// so every entry before the first failure was parsed.
		for i, err := range errs {
			if err != nil {
				return msgs[:i], fmt.Errorf("entry %d: %w", i, err)
			}
		}
	}
	return msgs, nil
}
