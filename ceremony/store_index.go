package ceremony

// Each identifier's KEL is restored when it is first needed, not when the
// store opens: the store keeps, per identifier, the keys of its entries and
// a summary (its entry count, a digest chain over its entries, its key
// state), and opening reads the summaries only.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/keremony/keremony/kel"
)

var (
	bucketKELIndex = []byte("kel-index")   // prefix → bucket of the kel bucket's keys of its entries
	bucketKELSums  = []byte("kel-summary") // prefix → kelSummary
	keyKELIndex    = []byte("kel-index")   // meta: indexRecord
)

const indexFormat = "keremony-kel-index/2"

// kelSummary is what the store knows of an identifier without reading its
// KEL: what it lists (State()), how to find and check its entries, and the
// identifier that delegates it.
type kelSummary struct {
	Prefix    string          `json:"i"`
	Delegator string          `json:"di,omitempty"`
	First     uint64          `json:"first"` // the kel bucket key of its first entry: first-seen order
	Count     int             `json:"n"`
	Chain     string          `json:"chain"`           // hex digest chain over its entries, in order
	State     json.RawMessage `json:"state,omitempty"` // kel.KeyState; absent while every entry is held
	// Witnessed: an establishment event of it names witnesses (an
	// inception's b, a rotation's ba), so some event may be receipted.
	Witnessed bool `json:"witnessed,omitempty"`
}

// indexRecord ties the summaries to the kel bucket: the kel digest they
// were written with, and a digest over the summaries themselves. An open
// that finds either not matching (a store from before the index, one an
// older keremony wrote to, a changed summary) rebuilds the index from the
// whole KEL.
type indexRecord struct {
	Format string `json:"format"`
	KEL    string `json:"kel"`
	Sums   string `json:"sums"`
}

// kelIndex is the summaries in memory, and which identifiers the store's
// verifier holds.
type kelIndex struct {
	sums   map[string]*kelSummary
	raw    map[string][]byte // each summary as stored
	loaded map[string]bool
}

// prefixChainSeed starts an identifier's entry chain.
func prefixChainSeed(prefix string) []byte {
	h := sha256.Sum256([]byte("keremony-kel-prefix/1\x00" + prefix))
	return h[:]
}

