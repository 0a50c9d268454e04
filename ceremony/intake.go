package ceremony

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"

	"github.com/keremony/keremony/kel"
)

// Outcome says what an accepted signature did.
type Outcome string

const (
	OutcomeAdded     Outcome = "added"     // a new index is signed
	OutcomeReplaced  Outcome = "replaced"  // it improves on the signature held for its index
	OutcomeDuplicate Outcome = "duplicate" // the very signature already held: nothing changes
	OutcomeIgnored   Outcome = "ignored"   // valid, but adds nothing to the held one
)

// Intake is the result of one accepted signature.
type Intake struct {
	Outcome  Outcome
	Index    int
	Label    string
	Sig      kel.Siger // the signature taken (for SignLocal: the one to send the others)
	Progress Progress
}

// Receive takes a signature (qb64) that another device says is from, for
// ceremony id over the event said (a signature packet carries these). A
// signature for another ceremony or event, out of range, malformed or not
// verifying is refused with its specific error and leaves the collected
// signatures as they were (the refusal goes into the transcript).
func (c *Ceremony) Receive(id, said, sig, from string) (Intake, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.expireLocked(); err != nil {
		return Intake{}, err
	}
	if c.state != StateCollecting {
		return Intake{}, c.notCollecting()
	}
	switch {
	case id != c.id:
		return Intake{}, c.reject(-1, sig, from, fmt.Errorf("%w: envelope names ceremony %q, this is %s", ErrWrongCeremony, clip(id), c.id))
	case said != c.b.ev.SAID():
		return Intake{}, c.reject(-1, sig, from, fmt.Errorf("%w: envelope names %q, this ceremony signs %s", ErrWrongEvent, clip(said), c.b.ev.SAID()))
	}
	siger, n, err := kel.ParseSiger(sig)
	if err == nil && n != len(sig) {
		err = fmt.Errorf("%d characters after the signature", len(sig)-n)
	}
	if err != nil {
		return Intake{}, c.reject(-1, sig, from, fmt.Errorf("%w: malformed signature %q: %w", ErrBadSignature, clip(sig), err))
	}
	return c.add(siger, from)
}

// AddSignature takes one indexed signature over the ceremony's event. It is
// verified on arrival against the exact event bytes and the key at its
// index; a refused signature never changes what was collected. The same
// signature twice is harmless; a different valid one for an index already
// held is kept only when it improves the rotation condition (it reveals the
// committed prior digest and the held one does not).
func (c *Ceremony) AddSignature(sig kel.Siger, from string) (Intake, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.expireLocked(); err != nil {
		return Intake{}, err
	}
	if c.state != StateCollecting {
		return Intake{}, c.notCollecting()
	}
	return c.add(sig, from)
}

// add runs with the lock held on a collecting ceremony.
func (c *Ceremony) add(sig kel.Siger, from string) (Intake, error) {
	if err := c.verify(sig); err != nil {
		idx := -1
		if sig.Index >= 0 && sig.Index < len(c.b.keys) {
			idx = sig.Index
		}
		text := ""
		if checkSigerShape(sig) == nil {
			text = sig.Qb64()
		}
		return Intake{}, c.reject(idx, text, from, err)
	}
	label := c.b.roster.labelAt(sig.Index)
	in := Intake{Index: sig.Index, Label: label, Sig: sig}
	exposes := c.exposes(sig)
	entry := Entry{Index: sig.Index, Label: label, From: from, Sig: sig.Qb64()}
	old, held := c.sigs[sig.Index]
	switch {
	case held && old.Qb64() == sig.Qb64():
		in.Outcome = OutcomeDuplicate
		in.Progress = c.progressLocked()
		return in, nil
	case held && exposes && !c.exposes(old):
		in.Outcome = OutcomeReplaced
		entry.Kind = EntryReplaced
		entry.Detail = fmt.Sprintf("%s reveals prior n[%d], replacing %s which did not", sig.Code, sig.Ondex, old.Code)
	case held:
		in.Outcome = OutcomeIgnored
		entry.Kind = EntryIgnored
		entry.Detail = fmt.Sprintf("index already holds a %s signature; this %s adds nothing", old.Code, sig.Code)
		if err := c.commit(change{op: "ignored", entry: entry}); err != nil {
			return Intake{}, err
		}
		in.Progress = c.progressLocked()
		return in, nil
	default:
		in.Outcome = OutcomeAdded
		entry.Kind = EntrySigned
		entry.Detail = sig.Code
		if c.b.rotation {
			switch {
			case exposes:
				entry.Detail += fmt.Sprintf(", reveals prior n[%d]", sig.Ondex)
			case sig.HasOndex:
				entry.Detail += fmt.Sprintf(", ondex %d does not hold this key's digest: counts toward kt only", sig.Ondex)
			default:
				entry.Detail += ", key not pre-committed: counts toward kt only"
			}
		}
	}
	if err := c.commit(change{op: "signature", sig: &sig, entry: entry}); err != nil {
		return Intake{}, err
	}
	in.Progress = c.progressLocked()
	return in, nil
}

// MaxRecordedRefusals bounds how many refused signatures a ceremony's
// transcript records, so that a flood of hostile input cannot grow it
// without end; later refusals are still returned to the caller.
const MaxRecordedRefusals = 256

// reject records a refused signature and returns why.
func (c *Ceremony) reject(index int, sig, from string, why error) error {
	if c.refusals >= MaxRecordedRefusals {
		return why
	}
	label := ""
	if index >= 0 {
		label = c.b.roster.labelAt(index)
	}
	if len(sig) > 200 {
		sig = clip(sig)
	}
	err := c.commit(change{op: "rejection", entry: Entry{Kind: EntryRejected, Index: index, Label: label, From: from, Sig: sig, Detail: why.Error()}})
	if err != nil {
		return errors.Join(why, err)
	}
	return why
}

