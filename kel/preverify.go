package kel

import (
	"crypto/ed25519"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Replaying a stream is dominated by Ed25519 verification, and signatures do
// not depend on key state: only which key checks them does. So AcceptStream
// predicts each signature's key from the stream itself (an establishment
// event names its keys; an ixn uses its prefix's last establishment keys)
// and lets worker goroutines verify ahead while acceptance proceeds in
// order. Acceptance uses a precomputed verdict only when the key it would
// use is the predicted one; otherwise it verifies inline. Nothing is
// accepted without its signatures having been checked against the key
// state that authorizes it.

const (
	pairPending int32 = iota
	pairClaimed
	pairDone
)

// sigCache holds the verdicts of every (message, signature) pair of a stream.
type sigCache struct {
	msgs  []Message
	off   []int               // first pair of each message
	keys  []ed25519.PublicKey // the keys predicted, each once
	key   []int32             // per pair: its predicted key in keys (-1: no prediction)
	state []atomic.Int32
	ok    []bool
	next  atomic.Int64 // workers take pairs from the end of the stream backwards
	stop  atomic.Bool
}

// pub is the predicted key of pair k, or nil.
func (c *sigCache) pub(k int) ed25519.PublicKey {
	if c.key[k] < 0 {
		return nil
	}
	return c.keys[c.key[k]]
}

// newSigCache predicts the key of every signature, starting from the
// verifier's current states.
func (v *Verifier) newSigCache(msgs []Message) *sigCache {
	c := &sigCache{msgs: msgs, off: make([]int, len(msgs)+1)}
	for i, m := range msgs {
		c.off[i+1] = c.off[i] + len(m.Sigs)
	}
	n := c.off[len(msgs)]
	c.key, c.state, c.ok = make([]int32, n), make([]atomic.Int32, n), make([]bool, n)
	// Per prefix, where its current keys start in c.keys and how many.
	type run struct{ at, n int }
	runs := map[string]run{}
	addKeys := func(prefix string, pubs []ed25519.PublicKey) {
		runs[prefix] = run{len(c.keys), len(pubs)}
		c.keys = append(c.keys, pubs...)
	}
	for p, rec := range v.kels {
		addKeys(p, rec.states[len(rec.states)-1].pubs) // the last establishment event's
	}
	for i, m := range msgs {
		ev := m.Event
		if ev.IsEstablishment() {
			var s KeyState
			s.Keys = ev.keys
			if decodePubs(&s) == nil {
				addKeys(ev.prefix, s.pubs)
			}
		}
		r := runs[ev.prefix]
		for j, sg := range m.Sigs {
			c.key[c.off[i]+j] = -1
			if sg.Index < r.n && r.at+sg.Index <= math.MaxInt32 {
				c.key[c.off[i]+j] = int32(r.at + sg.Index)
			}
		}
	}
	return c
}

// verdict returns whether signature j of message i verifies under pub,
// using (or producing) the precomputed verdict when pub is the prediction.
// body holds the bytes of the message whose signature was last verified
// here.
func (c *sigCache) verdict(i, j int, pub ed25519.PublicKey, body *bodyBuf) bool {
	k := c.off[i] + j
	m := c.msgs[i]
	if !pub.Equal(c.pub(k)) {
		return verifySig(pub, body.bytesOf(m.Event), m.Sigs[j].Sig)
	}
	if c.state[k].CompareAndSwap(pairPending, pairClaimed) {
		c.ok[k] = verifySig(pub, body.bytesOf(m.Event), m.Sigs[j].Sig)
		c.state[k].Store(pairDone)
		return c.ok[k]
	}
	// A worker has it and, if running, finishes within one verification.
	// On a machine too busy to run the worker, stop waiting after a bounded
	// number of yields (kel reads no clock) and check the signature here.
	for range maxWorkerYields {
		if c.state[k].Load() == pairDone {
			return c.ok[k]
		}
		runtime.Gosched()
	}
	return verifySig(pub, body.bytesOf(m.Event), m.Sigs[j].Sig)
}

// bodyBuf holds an event's body as the bytes Ed25519 reads (an Event keeps
// it as a string), copied into one array that serves event after event:
// Ed25519 keeps nothing of what it verifies. One goroutine uses a bodyBuf.
type bodyBuf struct {
	b  []byte
	of *Event
}

// bytesOf gives ev's body, copying it unless it is the one held.
func (bb *bodyBuf) bytesOf(ev *Event) []byte {
	if bb.of != ev {
		bb.b, bb.of = append(bb.b[:0], ev.raw...), ev
	}
	return bb.b
}

// maxWorkerYields bounds how long acceptance waits for a worker's verdict:
// a yield with nothing else to run costs well under a microsecond, so this
// is in the order of a few verification times.
const maxWorkerYields = 4096

// work verifies pairs from the end of the stream backwards while acceptance
// works forwards, so the two meet once, in the middle, instead of the
// worker staying one claim ahead and acceptance waiting on it.
func (c *sigCache) work() {
	msgIdx := len(c.msgs) - 1
	var body bodyBuf
	for !c.stop.Load() {
		k := int(c.next.Add(-1))
		if k < 0 {
			return
		}
		pub := c.pub(k)
		if pub == nil || !c.state[k].CompareAndSwap(pairPending, pairClaimed) {
			continue
		}
		for c.off[msgIdx] > k {
			msgIdx--
		}
		m := c.msgs[msgIdx]
		c.ok[k] = verifySig(pub, body.bytesOf(m.Event), m.Sigs[k-c.off[msgIdx]].Sig)
		c.state[k].Store(pairDone)
	}
}

// start runs workers on the cores acceptance leaves free; the returned
// function stops them and waits.
func (c *sigCache) start() func() {
	workers := runtime.GOMAXPROCS(0) - 1
	if workers < 1 || len(c.key) < 2 {
		return func() {}
	}
	c.next.Store(int64(len(c.key)))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() { defer wg.Done(); c.work() }()
	}
	return func() { c.stop.Store(true); wg.Wait() }
}
