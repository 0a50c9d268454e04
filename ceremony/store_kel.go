package ceremony

// The store's KEL: stored as accepted messages with a digest chain,
// restored on open, extended by imports and finalized ceremonies.

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/keremony/keremony/kel"
)

// storedKEL is the KEL read back from the file.
type storedKEL struct {
	v       *kel.Verifier
	keys    [][]byte      // of the entries read, in order
	raws    [][]byte      // the entries read, in order
	msgs    []kel.Message // the entries read, in order
	digest  []byte        // of the entries read
	rewrite bool          // the stored digest did not match: every signature was verified
}

// kelDigestSeed starts the chain kelDigestNext extends.
var kelDigestSeed = sha256.Sum256([]byte("keremony-kel-digest/1"))

// kelDigestNext extends the KEL digest by one entry: sha256(prev ‖ entry).
func kelDigestNext(prev, entry []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(entry)
	return h.Sum(nil)
}

// readKEL reads the stored messages, parses them on every core, and
// restores them without Ed25519 when they match the stored digest, or
// accepts them through authenticated replay otherwise (see Store).
func (s *Store) readKEL() (storedKEL, error) {
	var keys, entries [][]byte
	var stored []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		stored = slices.Clone(tx.Bucket(bucketMeta).Get(keyKELDigest))
		b := tx.Bucket(bucketKEL)
		size := 0
		b.ForEach(func(k, val []byte) error { size += len(val); return nil })
		// The values live in bbolt's memory map, which is unmapped when
		// the transaction ends, and they are parsed and indexed after
		// it: copy them, into one allocation.
		arena := make([]byte, 0, size)
		return b.ForEach(func(k, val []byte) error {
			if len(arena)+len(val) > cap(arena) {
				return fmt.Errorf("%w: kel bucket changed while read", ErrCorruptStore)
			}
			arena = append(arena, val...)
			keys = append(keys, slices.Clone(k))
			entries = append(entries, arena[len(arena)-len(val):len(arena):len(arena)])
			return nil
		})
	})
	if err != nil {
		return storedKEL{}, err
	}
	// A held delegated event waits (the replay holds it again, and decides
	// it where its anchor's entry comes); what its release decides is
	// what it decided when the entries were made.
	refused := func(i int, r kel.Result) error {
		return fmt.Errorf("%w: kel entry %x (%s sn %d) does not replay: %w", ErrCorruptStore, keys[i], r.Prefix, r.Sn, r.Err)
	}
	unparsed := func(i int, err error) error {
		return fmt.Errorf("%w: kel entry %x: %w", ErrCorruptStore, keys[i], err)
	}
	// Chunks parse on the other cores while this goroutine computes the
	// digest, then restores them in order as they come.
	type chunk struct {
		lo   int
		msgs []kel.Message
		err  error
	}
	const chunkSize = 1024
	parsed, stop := make(chan chunk, 2), make(chan struct{})
	defer close(stop)
	go func() {
		defer close(parsed)
		for lo := 0; lo < len(entries); lo += chunkSize {
			msgs, err := kel.ParseMessages(entries[lo:min(lo+chunkSize, len(entries))])
			select {
			case parsed <- chunk{lo, msgs, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	k := storedKEL{v: kel.NewVerifier(), digest: kelDigestSeed[:]}
	for _, e := range entries {
		k.digest = kelDigestNext(k.digest, e)
	}
	if !bytes.Equal(stored, k.digest) {
		// Not the entries this store accepted: verify every signature.
		var msgs []kel.Message
		for c := range parsed {
			msgs = append(msgs, c.msgs...)
			if c.err != nil {
				return storedKEL{}, unparsed(c.lo+len(c.msgs), c.err)
			}
		}
		for i, r := range k.v.AcceptMessages(msgs) {
			if !r.OK() && !r.Held {
				return storedKEL{}, refused(i, r)
			}
		}
		k.rewrite, k.keys, k.raws, k.msgs = true, keys, entries, msgs
		return k, nil
	}
	// The store's own entries: restore them without Ed25519.
	k.keys, k.raws = keys, entries
	for c := range parsed {
		k.msgs = append(k.msgs, c.msgs...)
		for i, r := range k.v.RestoreAccepted(c.msgs) {
			if !r.OK() && !r.Held {
				return storedKEL{}, refused(c.lo+i, r)
			}
		}
		if c.err != nil {
			return storedKEL{}, unparsed(c.lo+len(c.msgs), c.err)
		}
	}
	return k, nil
}

// resyncAfter restores the KEL from disk after a failed write left the
// in-memory copy ahead of it.
func (s *Store) resyncAfter(cause error) error {
	// The ceremonies share s.v: it is emptied in place, and what it held
	// is restored again.
	var held []string
	for p, ok := range s.idx.loaded {
		if ok {
			held = append(held, p)
		}
	}
	*s.v = *kel.NewVerifier()
	s.idx.loaded = map[string]bool{}
	if err := s.ensure(held...); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// appendKEL stores accepted messages (already accepted into s.v), the
// digest they extend and their identifiers' entry keys and summaries, and
// returns that digest and the index update (the store's once the
// transaction commits).
func (s *Store) appendKEL(tx *bolt.Tx, msgs []kel.Message) ([]byte, indexUpdate, error) {
	b := tx.Bucket(bucketKEL)
	digest := s.kelDigest
	var u indexUpdate
	for _, m := range msgs {
		n, err := b.NextSequence()
		if err != nil {
			return nil, u, err
		}
		raw := m.Bytes()
		if err := b.Put(seqKey(int(n)), raw); err != nil {
			return nil, u, err
		}
		digest = kelDigestNext(digest, raw)
		u.add(&s.idx, m, seqKey(int(n)), raw)
	}
	// An anchor may have released delegated events stored earlier: their
	// identifiers' states moved too.
	u.touchMoved(s, msgs)
	if err := tx.Bucket(bucketMeta).Put(keyKELDigest, digest); err != nil {
		return nil, u, err
	}
	return digest, u, s.writeIndex(tx, &s.idx, &u, digest)
}

// State is the local key state of an identifier.
func (s *Store) State(prefix string) (kel.KeyState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idx.loaded[prefix] {
		return s.v.State(prefix)
	}
	if sum := s.idx.sums[prefix]; sum != nil && sum.State != nil {
		// Checked when the store opened; parsed again so that the caller
		// gets its own copy.
		if st, err := kel.ParseKeyState(sum.State); err == nil {
			return st, true
		}
	}
	return kel.KeyState{}, false
}

// Prefixes lists the identifiers whose KELs the store keeps (not those
// with held events only), in first-seen order. It reads no KEL.
func (s *Store) Prefixes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for p, sum := range s.idx.sums {
		if sum.State != nil {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Compare(s.idx.sums[a].First, s.idx.sums[b].First) })
	return out
}

// Export writes an identifier's KEL as CESR, with the witness receipts
// held (store_receipts.go).
func (s *Store) Export(prefix string) ([]byte, error) {
	return s.ExportSince(prefix, 0)
}

// ExportSince is Export without the events before sequence number since:
// what a copy holding sn 0 to since-1 lacks.
func (s *Store) ExportSince(prefix string, since uint64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensure(prefix); err != nil {
		return nil, err
	}
	return s.exportSinceLocked(prefix, since), nil
}

// Verifier returns a copy of a verifier holding every local KEL, for
// callers that need them all (changes to it do not reach the store). It is
// a clone, not a replay, but it restores every KEL not restored yet:
// VerifierOf is the one to use when the identifiers are known.
func (s *Store) Verifier() (*kel.Verifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureAll(); err != nil {
		return nil, err
	}
	return s.v.Clone(), nil
}

// StateAt is the key state of prefix after its accepted event sn (false
// when there is none, or its KEL does not restore: the operations that
// need it report why). It restores the KEL.
func (s *Store) StateAt(prefix string, sn uint64) (kel.KeyState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ensure(prefix) != nil {
		return kel.KeyState{}, false
	}
	return s.v.StateAt(prefix, sn)
}

// MayBeWitnessed reports whether an establishment event of prefix named
// witnesses (whether any of its events may hold receipts). It reads no
// KEL.
func (s *Store) MayBeWitnessed(prefix string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := s.idx.sums[prefix]
	return sum != nil && sum.Witnessed
}

// Restore restores the KEL of prefix (and of those linked to it by
// delegation) now, if it was not yet, and says why it does not restore.
func (s *Store) Restore(prefix string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ensure(prefix)
}

// VerifierOf returns a copy of a verifier holding at least the KELs of the
// given identifiers and of those linked to them by delegation (identifiers
// the store does not hold are ignored). Other KELs it holds or not.
func (s *Store) VerifierOf(prefixes ...string) (*kel.Verifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensure(prefixes...); err != nil {
		return nil, err
	}
	return s.v.Clone(), nil
}

// ImportKEL accepts a CESR stream (a whole KEL or new events) through
// authenticated replay and stores the messages new to the store (see
// ImportMessages). Per-message verdicts are in the results; the error
// reports a framing failure or a message that was refused.
func (s *Store) ImportKEL(cesr []byte) ([]kel.Result, error) {
	msgs, perr := kel.ParseStream(cesr)
	s.mu.Lock()
	defer s.mu.Unlock()
	results, err := s.importLocked(msgs)
	if perr != nil {
		err = errors.Join(fmt.Errorf("%w: %w", ErrRejected, perr), err)
	}
	return results, err
}

// ImportMessages accepts parsed messages through authenticated replay
// (kel.Verifier.AcceptMessages: every signature verified, spread over the
// cores) and stores those new to the store, in order, in one transaction. A
// message that finalizes an open local ceremony closes it in the same
// transaction. Duplicates of stored events are accepted with a warning and
// store nothing. A delegated event whose delegator's anchor this store
// does not hold is stored as held (Result.Held, not an error): it waits,
// across restarts, and the import that brings the anchor accepts it (its
// result lists it in Released). Per-message verdicts are in the results
// (a held message released within the same call has its final verdict);
// the error joins the refusals (ErrRejected), and a failed write
// (ErrRejected and ErrStore: nothing of the batch is then stored, the
// in-memory KELs are restored from disk, and every new message's result
// carries the error).
func (s *Store) ImportMessages(msgs []kel.Message) ([]kel.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.importLocked(msgs)
}

// Held lists the delegated events (and the later events of their
// identifiers) waiting for their delegator's anchor.
func (s *Store) Held() ([]kel.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureAll(); err != nil {
		return nil, err
	}
	return s.v.Held(), nil
}

// ImportFinalized accepts one finalized message received from another
// device (see ImportMessages).
func (s *Store) ImportFinalized(cesr []byte) (kel.Result, error) {
	msgs, err := kel.ParseStream(cesr)
	if err == nil && len(msgs) != 1 {
		err = fmt.Errorf("%d messages, want one", len(msgs))
	}
	if err != nil {
		return kel.Result{}, fmt.Errorf("%w: finalized message: %w", ErrRejected, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	results, err := s.importLocked(msgs)
	return results[0], err
}

func (s *Store) importLocked(msgs []kel.Message) ([]kel.Result, error) {
	// The in-memory KEL moves first; a failed write resyncs it from disk.
	if err := s.ensureMessages(msgs); err != nil {
		results := make([]kel.Result, len(msgs))
		for i, m := range msgs {
			ev := m.Event
			results[i] = kel.Result{Prefix: ev.Prefix(), Sn: ev.Sn(), Ilk: ev.Ilk(), SAID: ev.SAID(), Err: err}
		}
		return results, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	results := s.v.AcceptMessages(msgs)
	var errs []error
	var fresh []int // results of the messages to store
	var stored []kel.Message
	type closing struct {
		c  *Ceremony
		ch change
	}
	var closes []closing
	closeFor := func(m kel.Message) {
		ev := m.Event
		for _, c := range s.ceremonies {
			if c.state.Open() && c.b.ev.SAID() == ev.SAID() && !slices.ContainsFunc(closes, func(x closing) bool { return x.c == c }) {
				closes = append(closes, closing{c, c.prepare(change{op: "import", state: StateFinalized, final: m.Bytes(),
					entry: Entry{Kind: EntryFinalized, Index: -1, From: "import",
						Detail: fmt.Sprintf("the fully signed %s arrived from another device with %d signatures", ev.Ilk(), len(m.Sigs))}})})
			}
		}
	}
	for i, r := range results {
		switch {
		case slices.Contains(r.Warnings, "duplicate_event"):
			// held already: nothing to store
		case r.Held:
			fresh, stored = append(fresh, i), append(stored, msgs[i])
		case !r.OK():
			errs = append(errs, fmt.Errorf("%w: %w", ErrRejected, r.Err))
		default:
			fresh, stored = append(fresh, i), append(stored, msgs[i])
			closeFor(msgs[i])
		}
		// Released messages were stored when they were held.
		for _, rel := range r.Released {
			if rel.Result.OK() {
				closeFor(rel.Message)
			}
		}
	}
	results = kel.Settle(results)
	if len(fresh) == 0 {
		return results, errors.Join(errs...)
	}
	var digest []byte
	var update indexUpdate
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if digest, update, err = s.appendKEL(tx, stored); err != nil {
			return err
		}
		for _, x := range closes {
			if err := writeChange(tx, x.c, x.ch); err != nil {
				return err
			}
		}
		testHook("import-before-commit")
		return nil
	})
	if err != nil {
		what := results[fresh[0]].SAID
		if len(fresh) > 1 {
			what = fmt.Sprintf("%d events from %s", len(fresh), what)
		}
		err = s.resyncAfter(fmt.Errorf("%w: import %s: %w", ErrStore, what, err))
		for _, i := range fresh {
			results[i].Err = err
		}
		return results, errors.Join(append(errs, fmt.Errorf("%w: %w", ErrRejected, err))...)
	}
	s.kelDigest = digest
	update.apply(&s.idx)
	for _, x := range closes {
		x.c.apply(x.ch)
	}
	testHook("import-after-commit")
	return results, errors.Join(errs...)
}
