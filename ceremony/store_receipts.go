package ceremony

// Witness receipts in the store: a witness's signature over an accepted
// event, kept per event and witness in the receipts bucket of the same
// file. A receipt enters only after it verified (the witness is in the
// witness list in force after the event, its signature covers the
// event's bytes), and every stored receipt is checked again when the
// store opens (its Ed25519 signatures only when the receipts digest does
// not match). Exported KELs carry them as witness-indexed signatures.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/keremony/keremony/kel"
)

var bucketReceipts = []byte("receipts")

// receiptRecord is one stored receipt.
type receiptRecord struct {
	SAID string `json:"d"`
	Sig  string `json:"sig"` // 0B…
}

// eventKey names one event of one identifier.
type eventKey struct {
	prefix string
	sn     uint64
}

// receiptBook is the receipts held in memory: event → witness → signature.
type receiptBook map[eventKey]map[string][]byte

func receiptKey(prefix string, sn uint64, witness string) []byte {
	k := append([]byte(prefix), 0)
	k = binary.BigEndian.AppendUint64(k, sn)
	return append(append(k, 0), witness...)
}

// keyReceiptsDigest is the meta key of the digest of the receipts
// bucket: sha256 over its entries in key order, rewritten in the
// transaction that adds receipts. As the KEL digest does for the KEL, it
// lets an open trust the stored signatures of the receipts this store
// verified when they entered; when it does not match, every receipt is
// verified again (and the digest rewritten).
var keyReceiptsDigest = []byte("receipts-digest")

// receiptsDigest hashes the receipts bucket.
func receiptsDigest(b *bolt.Bucket) []byte {
	h := sha256.New()
	h.Write([]byte("keremony-receipts-digest/1"))
	if b != nil {
		b.ForEach(func(k, v []byte) error {
			h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(k))))
			h.Write(k)
			h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(v))))
			h.Write(v)
			return nil
		})
	}
	return h.Sum(nil)
}

// loadReceipts reads the stored receipts and checks them against the
// restored KEL: each names an event held (one that a later recovery
// superseded is left aside), its witness is in that event's witness list,
// and, unless the receipts digest matches, its signature verifies.
func (s *Store) loadReceipts() error {
	s.receipts = receiptBook{}
	rewrite := false
	// The KELs of the receipted events, first.
	var prefixes []string
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketReceipts); b != nil {
			return b.ForEach(func(k, _ []byte) error {
				if prefix, _, _, err := splitReceiptKey(k); err == nil && !slices.Contains(prefixes, prefix) {
					prefixes = append(prefixes, prefix)
				}
				return nil
			})
		}
		return nil
	})
	if err == nil {
		err = s.ensure(prefixes...)
	}
	if err != nil {
		return err
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReceipts)
		if b == nil {
			return nil
		}
		trusted := bytes.Equal(tx.Bucket(bucketMeta).Get(keyReceiptsDigest), receiptsDigest(b))
		rewrite = !trusted
		return b.ForEach(func(k, val []byte) error {
			prefix, sn, wit, err := splitReceiptKey(k)
			var rec receiptRecord
			if err == nil {
				err = json.Unmarshal(val, &rec)
			}
			var c kel.Couple
			if err == nil {
				c = kel.Couple{Prefix: wit}
				c.Sig, err = kel.DecodeSignature(rec.Sig)
			}
			if err == nil {
				if m, held := s.v.MessageAt(prefix, sn); held && m.Event.SAID() != rec.SAID {
					return nil // of an event a recovery superseded: no longer this KEL's
				}
				err = s.checkReceipt(prefix, sn, rec.SAID, c, trusted)
			}
			if err != nil {
				return fmt.Errorf("%w: receipt %q: %w", ErrCorruptStore, clip(string(k)), err)
			}
			s.receipts.add(eventKey{prefix, sn}, c)
			return nil
		})
	})
	if err != nil || !rewrite {
		return err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyReceiptsDigest, receiptsDigest(tx.Bucket(bucketReceipts)))
	})
	if err != nil {
		return fmt.Errorf("%w: write the receipts digest of %s: %w", ErrStore, s.path, err)
	}
	return nil
}

