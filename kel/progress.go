package kel

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// SigStatus is the verdict on one attached signature.
type SigStatus struct {
	Siger Siger
	Err   error // nil when it verifies against k[index]
	// Exposes is set (rotations only) when the signing key is the one
	// committed at prior n[ondex].
	Exposes bool
}

// Progress says how far a message's signatures go towards its thresholds.
type Progress struct {
	Sigs    []SigStatus
	Signed  []int        // distinct key positions with a verified signature
	Kt      Satisfaction // the event's (or, for ixn, the current) kt
	Rotated bool         // a rot or drt: the prior nt must be met too
	Exposed []int        // prior next positions revealed by verified signatures
	PriorNt Satisfaction // the prior nt over Exposed (rotations)
	Met     bool         // every signature verifies and every threshold is met

	duplicates bool
}

// Err joins every reason the signatures do not authorize the event.
func (p Progress) Err() error {
	var errs []error
	for _, s := range p.Sigs {
		if s.Err != nil {
			errs = append(errs, s.Err)
		}
	}
	if !p.Kt.Met {
		errs = append(errs, fmt.Errorf("%w: %s", ErrThresholdNotMet, describeProgress(p.Kt, p.Signed)))
	}
	if p.Rotated && !p.PriorNt.Met {
		errs = append(errs, fmt.Errorf("%w: %s", ErrPriorNextNotMet, describeProgress(p.PriorNt, p.Exposed)))
	}
	return errors.Join(errs...)
}

func describeProgress(s Satisfaction, have []int) string {
	if len(s.Clauses) == 0 {
		return fmt.Sprintf("%d of %d", s.Have, s.Need)
	}
	parts := make([]string, len(s.Clauses))
	for i, c := range s.Clauses {
		parts[i] = fmt.Sprintf("clause %d sums to %s", i+1, c.Sum.RatString())
	}
	return fmt.Sprintf("positions %v: %v", have, parts)
}

// evaluateSigs verifies sigs over raw against the keys of s (the state the
// event leads to; for an ixn that is the current establishment's keys) and,
// for rotations, measures the exposure of prior's next digests.
//
// check, when not nil, gives the verdict of signature j under pub (a stream
// replay's precomputed verdicts); otherwise the signatures of this one event
// are verified here, spread over the cores.
//
// sc, when not nil, lends the memory of the Progress's signature list and of
// the working lists; the caller drops the Progress before lending sc again.
func evaluateSigs(raw string, s *KeyState, prior *KeyState, sigs []Siger, check func(j int, pub ed25519.PublicKey) bool, sc *sigScratch) Progress {
	if sc == nil {
		sc = &sigScratch{}
	}
	p := Progress{Sigs: reuse(&sc.sigs, len(sigs)), Rotated: prior != nil}
	ok := reuse(&sc.ok, len(sigs))
	todo := sc.todo[:0]
	for i, sg := range sigs {
		p.Sigs[i].Siger = sg
		if sg.Index >= len(s.Keys) {
			p.Sigs[i].Err = fmt.Errorf("%w: index %d with %d keys", ErrIndexOutOfRange, sg.Index, len(s.Keys))
			continue
		}
		todo = append(todo, i)
	}
	pubs := s.pubs // the closures below take the keys, not the state
	if check != nil {
		for _, i := range todo {
			ok[i] = check(i, pubs[sigs[i].Index])
		}
	} else if len(todo) > 0 {
		body := []byte(raw) // once for all the signatures
		verifyAll(len(todo), func(j int) {
			i := todo[j]
			ok[i] = verifySig(pubs[sigs[i].Index], body, sigs[i].Sig)
		})
	}
	seen := reuse(&sc.seen, len(s.Keys))
	var exposed []bool
	if prior != nil {
		exposed = make([]bool, len(prior.Next))
	}
	for _, i := range todo {
		sg := sigs[i]
		if !ok[i] {
			p.Sigs[i].Err = fmt.Errorf("%w: index %d (%s)", ErrBadSignature, sg.Index, s.Keys[sg.Index])
			continue
		}
		if seen[sg.Index] {
			p.duplicates = true
		}
		seen[sg.Index] = true
		if prior != nil && sg.HasOndex && sg.Ondex < len(prior.Next) &&
			NextDigest(s.Keys[sg.Index]) == prior.Next[sg.Ondex] {
			p.Sigs[i].Exposes = true
			exposed[sg.Ondex] = true
		}
	}
	p.Signed = positions(seen)
	p.Kt = s.Kt.Satisfy(p.Signed)
	sigsOK := true
	for _, st := range p.Sigs {
		sigsOK = sigsOK && st.Err == nil
	}
	p.Met = sigsOK && p.Kt.Met
	if prior != nil {
		p.Exposed = positions(exposed)
		p.PriorNt = prior.Nt.Satisfy(p.Exposed)
		p.Met = p.Met && p.PriorNt.Met
	}
	sc.todo = todo
	return p
}

// sigScratch is what evaluateSigs may reuse from one call to the next.
type sigScratch struct {
	sigs []SigStatus
	ok   []bool
	todo []int
	seen []bool
}

// reuse gives *buf as n zero values, growing it when it is too short.
func reuse[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
		return *buf
	}
	*buf = (*buf)[:n]
	clear(*buf)
	return *buf
}

// positions lists, in order, the positions marked in marks.
func positions(marks []bool) []int {
	n := 0
	for _, m := range marks {
		if m {
			n++
		}
	}
	out := make([]int, 0, n)
	for i, m := range marks {
		if m {
			out = append(out, i)
		}
	}
	return out
}

func verifySig(pub ed25519.PublicKey, msg, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, msg, sig)
}

// verifyAll runs f(0..n-1), spreading the calls over the available cores:
// signatures of one event are independent, so they verify concurrently.
func verifyAll(n int, f func(int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return
			}
			f(i)
		}
	}
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() { defer wg.Done(); work() }()
	}
	work()
	wg.Wait()
}
