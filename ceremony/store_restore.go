package ceremony

// Ceremonies on disk: the stored record, signatures and transcript of
// each ceremony, and their restoration (and checks) on open.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/keremony/keremony/kel"
)

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
	Basis    *recordBasis    `json:"basis,omitempty"` // what its signatures are checked against (store_closed.go)
}

const recordFormat = "keremony-ceremony/1"

func (c *Ceremony) recordJSON(state State, reason string, final []byte) ([]byte, error) {
	p, err := c.proposal.Marshal()
	if err != nil {
		return nil, err
	}
	return json.Marshal(record{Format: recordFormat, ID: c.id, Proposal: p, Roster: c.b.roster, State: state,
		Reason: reason, Created: c.created, Deadline: c.deadline, Final: string(final), Basis: basisRecord(c.b)})
}

func idxKey(i int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(i)) }
func seqKey(n int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

// restore rebuilds a ceremony from its bucket, checking it against the
// replayed KEL: the signing keys and prior thresholds come from the KEL,
// and every stored signature must verify again.
func (s *Store) restore(id string, b *bolt.Bucket, r storedRecord) (*Ceremony, error) {
	rec, p, ev, err := r.rec, r.p, r.ev, r.err
	if err != nil {
		return nil, err
	}
	if r.settled {
		return s.restoreSettled(id, b, r)
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
	if err := c.restoreSigs(b.Bucket(bucketSigs), false); err != nil {
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

// storedRecord is what readRecord read, and whether the ceremony is closed
// and its bucket matches its digest (store_closed.go).
type storedRecord struct {
	rec     record
	p       Proposal
	ev      *kel.Event
	err     error
	settled bool
}

// readRecord reads and checks a ceremony's record: its format and id, its
// proposal, its state and the proposal's event.
func readRecord(id string, raw []byte) (record, Proposal, *kel.Event, error) {
	var rec record
	if err := json.Unmarshal(raw, &rec); err != nil {
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
func (c *Ceremony) restoreSigs(b *bolt.Bucket, trusted bool) error {
	verify := c.verify
	if trusted {
		verify = c.verifyShape
	}
	return b.ForEach(func(k, val []byte) error {
		sig, n, err := kel.ParseSiger(string(val))
		if err == nil && (n != len(val) || len(k) != 4 || int(binary.BigEndian.Uint32(k)) != sig.Index) {
			err = fmt.Errorf("stored under %x", k)
		}
		if err == nil {
			err = verify(sig)
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
// ceremony's event, and the KEL holds that event (or held it until a
// recovery rotation superseded it).
func checkFinal(v *kel.Verifier, ev *kel.Event, final string) error {
	msgs, err := kel.ParseStream([]byte(final))
	if err != nil || len(msgs) != 1 || msgs[0].Event.SAID() != ev.SAID() {
		return fmt.Errorf("finalized message does not parse as %s", ev.SAID())
	}
	if _, ok := eventAt(v, ev.Prefix(), ev.Sn(), ev.SAID()); !ok {
		return fmt.Errorf("finalized, but %s is not in the kel", ev.SAID())
	}
	return nil
}

// eventAt finds prefix's event sn whose SAID is said: the accepted one, or
// one a recovery rotation superseded.
func eventAt(v *kel.Verifier, prefix string, sn uint64, said string) (*kel.Event, bool) {
	if m, ok := v.MessageAt(prefix, sn); ok && m.Event.SAID() == said {
		return m.Event, true
	}
	for _, s := range v.Superseded(prefix) {
		if ev := s.Message.Event; ev.Sn() == sn && ev.SAID() == said {
			return ev, true
		}
	}
	return nil, false
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
		// The event it builds on, and the establishment event before, in
		// the stored KEL or among the events a recovery superseded.
		var est *kel.Event
		ok := ev.Sn() > 0
		if ok {
			est, ok = eventAt(v, ev.Prefix(), ev.Sn()-1, ev.Prior())
		}
		if !ok {
			return nil, fmt.Errorf("%s sn %d does not follow the stored kel of %s", ev.SAID(), ev.Sn(), ev.Prefix())
		}
		if m, ok := v.MessageAt(ev.Prefix(), est.Sn()); ok && m.Event == est {
			// In the KEL as it stands: its state names the establishment
			// event before it.
			st, _ := v.StateAt(ev.Prefix(), est.Sn())
			em, _ := v.MessageAt(ev.Prefix(), st.EstSn)
			est = em.Event
		}
		for est != nil && !est.IsEstablishment() && est.Sn() > 0 {
			est, _ = eventAt(v, ev.Prefix(), est.Sn()-1, est.Prior())
		}
		if est != nil && !est.IsEstablishment() {
			est = nil
		}
		if est == nil {
			return nil, fmt.Errorf("%s sn %d: no establishment event before it in the stored kel of %s", ev.SAID(), ev.Sn(), ev.Prefix())
		}
		if kind == KindRotation {
			b.keys, b.kt = ev.Keys(), ev.Kt()
			b.rotation, b.priorNext, b.priorNt = true, est.Next(), est.Nt()
		} else {
			b.keys, b.kt = est.Keys(), est.Kt()
		}
	}
	return b, b.checkRoster()
}

// checkRoster requires every roster entry to name the keys and digests at
// the positions it claims.
func (b *basis) checkRoster() error {
	next := b.ev.Next()
	for _, m := range b.roster {
		ok := m.Index < len(b.keys) && (m.Index < 0 || b.keys[m.Index] == m.Key)
		if b.ev.IsEstablishment() {
			ok = ok && m.NextIndex < len(next) && (m.NextIndex < 0 || next[m.NextIndex] == m.Next)
		}
		ok = ok && m.Ondex < len(b.priorNext) && (m.Ondex < 0 || b.priorNext[m.Ondex] == m.Prior)
		if !ok {
			return fmt.Errorf("roster entry %q does not match the event", m.Label)
		}
	}
	return nil
}
