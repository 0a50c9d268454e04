package ceremony

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/keremony/keremony/kel"
)

// DBFileName is the store's file inside a data directory.
const DBFileName = "keremony.db"

const storeFormat = "keremony-store/1"

// DefaultLockTimeout is how long OpenStore waits for another process to
// release the store.
const DefaultLockTimeout = 2 * time.Second

var (
	bucketMeta       = []byte("meta")
	bucketKEL        = []byte("kel")
	bucketCeremonies = []byte("ceremonies")
	bucketSigs       = []byte("sigs")
	bucketLog        = []byte("log")
	keyFormat        = []byte("format")
	keyKELDigest     = []byte("kel-digest")
	keyRecord        = []byte("record")
)

// testHook is called at named points of every store transaction
// ("<op>-before-commit" inside the transaction, "<op>-after-commit" once it
// is durable; op is create, signature, rejection, ignored, state, finalize
// or import). Crash tests replace it; it does nothing otherwise.
var testHook = func(point string) {}

// StoreOptions configure OpenStore.
type StoreOptions struct {
	// Clock is the only source of time ceremonies read (default time.Now).
	Clock func() time.Time
	// LockTimeout bounds the wait for another process holding the store
	// (default DefaultLockTimeout).
	LockTimeout time.Duration
}

// Store keeps one device's ceremonies, their signatures and transcripts, and
// its local KEL copies in one bbolt file. Every change to a ceremony is one
// transaction; finalizing appends the event to the KEL and closes the
// ceremony in the same transaction.
//
// KELs are stored as the accepted CESR messages, in acceptance order. A
// message reaches the store only after kel's authenticated replay accepted
// it here (Finalize, ImportKEL, ImportMessages, ImportFinalized), every
// signature verified against the key state that authorizes it. So opening
// the store does not verify the signatures again; it restores the KELs
// through kel.Verifier.RestoreAccepted, which trusts the signature bytes
// and checks everything else: every event parses and matches its SAID, and
// chains to its prior with the next sequence number, every signature index
// is within the keys and the thresholds are met by the indices present,
// delegations and seals agree with the anchor index. What makes trusting
// the signature bytes sound is the KEL digest (meta "kel-digest"): a hash
// chain over the stored entries that the store updates in the transaction
// that appends them. An open that finds the entries not matching it (a
// store written before the digest, a changed or dropped entry, bit rot)
// verifies every signature again, refuses the store if one fails, and
// otherwise rewrites the digest. The digest is not a secret: it catches
// corruption and edits by anything but this code, not someone who can
// rewrite both the file's entries and its digest; the file is the
// device's own, in a 0700 directory.
//
// The signatures of open ceremonies are verified again on open. A closed
// ceremony never changes again; one whose bucket matches the digest it was
// given when it last changed is restored from its record alone, without
// its group's KEL and without verifying its signatures again (the same
// trust as the KEL digest: see store_closed.go).
type Store struct {
	mu         sync.Mutex // guards everything below and every ceremony of the store
	db         *bolt.DB
	path       string
	clock      func() time.Time
	v          *kel.Verifier
	kelDigest  []byte   // the digest of the kel bucket's entries, as committed
	idx        kelIndex // per identifier: its entries' keys and summary (store_index.go)
	ceremonies map[string]*Ceremony
	receipts   receiptBook // witness receipts (store_receipts.go)
}

// OpenStore opens (creating when needed) the store in dir. It returns
// ErrStoreBusy when another process holds it, and ErrCorruptStore when the
// stored KEL or a ceremony does not restore (see Store for what is checked).
func OpenStore(dir string, o StoreOptions) (*Store, error) {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: data directory %q: %w", ErrStore, dir, err)
	}
	path := filepath.Join(dir, DBFileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.LockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s is open in another keremony process (waited %s); close it and retry", ErrStoreBusy, path, o.LockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %w", ErrStore, path, err)
	}
	s := &Store{db: db, path: path, clock: o.Clock, ceremonies: map[string]*Ceremony{}}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadReceipts(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("%w: close %s: %w", ErrStore, s.path, err)
	}
	return nil
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

