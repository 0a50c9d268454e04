// Package ceremony runs KERI multi-signature co-signing ceremonies: it turns
// one proposed group event (an inception, a rotation or an anchoring ixn)
// into a finalized, fully signed KEL entry across several devices.
//
// A proposer builds the event with BuildInception, BuildRotation or
// BuildAnchoring (ProposeInception and friends wrap them into a Proposal).
// Each co-signer rebuilds the event from the proposal's declared parameters
// and its own KEL copy (ReviewProposal) and signs only bytes it rebuilt
// (SignLocal requires a Review that passed). Signatures travel as qb64 in an
// Envelope and are verified on arrival (Receive, AddSignature); Progress
// measures them with kel; Finalize accepts the message into the local KEL.
// A Store keeps ceremonies, signatures, transcripts and KELs in one bbolt
// file and replays every KEL through kel when it opens.
//
// The package never prints, never exits and reads time only through the
// injected clock.
package ceremony

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/keremony/keremony/kel"
)

// State is where a ceremony stands. Closed ceremonies (finalized, aborted,
// expired) stay on record with their transcript.
type State string

const (
	StateDrafting   State = "drafting"   // built, not yet sent out
	StateCollecting State = "collecting" // gathering signatures
	StateFinalized  State = "finalized"  // the signed event is in the local kel
	StateAborted    State = "aborted"
	StateExpired    State = "expired"
)

// Open reports whether the ceremony can still change (drafting or
// collecting).
func (s State) Open() bool { return s == StateDrafting || s == StateCollecting }

// Options configure an in-memory ceremony.
type Options struct {
	// Clock is the only source of time the ceremony reads (default
	// time.Now).
	Clock func() time.Time
	// Deadline, when set, expires the ceremony once the clock reaches it.
	Deadline time.Time
}

// Ceremony turns one proposed group event into a finalized, fully signed KEL
// entry. Its methods are safe for concurrent use. A ceremony made by a Store
// persists every change before it takes effect in memory.
type Ceremony struct {
	mu    *sync.Mutex // shared with the store, when there is one
	store *Store
	v     *kel.Verifier // the local kel copy: the group's KEL and anchors
	clock func() time.Time

	id       string
	proposal Proposal
	b        *basis
	pubs     []ed25519.PublicKey
	created  time.Time
	deadline time.Time
	state    State
	reason   string
	sigs     map[int]kel.Siger
	rejected map[int]string // last rejection per signing index, for the progress view
	refusals int            // rejection entries in log
	log      []Entry
	final    []byte
}

// New starts an in-memory ceremony (state drafting) for a proposal. v is
// the local KEL copy: for a rotation or an anchoring it must hold the
// group's KEL; for an inception it may be nil. The proposal is rebuilt from
// its parameters and must match byte for byte; a proposal without an ID gets
// a fresh one.
func New(p Proposal, v *kel.Verifier, o Options) (*Ceremony, error) {
	if v == nil {
		v = kel.NewVerifier()
	}
	c, err := newCeremony(p, v, o.Clock, o.Deadline)
	if err != nil {
		return nil, err
	}
	c.mu = &sync.Mutex{}
	ch := c.prepare(change{entry: c.createdEntry()})
	c.apply(ch)
	return c, nil
}

func newCeremony(p Proposal, v *kel.Verifier, clock func() time.Time, deadline time.Time) (*Ceremony, error) {
	if clock == nil {
		clock = time.Now
	}
	p = p.clone()
	if p.ID == "" {
		p.ID = NewID()
	}
	if err := checkID(p.ID); err != nil {
		return nil, err
	}
	b, err := p.rebuild(v)
	if err != nil {
		return nil, err
	}
	if b.ev.IsInception() {
		if _, known := v.State(b.ev.Prefix()); known {
			return nil, fmt.Errorf("%w: %s is already incepted", ErrDoesNotChain, b.ev.Prefix())
		}
	}
	c := &Ceremony{v: v, clock: clock, id: p.ID, proposal: p, deadline: deadline, state: StateDrafting,
		sigs: map[int]kel.Siger{}, rejected: map[int]string{}}
	if err := c.setBasis(b); err != nil {
		return nil, err
	}
	c.created = clock()
	return c, nil
}

func (c *Ceremony) setBasis(b *basis) error {
	c.b = b
	c.pubs = make([]ed25519.PublicKey, len(b.keys))
	for i, k := range b.keys {
		pub, err := kel.DecodeVerKey(k)
		if err != nil {
			return fmt.Errorf("%w: key %d: %w", ErrInvalidParams, i, err)
		}
		c.pubs[i] = pub
	}
	return nil
}