// sumsDigest is the digest over every stored summary, in key order.
func sumsDigest(raw map[string][]byte) string {
	keys := slices.Sorted(maps.Keys(raw))
	h := sha256.New()
	for _, k := range keys {
		d := sha256.Sum256(raw[k])
		fmt.Fprintf(h, "%d:%s:", len(k), k)
		h.Write(d[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readIndex reads the summaries; ok is false when they do not match the
// kel bucket (the caller rebuilds the index).
func (s *Store) readIndex() (idx kelIndex, kelDigest []byte, ok bool, err error) {
	idx = kelIndex{sums: map[string]*kelSummary{}, raw: map[string][]byte{}, loaded: map[string]bool{}}
	var rec indexRecord
	err = s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		kelDigest = slices.Clone(meta.Get(keyKELDigest))
		r := meta.Get(keyKELIndex)
		sb := tx.Bucket(bucketKELSums)
		if r == nil || sb == nil || tx.Bucket(bucketKELIndex) == nil || json.Unmarshal(r, &rec) != nil {
			return nil
		}
		ok = true
		return sb.ForEach(func(k, v []byte) error {
			idx.raw[string(k)] = slices.Clone(v)
			return nil
		})
	})
	if err != nil || !ok {
		return idx, kelDigest, false, err
	}
	if rec.Format != indexFormat || rec.KEL != hex.EncodeToString(kelDigest) || rec.Sums != sumsDigest(idx.raw) {
		return idx, kelDigest, false, nil
	}
	for p, raw := range idx.raw {
		var sum kelSummary
		if err := json.Unmarshal(raw, &sum); err != nil || sum.Prefix != p || sum.Count <= 0 {
			return idx, kelDigest, false, nil
		}
		if sum.State != nil {
			st, err := kel.ParseKeyState(sum.State)
			if err != nil || st.Prefix != p {
				return idx, kelDigest, false, nil
			}
		}
		idx.sums[p] = &sum
	}
	return idx, kelDigest, true, nil
}

// openKEL makes the store's KEL ready: from the summaries when they match
// the stored entries (nothing is parsed until needed), or by restoring the
// whole KEL (readKEL) and writing the index anew.
func (s *Store) openKEL() error {
	idx, digest, ok, err := s.readIndex()
	if err != nil {
		return fmt.Errorf("%w: read the kel index of %s: %w", ErrStore, s.path, err)
	}
	s.v = kel.NewVerifier()
	if ok {
		s.idx, s.kelDigest = idx, digest
		return nil
	}
	k, err := s.readKEL()
	if err != nil {
		return err
	}
	s.v, s.kelDigest = k.v, k.digest
	idx = kelIndex{sums: map[string]*kelSummary{}, raw: map[string][]byte{}, loaded: map[string]bool{}}
	for _, p := range k.v.Prefixes() {
		idx.loaded[p] = true
	}
	pending := indexUpdate{sums: map[string]*kelSummary{}}
	for i, m := range k.msgs {
		pending.add(&idx, m, k.keys[i], k.raws[i])
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketKELIndex, bucketKELSums} {
			if tx.Bucket(b) != nil {
				if err := tx.DeleteBucket(b); err != nil {
					return err
				}
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		if k.rewrite {
			if err := tx.Bucket(bucketMeta).Put(keyKELDigest, k.digest); err != nil {
				return err
			}
		}
		return s.writeIndex(tx, &idx, &pending, k.digest)
	})
	if err != nil {
		return fmt.Errorf("%w: write the kel index of %s: %w", ErrStore, s.path, err)
	}
	s.idx = idx
	pending.apply(&s.idx)
	for p := range s.idx.sums {
		s.idx.loaded[p] = true
	}
	return nil
}

// indexUpdate is what appending entries changes in the index: new keys
// per identifier and new summaries, written in the appending transaction
// and applied in memory once it commits.
type indexUpdate struct {
	keys map[string][][]byte
	sums map[string]*kelSummary
	raw  map[string][]byte
}

// add records message m, stored under key as raw: its identifier's
// summary advances (the state is filled in by writeIndex).
func (u *indexUpdate) add(idx *kelIndex, m kel.Message, key, raw []byte) {
	p := m.Event.Prefix()
	sum := u.sums[p]
	if sum == nil {
		if old := idx.sums[p]; old != nil {
			c := *old
			sum = &c
		} else {
			sum = &kelSummary{Prefix: p, First: keyOrder(key), Chain: hex.EncodeToString(prefixChainSeed(p))}
		}
		if u.sums == nil {
			u.sums = map[string]*kelSummary{}
		}
		u.sums[p] = sum
	}
	prev, _ := hex.DecodeString(sum.Chain)
	sum.Chain = hex.EncodeToString(kelDigestNext(prev, raw))
	sum.Count++
	if sum.Delegator == "" {
		sum.Delegator = m.Event.Delegator()
	}
	sum.Witnessed = sum.Witnessed || len(m.Event.Witnesses()) > 0 || len(m.Event.Adds()) > 0
	if u.keys == nil {
		u.keys = map[string][][]byte{}
	}
	u.keys[p] = append(u.keys[p], key)
}

// touchMoved adds to u the summaries of identifiers linked to msgs by
// delegation whose key state in s.v moved without an entry of their own
// (held events an anchor released).
func (u *indexUpdate) touchMoved(s *Store, msgs []kel.Message) {
	var prefixes []string
	for _, m := range msgs {
		prefixes = append(prefixes, m.Event.Prefix())
	}
	for _, p := range s.idx.component(prefixes) {
		if _, ok := u.sums[p]; ok || !s.idx.loaded[p] {
			continue
		}
		var j []byte
		if st, ok := s.v.State(p); ok {
			j, _ = st.MarshalJSON()
		}
		if !bytes.Equal(j, s.idx.sums[p].State) {
			c := *s.idx.sums[p]
			if u.sums == nil {
				u.sums = map[string]*kelSummary{}
			}
			u.sums[p] = &c
		}
	}
}

// keyOrder is a kel bucket key as a number (keys are big-endian sequence
// numbers; a key of another length, from a damaged file, orders too).
func keyOrder(k []byte) uint64 {
	if len(k) == 8 {
		return binary.BigEndian.Uint64(k)
	}
	var n uint64
	for _, b := range k {
		n = n<<8 | uint64(b)
	}
	return n
}

// writeIndex writes u's keys and summaries (with each identifier's key
// state in s.v) and the index record for kel digest kelDigest.
func (s *Store) writeIndex(tx *bolt.Tx, idx *kelIndex, u *indexUpdate, kelDigest []byte) error {
	ib, sb := tx.Bucket(bucketKELIndex), tx.Bucket(bucketKELSums)
	raw := map[string][]byte{}
	for p, keys := range u.keys {
		b, err := ib.CreateBucketIfNotExists([]byte(p))
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Put(k, nil); err != nil {
				return err
			}
		}
	}
	for p, sum := range u.sums {
		sum.State = nil
		if st, ok := s.v.State(p); ok {
			j, err := st.MarshalJSON()
			if err != nil {
				return err
			}
			sum.State = j
		}
		j, err := json.Marshal(sum)
		if err != nil {
			return err
		}
		if err := sb.Put([]byte(p), j); err != nil {
			return err
		}
		raw[p] = j
	}
	all := maps.Clone(idx.raw)
	maps.Copy(all, raw)
	rec, err := json.Marshal(indexRecord{Format: indexFormat, KEL: hex.EncodeToString(kelDigest), Sums: sumsDigest(all)})
	if err != nil {
		return err
	}
	if u.raw == nil {
		u.raw = raw
	} else {
		for p, j := range raw {
			u.raw[p] = j
		}
	}
	return tx.Bucket(bucketMeta).Put(keyKELIndex, rec)
}

// apply makes a committed update the index's.
func (u indexUpdate) apply(idx *kelIndex) {
	for p, sum := range u.sums {
		idx.sums[p] = sum
		idx.loaded[p] = true
	}
	for p, j := range u.raw {
		idx.raw[p] = j
	}
}

// component is every identifier linked to the given ones by delegation
// (delegator to delegate, either way), which replay only together: a
// delegated event needs its delegator's anchor, and a delegator's events
// release its delegates' held ones.
func (idx *kelIndex) component(prefixes []string) []string {
	links := map[string][]string{}
	for p, sum := range idx.sums {
		if sum.Delegator != "" {
			links[p] = append(links[p], sum.Delegator)
			links[sum.Delegator] = append(links[sum.Delegator], p)
		}
	}
	seen := map[string]bool{}
	work := slices.Clone(prefixes)
	for len(work) > 0 {
		p := work[len(work)-1]
		work = work[:len(work)-1]
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		work = append(work, links[p]...)
	}
	var out []string
	for p := range seen {
		if idx.sums[p] != nil {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// ensure makes the store's verifier hold the KELs of the given identifiers
// (and of every identifier linked to them by delegation). Unknown
// identifiers are ignored. Entries are restored without Ed25519 when they
// match their identifier's summary, and verified in full otherwise (the
// summary is then written anew); a KEL that does not replay is
// ErrCorruptStore.
func (s *Store) ensure(prefixes ...string) error {
	var need []string
	for _, p := range s.idx.component(prefixes) {
		if !s.idx.loaded[p] {
			need = append(need, p)
		}
	}
	if len(need) == 0 {
		return nil
	}
	var keys, stored [][]byte
	var msgs []kel.Message
	trusted := true
	chains, counts := map[string][]byte{}, map[string]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		var entries []storedEntry
		ib, kb := tx.Bucket(bucketKELIndex), tx.Bucket(bucketKEL)
		for _, p := range need {
			b := ib.Bucket([]byte(p))
			if b == nil {
				return fmt.Errorf("%w: the kel index of %s has no entries for %s", ErrCorruptStore, s.path, p)
			}
			err := b.ForEach(func(k, _ []byte) error {
				v := kb.Get(k)
				if v == nil {
					return fmt.Errorf("%w: kel entry %x of %s is missing", ErrCorruptStore, k, p)
				}
				// Parsed while the transaction holds bbolt's memory map
				// (the messages keep no reference to the bytes); the
				// keys are copied.
				entries = append(entries, storedEntry{slices.Clone(k), v})
				return nil
			})
			if err != nil {
				return err
			}
		}
		slices.SortFunc(entries, func(a, b storedEntry) int { return bytes.Compare(a.key, b.key) })
		raws := make([][]byte, len(entries))
		for i, e := range entries {
			raws[i], keys = e.val, append(keys, e.key)
		}
		var err error
		if msgs, err = kel.ParseMessages(raws); err != nil {
			return fmt.Errorf("%w: kel entry %x: %w", ErrCorruptStore, entries[len(msgs)].key, err)
		}
		// Each identifier's entries, as stored, against its summary's
		// chain and count.
		for i, m := range msgs {
			p := m.Event.Prefix()
			if chains[p] == nil {
				chains[p] = prefixChainSeed(p)
			}
			chains[p] = kelDigestNext(chains[p], raws[i])
			counts[p]++
		}
		for _, p := range need {
			sum := s.idx.sums[p]
			if hex.EncodeToString(chains[p]) != sum.Chain || counts[p] != sum.Count {
				trusted = false
			}
		}
		if !trusted { // the summaries are written anew from these bytes
			for _, r := range raws {
				stored = append(stored, slices.Clone(r))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var results []kel.Result
	if trusted {
		results = s.v.RestoreAccepted(msgs)
	} else {
		results = s.v.AcceptMessages(msgs)
	}
	for i, r := range results {
		if !r.OK() && !r.Held {
			return fmt.Errorf("%w: kel entry %x (%s sn %d) does not replay: %w", ErrCorruptStore, keys[i], r.Prefix, r.Sn, r.Err)
		}
	}
	for _, p := range need {
		s.idx.loaded[p] = true
	}
	if !trusted {
		return s.resummarize(need, msgs, keys, stored)
	}
	for _, p := range need {
		sum := s.idx.sums[p]
		st, ok := s.v.State(p)
		var j []byte
		if ok {
			j, _ = st.MarshalJSON()
		}
		if !bytes.Equal(j, sum.State) {
			return fmt.Errorf("%w: the summary of %s does not match its kel", ErrCorruptStore, p)
		}
	}
	return nil
}

// storedEntry is one entry of the kel bucket: its key and message.
type storedEntry struct{ key, val []byte }

// resummarize writes the summaries of the given identifiers anew from
// their entries (msgs, stored under keys), once they were verified in
// full.
func (s *Store) resummarize(prefixes []string, msgs []kel.Message, keys, raws [][]byte) error {
	u := indexUpdate{}
	fresh := kelIndex{sums: map[string]*kelSummary{}, raw: s.idx.raw, loaded: s.idx.loaded}
	for i, m := range msgs {
		u.add(&fresh, m, keys[i], raws[i])
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		sb := tx.Bucket(bucketKELSums)
		for _, p := range prefixes {
			if err := sb.Delete([]byte(p)); err != nil {
				return err
			}
		}
		return s.writeIndex(tx, &s.idx, &u, s.kelDigest)
	})
	if err != nil {
		return fmt.Errorf("%w: write the kel summaries of %s: %w", ErrStore, s.path, err)
	}
	u.apply(&s.idx)
	return nil
}

// ensureAll makes the store's verifier hold every stored KEL.
func (s *Store) ensureAll() error {
	return s.ensure(slices.Collect(maps.Keys(s.idx.sums))...)
}

// ensureProposal loads the KELs a proposal's event is read against.
func (s *Store) ensureProposal(p Proposal) error {
	ev, err := kel.ParseEvent(p.Event)
	if err != nil {
		return nil // the proposal's own checks report it
	}
	return s.ensure(ev.KELsRead()...)
}

// ensureMessages loads the KELs the messages are read against.
func (s *Store) ensureMessages(msgs []kel.Message) error {
	var prefixes []string
	for _, m := range msgs {
		prefixes = append(prefixes, m.Event.KELsRead()...)
	}
	return s.ensure(prefixes...)
}