// checkSigerShape refuses signatures kel could not encode: codes other than
// Ed25519's A, B, 2A, 2B, and indices the code cannot carry.
func checkSigerShape(s kel.Siger) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: malformed signature: %s", ErrBadSignature, fmt.Sprintf(format, a...))
	}
	if len(s.Sig) != ed25519.SignatureSize {
		return bad("%d bytes, ed25519 signatures have %d", len(s.Sig), ed25519.SignatureSize)
	}
	if s.Index < 0 || s.Index > kel.MaxSigIndex {
		return fmt.Errorf("%w: index %d", ErrIndexOutOfRange, s.Index)
	}
	switch s.Code {
	case kel.CodeSigBoth:
		if s.Index > 63 || !s.HasOndex || s.Ondex != s.Index {
			return bad("code A needs index = ondex <= 63")
		}
	case kel.CodeSigCurrent:
		if s.Index > 63 || s.HasOndex {
			return bad("code B needs index <= 63 and no ondex")
		}
	case kel.CodeSigBigBoth:
		if !s.HasOndex || s.Ondex < 0 || s.Ondex > kel.MaxSigIndex {
			return bad("code 2A needs an ondex within 0..%d", kel.MaxSigIndex)
		}
	case kel.CodeSigBigCurrent:
		if s.HasOndex {
			return bad("code 2B carries no ondex")
		}
	default:
		return bad("code %q is not an ed25519 indexed signature", clip(s.Code))
	}
	return nil
}

// verify checks a signature against the key at its index over the exact
// event bytes.
func (c *Ceremony) verify(s kel.Siger) error {
	if err := c.verifyShape(s); err != nil {
		return err
	}
	if !ed25519.Verify(c.pubs[s.Index], c.b.ev.Raw(), s.Sig) {
		return fmt.Errorf("%w: index %d (%s, %s) over %s %s", ErrBadSignature, s.Index,
			c.b.roster.labelAt(s.Index), c.b.keys[s.Index], c.b.ev.Ilk(), c.b.ev.SAID())
	}
	return nil
}

// verifyShape is verify without Ed25519: the index is within the signing
// keys and the signature's code suits it.
func (c *Ceremony) verifyShape(s kel.Siger) error {
	if s.Index < 0 || s.Index >= len(c.b.keys) {
		return fmt.Errorf("%w: index %d, the event has %d signing keys", ErrIndexOutOfRange, s.Index, len(c.b.keys))
	}
	return checkSigerShape(s)
}

// SignLocal signs the ceremony's event with a local member's key and adds
// the signature. It requires a Review of this very event that passed, made
// for the signer's key. The index is the key's position in the signing
// keys; on a rotation a key that fulfils a prior digest signs with A/2A and
// ondex = that digest's position in the prior n, any other key with B, as
// keripy's group members do.
func (c *Ceremony) SignLocal(s Signer, rev *Review) (Intake, error) {
	c.mu.Lock()
	index, ondex, currentOnly, err := c.planSign(s, rev)
	c.mu.Unlock()
	if err != nil {
		return Intake{}, err
	}
	ev := c.b.ev
	raw, err := s.SignEvent(ev.Prefix(), ev.Sn(), ev.SAID(), ev.Raw())
	if err != nil {
		return Intake{}, fmt.Errorf("%w: %s sn %d %s: %w", ErrSignerRefused, ev.Prefix(), ev.Sn(), ev.SAID(), err)
	}
	sig, err := kel.NewSiger(raw, index, ondex, currentOnly)
	if err != nil {
		return Intake{}, fmt.Errorf("%w: the signer returned %w", ErrBadSignature, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.expireLocked(); err != nil {
		return Intake{}, err
	}
	if c.state != StateCollecting {
		return Intake{}, c.notCollecting()
	}
	return c.add(sig, "local")
}

func (c *Ceremony) planSign(s Signer, rev *Review) (index, ondex int, currentOnly bool, err error) {
	if err := c.expireLocked(); err != nil {
		return 0, 0, false, err
	}
	if c.state != StateCollecting {
		return 0, 0, false, c.notCollecting()
	}
	ev := c.b.ev
	switch {
	case rev == nil || !rev.passed:
		return 0, 0, false, fmt.Errorf("%w: no review of %s", ErrReviewRequired, ev.SAID())
	case rev.SAID != ev.SAID() || !c.sameEvent(rev.raw):
		return 0, 0, false, fmt.Errorf("%w: the review is of %s, this ceremony signs %s", ErrReviewRequired, rev.SAID, ev.SAID())
	}
	pub := s.PublicKey()
	if len(pub) != ed25519.PublicKeySize {
		return 0, 0, false, fmt.Errorf("%w: signer public key of %d bytes", ErrNotSigner, len(pub))
	}
	key := kel.EncodeVerKey(pub)
	if rev.Key != key {
		return 0, 0, false, fmt.Errorf("%w: the review was made for key %q, the signer holds %s", ErrReviewRequired, rev.Key, key)
	}
	index = slices.Index(c.b.keys, key)
	if index < 0 {
		return 0, 0, false, fmt.Errorf("%w: %s in %s %s", ErrNotSigner, key, ev.Ilk(), ev.SAID())
	}
	ondex, currentOnly = 0, true
	if c.b.rotation {
		if j := slices.Index(c.b.priorNext, kel.NextDigest(key)); j >= 0 {
			ondex, currentOnly = j, false
		}
	}
	return index, ondex, currentOnly, nil
}
