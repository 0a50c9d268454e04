package ceremony

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keremony/keremony/kel"
)

// fakeSigner is an in-memory Signer: a deterministic Ed25519 key and a
// journal, shared by a member's keys, that refuses a second SAID at an
// aid/sn the same key already signed (as the keystore's journal does).
type fakeSigner struct {
	name    string
	priv    ed25519.PrivateKey
	journal *journal
}

type journal struct {
	mu     sync.Mutex
	signed map[string]string // "aid/sn/key" → said
	count  int
}

var _ Signer = (*fakeSigner)(nil)

var errJournalConflict = errors.New("journal: already signed another event at this aid/sn")

func (f *fakeSigner) PublicKey() ed25519.PublicKey { return f.priv.Public().(ed25519.PublicKey) }

func (f *fakeSigner) SignEvent(aid string, sn uint64, said string, msg []byte) ([]byte, error) {
	f.journal.mu.Lock()
	defer f.journal.mu.Unlock()
	k := fmt.Sprintf("%s/%d/%s", aid, sn, f.Key())
	if prev, ok := f.journal.signed[k]; ok && prev != said {
		return nil, fmt.Errorf("%w: %s is %s, asked for %s", errJournalConflict, k, prev, said)
	}
	if ev, err := kel.ParseEvent(msg); err != nil || ev.SAID() != said {
		return nil, fmt.Errorf("journal: msg is not event %s", said)
	}
	f.journal.signed[k] = said
	f.journal.count++
	return ed25519.Sign(f.priv, msg), nil
}

// Key is the signer's qb64 key.
func (f *fakeSigner) Key() string { return kel.EncodeVerKey(f.PublicKey()) }

// Dig is the next digest committing to the key.
func (f *fakeSigner) Dig() string { return kel.NextDigest(f.Key()) }

// member is a co-signer with pre-generated keys: keys[0] at inception,
// keys[1] the first next key, and so on.
type member struct {
	name    string
	keys    []*fakeSigner
	journal *journal
}

func newMember(name string, n int) *member {
	m := &member{name: name, journal: &journal{signed: map[string]string{}}}
	for i := 0; i < n; i++ {
		m.keys = append(m.keys, &fakeSigner{name: fmt.Sprintf("%s#%d", name, i), priv: testKey(name, i), journal: m.journal})
	}
	return m
}

// testKey is key i of the test member name (the same in every test).
func testKey(name string, i int) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(fmt.Sprintf("ceremony-test/%s#%d", name, i)))
	return ed25519.NewKeyFromSeed(seed[:])
}

// card is the member's inception card with keys[i] current, signed.
func (m *member) card(i int) Card {
	c := Card{Label: m.name, Key: m.keys[i].Key(), Next: m.keys[i+1].Dig()}
	c.Sig = kel.EncodeSignature(ed25519.Sign(m.keys[i].priv, c.SigningBytes()))
	return c
}

// signedParts signs the contributions of a rotation as their members do:
// one revealing or adding key i of member L is signed by L's key i-1 (the
// key it held, or i for a key of a member joining now), a member joining
// through the next commitment carries its card's signature by its key 0; a
// reserve or a drop is left unsigned. Members are found by label among the
// test keys (their keys are the same in every test), up to 8 keys each.
func signedParts(p RotationParams) RotationParams {
	p.Members = slices.Clone(p.Members)
	for j, c := range p.Members {
		keyOf := func(k string) (ed25519.PrivateKey, int) {
			for i := range 8 {
				if priv := testKey(c.Label, i); kel.EncodeVerKey(priv.Public().(ed25519.PublicKey)) == k {
					return priv, i
				}
			}
			return nil, -1
		}
		switch c.Role {
		case RoleRotate, RoleFresh:
			_, i := keyOf(c.Key)
			if i < 0 {
				continue
			}
			signer := testKey(c.Label, max(i-1, 0))
			if c.Role == RoleFresh {
				signer = testKey(c.Label, i)
			}
			c.Signer = kel.EncodeVerKey(signer.Public().(ed25519.PublicKey))
			c.Sig = kel.EncodeSignature(ed25519.Sign(signer, c.SigningBytes(p.Prefix)))
		case RoleNextOnly:
			signer := testKey(c.Label, 0)
			c.Signer = kel.EncodeVerKey(signer.Public().(ed25519.PublicKey))
			card := Card{Label: c.Label, Key: c.Signer, Next: c.Next}
			c.Sig = kel.EncodeSignature(ed25519.Sign(signer, card.SigningBytes()))
		}
		p.Members[j] = c
	}
	return p
}

// rotate is the member's contribution revealing keys[i].
func (m *member) rotate(i int) Contribution {
	return Contribution{Label: m.name, Role: RoleRotate, Key: m.keys[i].Key(), Next: m.keys[i+1].Dig()}
}

// reviewer describes the member holding keys[i] as current.
func (m *member) reviewer(i int) Reviewer {
	return Reviewer{Key: m.keys[i].Key(), Next: m.keys[i+1].Dig()}
}

// clock is a settable fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// device is one simulated device: its own store in its own directory and
// the member whose keys it holds.
type device struct {
	t     testing.TB
	name  string
	dir   string
	store *Store
	m     *member
	clock *clock
}

func newDevice(t testing.TB, m *member, clk *clock) *device {
	t.Helper()
	d := &device{t: t, name: m.name, dir: t.TempDir(), m: m, clock: clk}
	d.open()
	t.Cleanup(func() { d.store.Close() })
	return d
}