func (c *Ceremony) createdEntry() Entry {
	ev := c.b.ev
	return Entry{Kind: EntryCreated, Index: -1, From: "local",
		Detail: fmt.Sprintf("%s ceremony for %s %s sn %d of %s", c.proposal.Kind, ev.Ilk(), ev.SAID(), ev.Sn(), ev.Prefix())}
}

// change is one step of a ceremony, persisted whole before it is applied.
type change struct {
	op     string     // names the step for the store's test hooks
	sig    *kel.Siger // stored at sig.Index
	state  State      // new state ("" unchanged)
	reason string     // abort reason
	final  []byte     // finalized message
	kelMsg *kel.Message
	entry  Entry
}

// prepare stamps the transcript entry.
func (c *Ceremony) prepare(ch change) change {
	ch.entry.Seq = len(c.log)
	ch.entry.At = c.clock()
	return ch
}

// commit checks a finalized message into the local kel, persists the change
// and applies it. Nothing changes in memory when any step fails.
func (c *Ceremony) commit(ch change) error {
	ch = c.prepare(ch)
	if ch.kelMsg != nil && c.store != nil {
		// The KELs its seals name, for Accept to compare them with.
		if err := c.store.ensureMessages([]kel.Message{*ch.kelMsg}); err != nil {
			return err
		}
	}
	if ch.kelMsg != nil {
		if r := c.v.Accept(*ch.kelMsg); !r.OK() {
			return fmt.Errorf("%w: %w", ErrRejected, r.Err)
		}
	}
	if c.store != nil {
		if err := c.store.persist(c, ch); err != nil {
			if ch.kelMsg != nil {
				// The in-memory kel is ahead of the disk: replay it from disk.
				err = c.store.resyncAfter(err)
			}
			return err
		}
	}
	c.apply(ch)
	return nil
}

func (c *Ceremony) apply(ch change) {
	if ch.sig != nil {
		c.sigs[ch.sig.Index] = *ch.sig
		delete(c.rejected, ch.sig.Index)
	}
	if ch.entry.Kind == EntryRejected {
		c.refusals++
		if _, held := c.sigs[ch.entry.Index]; !held && ch.entry.Index >= 0 {
			c.rejected[ch.entry.Index] = ch.entry.Detail
		}
	}
	if ch.state != "" {
		c.state, c.reason = ch.state, ch.reason
	}
	if ch.final != nil {
		c.final = slices.Clone(ch.final)
	}
	c.log = append(c.log, ch.entry)
}

// expireLocked closes an open ceremony whose deadline has passed.
func (c *Ceremony) expireLocked() error {
	if c.deadline.IsZero() || !c.state.Open() || c.clock().Before(c.deadline) {
		return nil
	}
	return c.commit(change{op: "state", state: StateExpired, entry: Entry{Kind: EntryExpired, Index: -1,
		Detail: fmt.Sprintf("deadline %s passed with %d signatures collected", c.deadline.UTC().Format(time.RFC3339), len(c.sigs))}})
}

func (c *Ceremony) notCollecting() error {
	return fmt.Errorf("%w: ceremony %s is %s", ErrNotCollecting, c.id, c.state)
}

// Open sends a drafting ceremony out: it starts collecting signatures.
// Opening a collecting ceremony does nothing.
func (c *Ceremony) Open() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.expireLocked(); err != nil {
		return err
	}
	switch c.state {
	case StateCollecting:
		return nil
	case StateDrafting:
		return c.commit(change{op: "state", state: StateCollecting, entry: Entry{Kind: EntryOpened, Index: -1, From: "local"}})
	}
	return c.notCollecting()
}

// Abort closes an open ceremony for good; it stays on record with reason.
func (c *Ceremony) Abort(reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.expireLocked(); err != nil {
		return err
	}
	if !c.state.Open() {
		return c.notCollecting()
	}
	if reason == "" {
		reason = "no reason given"
	}
	return c.commit(change{op: "state", state: StateAborted, reason: reason,
		entry: Entry{Kind: EntryAborted, Index: -1, From: "local", Detail: reason}})
}

// Expire evaluates the deadline with the ceremony's clock and reports
// whether the ceremony is (now) expired.
func (c *Ceremony) Expire() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.expireLocked()
	return c.state == StateExpired, err
}

