package ceremony

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
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
// Ceremony signatures are few, and are still verified on open.
type Store struct {
	mu         sync.Mutex // guards everything below and every ceremony of the store
	db         *bolt.DB
	path       string
	clock      func() time.Time
	v          *kel.Verifier
	kelDigest  []byte // the digest of the kel bucket's entries, as committed
	ceremonies map[string]*Ceremony
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
	k, err := s.readKEL()
	if err != nil {
		return err
	}
	if k.rewrite {
		err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyKELDigest, k.digest) })
		if err != nil {
			return fmt.Errorf("%w: write the kel digest of %s: %w", ErrStore, s.path, err)
		}
	}
	s.v, s.kelDigest = k.v, k.digest
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCeremonies).ForEachBucket(func(id []byte) error {
			c, err := s.restore(string(id), tx.Bucket(bucketCeremonies).Bucket(id))
			if err != nil {
				return fmt.Errorf("%w: ceremony %q: %w", ErrCorruptStore, clip(string(id)), err)
			}
			s.ceremonies[c.id] = c
			return nil
		})
	})
}

// storedKEL is the KEL read back from the file.
type storedKEL struct {
	v       *kel.Verifier
	digest  []byte // of the entries read
	rewrite bool   // the stored digest did not match: every signature was verified
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
		// the file grows or closes, and kel keeps the bytes it parses:
		// copy them, into one allocation.
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
			if !r.OK() {
				return storedKEL{}, refused(i, r)
			}
		}
		k.rewrite = true
		return k, nil
	}
	// The store's own entries: restore them without Ed25519.
	for c := range parsed {
		for i, r := range k.v.RestoreAccepted(c.msgs) {
			if !r.OK() {
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
	k, err := s.readKEL()
	if err != nil {
		return errors.Join(cause, err)
	}
	*s.v, s.kelDigest = *k.v, k.digest
	return cause
}

// record is a ceremony's stored header.
type record struct {
	Format   string          `json:"format"`
	ID       string          `json:"id"`
	Proposal json.RawMessage `json:"proposal"`
	Roster   Roster          `json:"roster"`
	State    State           `json:"state"`
	Reason   string          `json:"reason,omitempty"`
	Created  time.Time       `json:"created"`
	Deadline time.Time       `json:"deadline,omitzero"`
	Final    string          `json:"final,omitempty"`
}

const recordFormat = "keremony-ceremony/1"

func (c *Ceremony) recordJSON(state State, reason string, final []byte) ([]byte, error) {
	p, err := c.proposal.Marshal()
	if err != nil {
		return nil, err
	}
	return json.Marshal(record{Format: recordFormat, ID: c.id, Proposal: p, Roster: c.b.roster, State: state,
		Reason: reason, Created: c.created, Deadline: c.deadline, Final: string(final)})
}

func idxKey(i int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(i)) }
func seqKey(n int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

// restore rebuilds a ceremony from its bucket, checking it against the
// replayed KEL: the signing keys and prior thresholds come from the KEL,
// and every stored signature must verify again.
func (s *Store) restore(id string, b *bolt.Bucket) (*Ceremony, error) {
	rec, p, ev, err := readRecord(id, b)
	if err != nil {
		return nil, err
	}
	bs, err := basisFromHistory(s.v, p.Kind, ev, rec.Roster)
	if err != nil {
		return nil, err
	}
	c := &Ceremony{mu: &s.mu, store: s, v: s.v, clock: s.clock, id: id, proposal: p, created: rec.Created,
		deadline: rec.Deadline, state: rec.State, reason: rec.Reason, sigs: map[int]kel.Siger{}, rejected: map[int]string{}}
	if err := c.setBasis(bs); err != nil {
		return nil, err
	}
	if err := c.restoreSigs(b.Bucket(bucketSigs)); err != nil {
		return nil, err
	}
	if err := c.restoreLog(b.Bucket(bucketLog)); err != nil {
		return nil, err
	}
	for i := range c.sigs {
		delete(c.rejected, i)
	}
	if c.state == StateFinalized {
		if err := checkFinal(s.v, ev, rec.Final); err != nil {
			return nil, err
		}
		c.final = []byte(rec.Final)
	}
	return c, nil
}

// readRecord reads and checks a ceremony's record: its format and id, its
// proposal, its state and the proposal's event.
func readRecord(id string, b *bolt.Bucket) (record, Proposal, *kel.Event, error) {
	var rec record
	if err := json.Unmarshal(b.Get(keyRecord), &rec); err != nil {
		return rec, Proposal{}, nil, fmt.Errorf("record: %w", err)
	}
	if rec.Format != recordFormat || rec.ID != id {
		return rec, Proposal{}, nil, fmt.Errorf("record format %q id %q", clip(rec.Format), clip(rec.ID))
	}
	p, err := ParseProposal(rec.Proposal)
	if err != nil {
		return rec, Proposal{}, nil, err
	}
	if p.ID != id {
		return rec, Proposal{}, nil, fmt.Errorf("proposal id %q", p.ID)
	}
	switch rec.State {
	case StateDrafting, StateCollecting, StateFinalized, StateAborted, StateExpired:
	default:
		return rec, Proposal{}, nil, fmt.Errorf("state %q", clip(string(rec.State)))
	}
	ev, err := kel.ParseEvent(p.Event)
	if err != nil {
		return rec, Proposal{}, nil, err
	}
	return rec, p, ev, nil
}

// restoreSigs loads the stored signatures; each must be stored under its
// own index and verify again.
func (c *Ceremony) restoreSigs(b *bolt.Bucket) error {
	return b.ForEach(func(k, val []byte) error {
		sig, n, err := kel.ParseSiger(string(val))
		if err == nil && (n != len(val) || len(k) != 4 || int(binary.BigEndian.Uint32(k)) != sig.Index) {
			err = fmt.Errorf("stored under %x", k)
		}
		if err == nil {
			err = c.verify(sig)
		}
		if err != nil {
			return fmt.Errorf("signature %x: %w", k, err)
		}
		c.sigs[sig.Index] = sig
		return nil
	})
}

// restoreLog loads the transcript, in sequence, and replays what it says
// about refused signatures.
func (c *Ceremony) restoreLog(b *bolt.Bucket) error {
	return b.ForEach(func(k, val []byte) error {
		var e Entry
		if err := json.Unmarshal(val, &e); err != nil || e.Seq != len(c.log) {
			return fmt.Errorf("transcript entry %x: %v", k, err)
		}
		switch e.Kind {
		case EntryRejected:
			c.refusals++
			if e.Index >= 0 {
				c.rejected[e.Index] = e.Detail
			}
		case EntrySigned, EntryReplaced:
			delete(c.rejected, e.Index)
		}
		c.log = append(c.log, e)
		return nil
	})
}

// checkFinal checks a finalized ceremony's stored message: it is the
// ceremony's event, and the KEL holds that event.
func checkFinal(v *kel.Verifier, ev *kel.Event, final string) error {
	msgs, err := kel.ParseStream([]byte(final))
	if err != nil || len(msgs) != 1 || msgs[0].Event.SAID() != ev.SAID() {
		return fmt.Errorf("finalized message does not parse as %s", ev.SAID())
	}
	held := v.Messages(ev.Prefix())
	if ev.Sn() >= uint64(len(held)) || held[ev.Sn()].Event.SAID() != ev.SAID() {
		return fmt.Errorf("finalized, but %s is not in the kel", ev.SAID())
	}
	return nil
}

// basisFromHistory derives what a stored ceremony needs from the replayed
// KEL: the establishment event before the ceremony's event gives an
// anchoring's keys and a rotation's prior next list.
func basisFromHistory(v *kel.Verifier, kind Kind, ev *kel.Event, roster Roster) (*basis, error) {
	b := &basis{ev: ev, roster: roster}
	if !slices.Contains(kindIlks[kind], ev.Ilk()) {
		return nil, fmt.Errorf("%s ceremony holds a %s", kind, ev.Ilk())
	}
	if kind == KindInception {
		b.keys, b.kt = ev.Keys(), ev.Kt()
	} else {
		msgs := v.Messages(ev.Prefix())
		if uint64(len(msgs)) < ev.Sn() || msgs[ev.Sn()-1].Event.SAID() != ev.Prior() {
			return nil, fmt.Errorf("%s sn %d does not follow the stored kel of %s", ev.SAID(), ev.Sn(), ev.Prefix())
		}
		var est *kel.Event
		for i := int(ev.Sn()) - 1; i >= 0 && est == nil; i-- {
			if e := msgs[i].Event; e.IsEstablishment() {
				est = e
			}
		}
		if kind == KindRotation {
			b.keys, b.kt = ev.Keys(), ev.Kt()
			b.rotation, b.priorNext, b.priorNt = true, est.Next(), est.Nt()
		} else {
			b.keys, b.kt = est.Keys(), est.Kt()
		}
	}
	next := ev.Next()
	for _, m := range roster {
		ok := m.Index < len(b.keys) && (m.Index < 0 || b.keys[m.Index] == m.Key)
		if ev.IsEstablishment() {
			ok = ok && m.NextIndex < len(next) && (m.NextIndex < 0 || next[m.NextIndex] == m.Next)
		}
		ok = ok && m.Ondex < len(b.priorNext) && (m.Ondex < 0 || b.priorNext[m.Ondex] == m.Prior)
		if !ok {
			return nil, fmt.Errorf("roster entry %q does not match the event", m.Label)
		}
	}
	return b, nil
}

// Create records a new ceremony (state drafting) for a proposal built or
// received on this device. The proposal is rebuilt against the local KEL and
// must match byte for byte; one without an ID gets a fresh one. deadline may
// be zero.
func (s *Store) Create(p Proposal, deadline time.Time) (*Ceremony, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
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
		return writeEntry(b, ch.entry)
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
	err := s.db.Update(func(tx *bolt.Tx) error {
		if ch.kelMsg != nil {
			var err error
			if digest, err = s.appendKEL(tx, [][]byte{ch.kelMsg.Bytes()}); err != nil {
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
	return writeEntry(b, ch.entry)
}

// appendKEL stores accepted messages and the digest they extend, and
// returns that digest (the store's once the transaction commits).
func (s *Store) appendKEL(tx *bolt.Tx, msgs [][]byte) ([]byte, error) {
	b := tx.Bucket(bucketKEL)
	digest := s.kelDigest
	for _, msg := range msgs {
		n, err := b.NextSequence()
		if err != nil {
			return nil, err
		}
		if err := b.Put(seqKey(int(n)), msg); err != nil {
			return nil, err
		}
		digest = kelDigestNext(digest, msg)
	}
	return digest, tx.Bucket(bucketMeta).Put(keyKELDigest, digest)
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

// Deliver routes a received signature envelope to its ceremony.
func (s *Store) Deliver(env Envelope) (Intake, error) {
	c, err := s.Ceremony(env.Ceremony)
	if err != nil {
		return Intake{}, fmt.Errorf("%w: %w", ErrWrongCeremony, err)
	}
	return c.Receive(env)
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
	return ReviewProposal(p, s.v, me)
}

// State is the local key state of an identifier.
func (s *Store) State(prefix string) (kel.KeyState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v.State(prefix)
}

// Export writes an identifier's KEL as CESR.
func (s *Store) Export(prefix string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v.Export(prefix)
}

// AnchorOf finds the local event anchoring event sn/said of prefix.
func (s *Store) AnchorOf(prefix string, sn uint64, said string) (kel.AnchorRef, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v.AnchorOf(prefix, sn, said)
}

// Verifier returns a copy of the store's verifier, holding the local KELs,
// for callers that need one (changes to it do not reach the store). It is a
// clone, not a replay: cheap however long the KELs.
func (s *Store) Verifier() *kel.Verifier {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v.Clone()
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
// store nothing. Per-message verdicts are in the results; the error joins
// the refusals (ErrRejected), and a failed write (ErrRejected and ErrStore:
// nothing of the batch is then stored, the in-memory KELs are restored from
// disk, and every new message's result carries the error).
func (s *Store) ImportMessages(msgs []kel.Message) ([]kel.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.importLocked(msgs)
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
	results := s.v.AcceptMessages(msgs)
	var errs []error
	var fresh []int // results of the messages to store
	var raws [][]byte
	type closing struct {
		c  *Ceremony
		ch change
	}
	var closes []closing
	for i, r := range results {
		if !r.OK() {
			errs = append(errs, fmt.Errorf("%w: %w", ErrRejected, r.Err))
			continue
		}
		if slices.Contains(r.Warnings, "duplicate_event") {
			continue // held already: nothing to store
		}
		m := msgs[i]
		ev := m.Event
		raw := m.Bytes()
		fresh, raws = append(fresh, i), append(raws, raw)
		for _, c := range s.ceremonies {
			if c.state.Open() && c.b.ev.SAID() == ev.SAID() {
				closes = append(closes, closing{c, c.prepare(change{op: "import", state: StateFinalized, final: raw,
					entry: Entry{Kind: EntryFinalized, Index: -1, From: "import",
						Detail: fmt.Sprintf("the fully signed %s arrived from another device with %d signatures", ev.Ilk(), len(m.Sigs))}})})
			}
		}
	}
	if len(fresh) == 0 {
		return results, errors.Join(errs...)
	}
	var digest []byte
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if digest, err = s.appendKEL(tx, raws); err != nil {
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
	for _, x := range closes {
		x.c.apply(x.ch)
	}
	testHook("import-after-commit")
	return results, errors.Join(errs...)
}
