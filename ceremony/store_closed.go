package ceremony

// Settled ceremonies: a closed ceremony (finalized, aborted, expired) never
// changes again. Its record keeps the keys and thresholds its signatures
// were checked against, and its bucket a digest over the record, the
// signatures and the transcript; an open that finds a closed ceremony
// matching its digest restores it from what it holds, without its group's
// KEL and without verifying its signatures again. Every other closed
// ceremony (one from an earlier keremony, or whose bucket does not match)
// is restored in full and checked against the KEL, then given its basis
// and digest.

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/keremony/keremony/kel"
)

var keyDigest = []byte("digest") // in a ceremony's bucket

// recordBasis is a ceremony's basis as its record keeps it.
type recordBasis struct {
	Keys      []string `json:"keys"`
	Kt        string   `json:"kt"` // KERI JSON
	Rotation  bool     `json:"rotation,omitempty"`
	PriorNext []string `json:"priorNext,omitempty"`
	PriorNt   string   `json:"priorNt,omitempty"`
}

func basisRecord(b *basis) *recordBasis {
	r := &recordBasis{Keys: slices.Clone(b.keys), Kt: b.kt.String(), Rotation: b.rotation}
	if b.rotation {
		r.PriorNext, r.PriorNt = slices.Clone(b.priorNext), b.priorNt.String()
	}
	return r
}

// basis rebuilds the basis of event ev of a ceremony of kind.
func (r *recordBasis) basis(kind Kind, ev *kel.Event, roster Roster) (*basis, error) {
	if !slices.Contains(kindIlks[kind], ev.Ilk()) {
		return nil, fmt.Errorf("%s ceremony holds a %s", kind, ev.Ilk())
	}
	kt, err := kel.ParseThresholdText(r.Kt)
	if err != nil {
		return nil, fmt.Errorf("basis kt: %w", err)
	}
	b := &basis{ev: ev, roster: roster, keys: slices.Clone(r.Keys), kt: kt, rotation: r.Rotation}
	if r.Rotation {
		if b.priorNt, err = kel.ParseThresholdText(r.PriorNt); err != nil {
			return nil, fmt.Errorf("basis prior nt: %w", err)
		}
		b.priorNext = slices.Clone(r.PriorNext)
	}
	// What the event itself says must agree.
	if (kind == KindInception || kind == KindRotation) && !slices.Equal(b.keys, ev.Keys()) {
		return nil, errors.New("basis keys are not the event's")
	}
	if r.Rotation != (kind == KindRotation) {
		return nil, fmt.Errorf("basis of a %s ceremony says rotation %v", kind, r.Rotation)
	}
	return b, b.checkRoster()
}

// bucketDigest is the digest over a ceremony's record, signatures and
// transcript as stored.
func bucketDigest(b *bolt.Bucket) []byte {
	h := sha256.New()
	h.Write([]byte("keremony-ceremony-digest/1"))
	put := func(kind string, k, v []byte) error {
		h.Write([]byte(kind))
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(k))))
		h.Write(k)
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(v))))
		h.Write(v)
		return nil
	}
	put("r", keyRecord, b.Get(keyRecord))
	for _, sub := range [][]byte{bucketSigs, bucketLog} {
		if sb := b.Bucket(sub); sb != nil {
			sb.ForEach(func(k, v []byte) error { return put(string(sub), k, v) })
		}
	}
	return h.Sum(nil)
}

// parallel runs f(0) to f(n-1) on every core.
func parallel(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// restoreSettled restores a settled ceremony from its bucket alone (see
// the top of this file): its basis from the record, its signatures
// checked for their index and code but not verified again.
func (s *Store) restoreSettled(id string, b *bolt.Bucket, r storedRecord) (*Ceremony, error) {
	rec := r.rec
	bs, err := rec.Basis.basis(r.p.Kind, r.ev, rec.Roster)
	if err != nil {
		return nil, err
	}
	c := &Ceremony{mu: &s.mu, store: s, v: s.v, clock: s.clock, id: id, proposal: r.p, created: rec.Created,
		deadline: rec.Deadline, state: rec.State, reason: rec.Reason, sigs: map[int]kel.Siger{}, rejected: map[int]string{},
		final: []byte(rec.Final)}
	if err := c.setBasis(bs); err != nil {
		return nil, err
	}
	if err := c.restoreSigs(b.Bucket(bucketSigs), true); err != nil {
		return nil, err
	}
	if err := c.restoreLog(b.Bucket(bucketLog)); err != nil {
		return nil, err
	}
	for i := range c.sigs {
		delete(c.rejected, i)
	}
	if rec.State == StateFinalized {
		msgs, err := kel.ParseStream(c.final)
		if err != nil || len(msgs) != 1 || msgs[0].Event.SAID() != r.ev.SAID() {
			return nil, fmt.Errorf("finalized message does not parse as %s", r.ev.SAID())
		}
	}
	return c, nil
}

// settle gives the closed ceremonies an open restored in full (from an
// earlier keremony, or whose bucket no longer matched its digest, and
// that passed every check) their basis and digest.
func (s *Store) settle(cs []*Ceremony) error {
	if len(cs) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, c := range cs {
			rec, err := c.recordJSON(c.state, c.reason, c.final)
			if err != nil {
				return err
			}
			b := tx.Bucket(bucketCeremonies).Bucket([]byte(c.id))
			if err := b.Put(keyRecord, rec); err != nil {
				return err
			}
			if err := b.Put(keyDigest, bucketDigest(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: settle %d closed ceremonies in %s: %w", ErrStore, len(cs), s.path, err)
	}
	return nil
}