func (s *Store) init() error {
	// An initialised store needs no write (and no sync) to open.
	ready := false
	err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil
		}
		if f := meta.Get(keyFormat); f != nil && string(f) != storeFormat {
			return fmt.Errorf("%w: %s has format %q, want %q", ErrCorruptStore, s.path, clip(string(f)), storeFormat)
		}
		ready = meta.Get(keyFormat) != nil && tx.Bucket(bucketKEL) != nil && tx.Bucket(bucketCeremonies) != nil
		return nil
	})
	if err != nil || ready {
		return err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		switch f := meta.Get(keyFormat); {
		case f == nil:
			if err := meta.Put(keyFormat, []byte(storeFormat)); err != nil {
				return err
			}
		case string(f) != storeFormat:
			return fmt.Errorf("%w: %s has format %q, want %q", ErrCorruptStore, s.path, clip(string(f)), storeFormat)
		}
		for _, b := range [][]byte{bucketKEL, bucketCeremonies} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrCorruptStore) {
		return fmt.Errorf("%w: initialise %s: %w", ErrStore, s.path, err)
	}
	return err
}

// load restores the stored KEL and every ceremony.
func (s *Store) load() error {
	if err := s.openKEL(); err != nil {
		return err
	}
	// The records first, for the KELs the ceremonies are on to be
	// restored before the ceremonies.
	var prefixes []string
	records := map[string]storedRecord{}
	err := s.db.View(func(tx *bolt.Tx) error {
		var ids []string
		var raws [][]byte
		var matches []bool // the bucket matches its digest
		err := tx.Bucket(bucketCeremonies).ForEachBucket(func(id []byte) error {
			b := tx.Bucket(bucketCeremonies).Bucket(id)
			ids, raws = append(ids, string(id)), append(raws, b.Get(keyRecord))
			matches = append(matches, bytes.Equal(b.Get(keyDigest), bucketDigest(b)))
			return nil
		})
		if err != nil {
			return err
		}
		// Parsed on every core, while the transaction maps the records.
		rs := make([]storedRecord, len(ids))
		parallel(len(ids), func(i int) {
			r := &rs[i]
			r.rec, r.p, r.ev, r.err = readRecord(ids[i], raws[i])
			r.settled = r.err == nil && matches[i] && !r.rec.State.Open() && r.rec.Basis != nil
		})
		for i, r := range rs {
			if r.err == nil && !r.settled { // a settled ceremony needs no KEL
				prefixes = append(prefixes, r.ev.KELsRead()...)
			}
			records[ids[i]] = r // restore reports an error
		}
		return nil
	})
	if err == nil {
		err = s.ensure(prefixes...)
	}
	if err != nil {
		return err
	}
	var unsettled []*Ceremony // closed, restored in full
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCeremonies).ForEachBucket(func(id []byte) error {
			r, ok := records[string(id)]
			if !ok {
				return fmt.Errorf("%w: ceremony %q appeared while the store opened", ErrCorruptStore, clip(string(id)))
			}
			c, err := s.restore(string(id), tx.Bucket(bucketCeremonies).Bucket(id), r)
			if err != nil {
				return fmt.Errorf("%w: ceremony %q: %w", ErrCorruptStore, clip(string(id)), err)
			}
			s.ceremonies[c.id] = c
			if !r.settled && !c.state.Open() {
				unsettled = append(unsettled, c)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	return s.settle(unsettled)
}

// Create records a new ceremony (state drafting) for a proposal built or
// received on this device. The proposal is rebuilt against the local KEL and
// must match byte for byte; one without an ID gets a fresh one. deadline may
// be zero.
func (s *Store) Create(p Proposal, deadline time.Time) (*Ceremony, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureProposal(p); err != nil {
		return nil, err
	}
	c, err := newCeremony(p, s.v, s.clock, deadline)
	if err != nil {
		return nil, err
	}
	if _, dup := s.ceremonies[c.id]; dup {
		return nil, fmt.Errorf("%w: %s", ErrExists, c.id)
	}
	c.mu, c.store = &s.mu, s
	ch := c.prepare(change{op: "create", entry: c.createdEntry()})
	rec, err := c.recordJSON(StateDrafting, "", nil)
	if err != nil {
		return nil, err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		all := tx.Bucket(bucketCeremonies)
		if all.Bucket([]byte(c.id)) != nil {
			return fmt.Errorf("%w: %s", ErrExists, c.id)
		}
		b, err := all.CreateBucket([]byte(c.id))
		if err != nil {
			return err
		}
		if _, err := b.CreateBucket(bucketSigs); err != nil {
			return err
		}
		if _, err := b.CreateBucket(bucketLog); err != nil {
			return err
		}
		if err := b.Put(keyRecord, rec); err != nil {
			return err
		}
		if err := writeEntry(b, ch.entry); err != nil {
			return err
		}
		return b.Put(keyDigest, bucketDigest(b))
	})
	if err != nil {
		if errors.Is(err, ErrExists) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: create ceremony %s: %w", ErrStore, c.id, err)
	}
	c.apply(ch)
	s.ceremonies[c.id] = c
	return c, nil
}

func writeEntry(b *bolt.Bucket, e Entry) error {
	j, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return b.Bucket(bucketLog).Put(seqKey(e.Seq), j)
}

// persist writes one ceremony change in one transaction; a finalization
// appends the message to the KEL in the same transaction.
func (s *Store) persist(c *Ceremony, ch change) error {
	digest := s.kelDigest
	var update indexUpdate
	err := s.db.Update(func(tx *bolt.Tx) error {
		if ch.kelMsg != nil {
			var err error
			if digest, update, err = s.appendKEL(tx, []kel.Message{*ch.kelMsg}); err != nil {
				return err
			}
		}
		if err := writeChange(tx, c, ch); err != nil {
			return err
		}
		testHook(ch.op + "-before-commit")
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: ceremony %s: %w", ErrStore, c.id, err)
	}
	s.kelDigest = digest
	update.apply(&s.idx)
	testHook(ch.op + "-after-commit")
	return nil
}

func writeChange(tx *bolt.Tx, c *Ceremony, ch change) error {
	b := tx.Bucket(bucketCeremonies).Bucket([]byte(c.id))
	if b == nil {
		return fmt.Errorf("ceremony %s is not in the store", c.id)
	}
	if ch.sig != nil {
		if err := b.Bucket(bucketSigs).Put(idxKey(ch.sig.Index), []byte(ch.sig.Qb64())); err != nil {
			return err
		}
	}
	if ch.state != "" || ch.final != nil {
		state, reason, final := c.state, c.reason, c.final
		if ch.state != "" {
			state, reason = ch.state, ch.reason
		}
		if ch.final != nil {
			final = ch.final
		}
		rec, err := c.recordJSON(state, reason, final)
		if err != nil {
			return err
		}
		if err := b.Put(keyRecord, rec); err != nil {
			return err
		}
	}
	if err := writeEntry(b, ch.entry); err != nil {
		return err
	}
	return b.Put(keyDigest, bucketDigest(b))
}

// Ceremony returns a ceremony by id.
func (s *Store) Ceremony(id string) (*Ceremony, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.ceremonies[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, clip(id))
	}
	return c, nil
}

// Ceremonies lists every ceremony, open and closed, oldest first.
func (s *Store) Ceremonies() []*Ceremony {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Collect(maps.Values(s.ceremonies))
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.Before(out[j].created)
		}
		return out[i].id < out[j].id
	})
	return out
}

// ExpireDue closes every open ceremony whose deadline has passed and lists
// their ids.
func (s *Store) ExpireDue() ([]string, error) {
	var out []string
	var errs []error
	for _, c := range s.Ceremonies() {
		before := c.State()
		expired, err := c.Expire()
		if err != nil {
			errs = append(errs, err)
		}
		if expired && before != StateExpired {
			out = append(out, c.id)
		}
	}
	return out, errors.Join(errs...)
}

// Review reviews a proposal against this device's KEL copy. Labels from the
// rosters of the device's past ceremonies complete the reviewer's address
// book.
func (s *Store) Review(p Proposal, me Reviewer) (*Review, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	book := map[string]string{}
	for _, c := range s.ceremonies {
		for _, m := range c.b.roster {
			for _, k := range []string{m.Key, m.Next, m.Prior} {
				if k != "" {
					book[k] = m.Label
				}
			}
		}
	}
	maps.Copy(book, me.Labels)
	me.Labels = book
	if err := s.ensureProposal(p); err != nil {
		return nil, err
	}
	return ReviewProposal(p, s.v, me)
}