func splitReceiptKey(k []byte) (prefix string, sn uint64, witness string, err error) {
	i := slices.Index(k, 0)
	if i < 0 || len(k) < i+10 || k[i+9] != 0 {
		return "", 0, "", errors.New("malformed key")
	}
	return string(k[:i]), binary.BigEndian.Uint64(k[i+1 : i+9]), string(k[i+10:]), nil
}

func (b receiptBook) add(e eventKey, c kel.Couple) {
	if b[e] == nil {
		b[e] = map[string][]byte{}
	}
	b[e][c.Prefix] = c.Sig
}

// checkReceipt verifies a couple for the accepted event sn of prefix,
// whose SAID must be said; trusted (the store's own receipts, see
// loadReceipts) skips the Ed25519 verification and nothing else.
func (s *Store) checkReceipt(prefix string, sn uint64, said string, c kel.Couple, trusted bool) error {
	m, held := s.v.MessageAt(prefix, sn)
	if !held {
		return fmt.Errorf("%w: this device holds no event %d of %s", kel.ErrReceipt, sn, prefix)
	}
	ev := m.Event
	if ev.SAID() != said {
		return fmt.Errorf("%w: receipt of %s, the event at sn %d of %s is %s", kel.ErrReceipt, said, sn, prefix, ev.SAID())
	}
	st, _ := s.v.StateAt(prefix, sn)
	if trusted {
		if !slices.Contains(st.Witnesses, c.Prefix) {
			return fmt.Errorf("%w: %s", kel.ErrNotWitness, c.Prefix)
		}
		return nil
	}
	_, err := kel.WitnessSig(ev, st.Witnesses, c)
	return err
}

// AddReceipt verifies a witness's receipt couple for the accepted event sn
// of prefix (whose SAID must be said) and stores it. A receipt already
// held is not stored again (added is false); one that does not verify
// changes nothing (ErrRejected).
func (s *Store) AddReceipt(prefix string, sn uint64, said string, c kel.Couple) (added bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensure(prefix); err != nil {
		return false, err
	}
	n, err := s.addReceiptsLocked([]receiptIn{{prefix, sn, said, c}})
	return n > 0, err
}

// receiptIn is a receipt to store.
type receiptIn struct {
	prefix string
	sn     uint64
	said   string
	c      kel.Couple
}

// addReceiptsLocked verifies receipts and stores the new ones in one
// transaction; the first that does not verify stops it, storing nothing.
func (s *Store) addReceiptsLocked(in []receiptIn) (int, error) {
	var fresh []receiptIn
	for _, r := range in {
		if err := s.checkReceipt(r.prefix, r.sn, r.said, r.c, false); err != nil {
			return 0, fmt.Errorf("%w: %w", ErrRejected, err)
		}
		if s.holdsReceipt(r.prefix, r.sn, r.c.Prefix) || slices.ContainsFunc(fresh, func(f receiptIn) bool {
			return f.prefix == r.prefix && f.sn == r.sn && f.c.Prefix == r.c.Prefix
		}) {
			continue
		}
		fresh = append(fresh, r)
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketReceipts)
		if err != nil {
			return err
		}
		for _, r := range fresh {
			val, err := json.Marshal(receiptRecord{SAID: r.said, Sig: kel.EncodeSignature(r.c.Sig)})
			if err != nil {
				return err
			}
			if err := b.Put(receiptKey(r.prefix, r.sn, r.c.Prefix), val); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketMeta).Put(keyReceiptsDigest, receiptsDigest(b)); err != nil {
			return err
		}
		testHook("receipt-before-commit")
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("%w: store %d receipts: %w", ErrStore, len(fresh), err)
	}
	for _, r := range fresh {
		s.receipts.add(eventKey{r.prefix, r.sn}, r.c)
	}
	return len(fresh), nil
}

// holdsReceipt reports whether a receipt of witness for sn of prefix is
// held, stored or on the accepted message.
func (s *Store) holdsReceipt(prefix string, sn uint64, witness string) bool {
	if _, ok := s.receipts[eventKey{prefix, sn}][witness]; ok {
		return true
	}
	return slices.ContainsFunc(s.messageCouples(prefix, sn), func(c kel.Couple) bool { return c.Prefix == witness })
}