// Finalize joins every collected signature into one message, accepts it into
// the local KEL (in the same store transaction that closes the ceremony) and
// returns the message as CESR.
func (c *Ceremony) Finalize() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.expireLocked(); err != nil {
		return nil, err
	}
	if c.state != StateCollecting {
		return nil, c.notCollecting()
	}
	pr := c.progressLocked()
	switch {
	case pr.Blocked != nil:
		return nil, fmt.Errorf("%w: %w", ErrBlocked, pr.Blocked)
	case pr.AwaitingAnchor:
		return nil, fmt.Errorf("%w: %s", ErrDelegationPending, pr.Missing)
	case !pr.Met:
		return nil, fmt.Errorf("%w: %s", ErrNotReady, pr.Missing)
	}
	msg := c.message()
	out := msg.Bytes()
	ev := c.b.ev
	err := c.commit(change{op: "finalize", state: StateFinalized, final: out, kelMsg: &msg,
		entry: Entry{Kind: EntryFinalized, Index: -1, From: "local",
			Detail: fmt.Sprintf("%d signatures; %s %s is sn %d of %s", len(msg.Sigs), ev.Ilk(), ev.SAID(), ev.Sn(), ev.Prefix())}})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// message pairs the event with every collected signature, in index order,
// and for a dip or drt the -G couple naming the delegator's anchor.
func (c *Ceremony) message() kel.Message {
	var src []kel.SourceSeal
	if ref, ok := c.delegationAnchor(); ok {
		src = append(src, kel.SourceSeal{Sn: ref.Sn, SAID: ref.SAID})
	}
	return kel.NewMessage(c.b.ev, c.sortedSigs(), src...)
}

// delegator is the identifier that must approve the event: a dip's di, or
// for a drt the group's delegator ("" for an event that needs no approval).
func (c *Ceremony) delegator() string {
	ev := c.b.ev
	switch ev.Ilk() {
	case kel.IlkDip:
		return ev.Delegator()
	case kel.IlkDrt:
		st, _ := c.v.State(ev.Prefix())
		return st.Delegator
	}
	return ""
}

// delegationAnchor finds the delegator's event that anchors a dip or drt.
func (c *Ceremony) delegationAnchor() (kel.AnchorRef, bool) {
	ev := c.b.ev
	del := c.delegator()
	if del == "" {
		return kel.AnchorRef{}, false
	}
	for _, ref := range c.v.AnchorsOf(ev.Prefix(), ev.Sn(), ev.SAID()) {
		if ref.Prefix == del {
			return ref, true
		}
	}
	return kel.AnchorRef{}, false
}

func (c *Ceremony) sortedSigs() []kel.Siger {
	idx := slices.Sorted(maps.Keys(c.sigs))
	out := make([]kel.Siger, len(idx))
	for i, k := range idx {
		out[i] = c.sigs[k]
	}
	return out
}

// Accessors.

func (c *Ceremony) ID() string   { return c.id }
func (c *Ceremony) Kind() Kind   { return c.proposal.Kind }
func (c *Ceremony) SAID() string { return c.b.ev.SAID() }

// Event is the proposed event.
func (c *Ceremony) Event() *kel.Event { return c.b.ev }

// Raw is a copy of the exact bytes every member signs.
func (c *Ceremony) Raw() []byte { return c.b.ev.Raw() }

// Proposal is what to send the co-signers (Proposal.Marshal).
func (c *Ceremony) Proposal() Proposal { return c.proposal.clone() }

// Roster says whose key sits at each index.
func (c *Ceremony) Roster() Roster { return c.b.roster.clone() }

// SigningKeys are the keys signature indices point into: the event's k, or
// for an anchoring the group's current k.
func (c *Ceremony) SigningKeys() []string { return slices.Clone(c.b.keys) }

func (c *Ceremony) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *Ceremony) Created() time.Time  { return c.created }
func (c *Ceremony) Deadline() time.Time { return c.deadline }

// AbortReason is the reason given to Abort ("" unless aborted).
func (c *Ceremony) AbortReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// Signatures are the collected signatures in index order.
func (c *Ceremony) Signatures() []kel.Siger {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sortedSigs()
}

// Transcript is the ceremony's history, oldest first.
func (c *Ceremony) Transcript() []Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.log)
}

// KEL exports the identifier's whole local KEL as CESR (after finalizing,
// it ends with this ceremony's event).
func (c *Ceremony) KEL() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.store != nil {
		// A settled ceremony was restored without it (store_closed.go).
		if err := c.store.ensure(c.b.ev.Prefix()); err != nil {
			return nil, err
		}
	}
	return c.v.Export(c.b.ev.Prefix()), nil
}

// Finalized is the fully signed message as CESR (nil until finalized).
func (c *Ceremony) Finalized() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.final)
}

// sameEvent reports whether raw is this ceremony's event.
func (c *Ceremony) sameEvent(raw []byte) bool { return bytes.Equal(raw, c.b.ev.Raw()) }