func (d *device) open() {
	d.t.Helper()
	s, err := OpenStore(d.dir, StoreOptions{Clock: d.clock.Now})
	if err != nil {
		d.t.Fatalf("%s: open store: %v", d.name, err)
	}
	d.store = s
}

// reopen closes and reopens the device's store (a restart).
func (d *device) reopen() {
	d.t.Helper()
	if err := d.store.Close(); err != nil {
		d.t.Fatal(err)
	}
	d.open()
}

// propose records and opens a ceremony on the proposer's device and returns
// it with the proposal bytes to send out.
func (d *device) propose(p Proposal) (*Ceremony, []byte) {
	d.t.Helper()
	c, err := d.store.Create(p, time.Time{})
	if err != nil {
		d.t.Fatalf("%s: create: %v", d.name, err)
	}
	if err := c.Open(); err != nil {
		d.t.Fatal(err)
	}
	b, err := c.Proposal().Marshal()
	if err != nil {
		d.t.Fatal(err)
	}
	return c, b
}

// join receives proposal bytes, reviews them as the holder of keys[i] and
// opens the ceremony locally.
func (d *device) join(proposal []byte, i int) (*Ceremony, *Review) {
	d.t.Helper()
	p, err := ParseProposal(proposal)
	if err != nil {
		d.t.Fatalf("%s: parse proposal: %v", d.name, err)
	}
	rev, err := d.store.Review(p, d.m.reviewer(i))
	if err != nil {
		d.t.Fatalf("%s: review: %v", d.name, err)
	}
	c, err := d.store.Create(p, time.Time{})
	if err != nil {
		d.t.Fatalf("%s: create: %v", d.name, err)
	}
	if err := c.Open(); err != nil {
		d.t.Fatal(err)
	}
	return c, rev
}

// review reviews the device's own ceremony as the holder of keys[i].
func (d *device) review(c *Ceremony, i int) *Review {
	d.t.Helper()
	rev, err := d.store.Review(c.Proposal(), d.m.reviewer(i))
	if err != nil {
		d.t.Fatalf("%s: review: %v", d.name, err)
	}
	return rev
}

// delivery is what a signature packet tells the receiving ceremony.
type delivery struct{ ceremony, said, sig, from string }

// sign signs locally with keys[i] and returns what to send.
func (d *device) sign(c *Ceremony, rev *Review, i int) delivery {
	d.t.Helper()
	in, err := c.SignLocal(d.m.keys[i], rev)
	if err != nil {
		d.t.Fatalf("%s: sign: %v", d.name, err)
	}
	return delivery{c.ID(), c.SAID(), in.Sig.Qb64(), d.name}
}

// deliver hands a signature to the device's ceremony it names.
func (d *device) deliver(env delivery) Intake {
	d.t.Helper()
	in, err := d.receive(env)
	if err != nil {
		d.t.Fatalf("%s: deliver: %v", d.name, err)
	}
	return in
}

// receive routes a signature to the device's ceremony it names.
func (d *device) receive(env delivery) (Intake, error) {
	c, err := d.store.Ceremony(env.ceremony)
	if err != nil {
		return Intake{}, fmt.Errorf("%w: %w", ErrWrongCeremony, err)
	}
	return c.Receive(env.ceremony, env.said, env.sig, env.from)
}

// importFinal imports a finalized message and checks it closed the local
// ceremony, if any.
func (d *device) importFinal(cesr []byte, c *Ceremony) {
	d.t.Helper()
	if _, err := d.store.ImportFinalized(cesr); err != nil {
		d.t.Fatalf("%s: import: %v", d.name, err)
	}
	if c != nil && c.State() != StateFinalized {
		d.t.Fatalf("%s: ceremony %s is %s after import", d.name, c.ID(), c.State())
	}
}

func mustFinalize(t testing.TB, c *Ceremony) []byte {
	t.Helper()
	out, err := c.Finalize()
	if err != nil {
		t.Fatalf("finalize: %v\n%s", err, strings.Join(c.Progress().Summary(), "\n"))
	}
	return out
}

func mustWeighted(t *testing.T, ws ...string) kel.Threshold {
	t.Helper()
	th, err := kel.WeightedThreshold([][]string{ws})
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// wantKeyState checks a device's key state of prefix.
func wantKeyState(t *testing.T, d *device, prefix string, sn uint64, keys, next []string) kel.KeyState {
	t.Helper()
	st, ok := d.store.State(prefix)
	if !ok {
		t.Fatalf("%s: no state for %s", d.name, prefix)
	}
	if st.Sn != sn || !slices.Equal(st.Keys, keys) || !slices.Equal(st.Next, next) {
		t.Fatalf("%s: state sn %d keys %v next %v, want sn %d keys %v next %v", d.name, st.Sn, st.Keys, st.Next, sn, keys, next)
	}
	return st
}

func keysOf(ss ...*fakeSigner) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Key())
	}
	return out
}

func digsOf(ss ...*fakeSigner) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Dig())
	}
	return out
}

// snapshot is what must never change when a signature is refused.
type snapshot struct {
	state State
	sigs  []string
	final string
}

func snap(c *Ceremony) snapshot {
	s := snapshot{state: c.State(), final: string(c.Finalized())}
	for _, g := range c.Signatures() {
		s.sigs = append(s.sigs, g.Qb64())
	}
	return s
}

func sameSnap(a, b snapshot) bool {
	return a.state == b.state && slices.Equal(a.sigs, b.sigs) && a.final == b.final
}

func slot(t *testing.T, p Progress, label string) Slot {
	t.Helper()
	for _, s := range p.Slots {
		if s.Label == label {
			return s
		}
	}
	t.Fatalf("no slot %s in %+v", label, p.Slots)
	return Slot{}
}