// messageCouples are the witness signatures the accepted message itself
// carries, as couples.
func (s *Store) messageCouples(prefix string, sn uint64) []kel.Couple {
	m, held := s.v.MessageAt(prefix, sn)
	if !held || len(m.Wigs) == 0 {
		return nil
	}
	st, _ := s.v.StateAt(prefix, sn)
	var out []kel.Couple
	for _, w := range m.Wigs {
		if w.Index >= 0 && w.Index < len(st.Witnesses) {
			out = append(out, kel.Couple{Prefix: st.Witnesses[w.Index], Sig: w.Sig})
		}
	}
	return out
}

// KeepWitnessSigs stores, as receipts, the witness signatures that came
// with imported messages the KEL accepted (new events or ones already
// held): how receipts travel between devices in a KEL. results are the
// import's verdicts, in the order of msgs.
func (s *Store) KeepWitnessSigs(msgs []kel.Message, results []kel.Result) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var in []receiptIn
	for i, m := range msgs {
		if i >= len(results) || !results[i].OK() || len(m.Wigs) == 0 {
			continue
		}
		ev := m.Event
		st, ok := s.v.StateAt(ev.Prefix(), ev.Sn())
		if !ok {
			continue
		}
		for _, w := range m.Wigs {
			c, err := kel.WitnessCouple(ev, st.Witnesses, w)
			if err != nil {
				return 0, fmt.Errorf("%w: %w", ErrRejected, err)
			}
			in = append(in, receiptIn{ev.Prefix(), ev.Sn(), ev.SAID(), c})
		}
	}
	return s.addReceiptsLocked(in)
}

// Receipts are the receipts held for the accepted event sn of prefix, in
// the order of its witness list.
func (s *Store) Receipts(prefix string, sn uint64) ([]kel.Couple, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensure(prefix); err != nil {
		return nil, err
	}
	return s.receiptsLocked(prefix, sn), nil
}

func (s *Store) receiptsLocked(prefix string, sn uint64) []kel.Couple {
	st, ok := s.v.StateAt(prefix, sn)
	if !ok {
		return nil
	}
	held := map[string][]byte{}
	for _, c := range s.messageCouples(prefix, sn) {
		held[c.Prefix] = c.Sig
	}
	for w, sig := range s.receipts[eventKey{prefix, sn}] {
		held[w] = sig
	}
	var out []kel.Couple
	for _, w := range st.Witnesses {
		if sig, ok := held[w]; ok {
			out = append(out, kel.Couple{Prefix: w, Sig: sig})
		}
	}
	return out
}

// Witnessed is the accepted message sn of prefix with every receipt held
// attached as witness-indexed signatures.
func (s *Store) Witnessed(prefix string, sn uint64) (kel.Message, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensure(prefix); err != nil {
		return kel.Message{}, false, err
	}
	m, held := s.v.MessageAt(prefix, sn)
	if !held {
		return kel.Message{}, false, nil
	}
	return s.witnessedLocked(prefix, m), true, nil
}

func (s *Store) witnessedLocked(prefix string, m kel.Message) kel.Message {
	ev := m.Event
	st, _ := s.v.StateAt(prefix, ev.Sn())
	if len(st.Witnesses) == 0 {
		return m
	}
	var wigs []kel.Siger
	for _, c := range s.receiptsLocked(prefix, ev.Sn()) {
		// Verified when they entered (and when the store opened).
		i := slices.Index(st.Witnesses, c.Prefix)
		if w, err := kel.NewSiger(c.Sig, i, i, false); err == nil {
			wigs = append(wigs, w)
		}
	}
	return m.WithWigs(wigs)
}

// exportSinceLocked writes an identifier's KEL, without the events before
// sequence number since (a catch-up bundle for a copy that holds those),
// with its receipts attached, in first-seen order: events a recovery
// superseded (as they were accepted) stand before the rotation that
// superseded them. The caller has loaded the KEL (ensure).
func (s *Store) exportSinceLocked(prefix string, since uint64) []byte {
	var out []byte
	for _, m := range s.v.FirstSeen(prefix) {
		if m.Event.Sn() < since {
			continue
		}
		if cur, ok := s.v.MessageAt(prefix, m.Event.Sn()); !ok || cur.Event.SAID() != m.Event.SAID() {
			out = append(out, m.Bytes()...) // superseded: its receipts are no longer kept
			continue
		}
		out = append(out, s.witnessedLocked(prefix, m).Bytes()...)
	}
	return out
}
