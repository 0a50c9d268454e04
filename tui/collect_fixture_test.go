package tui

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
)

// Real ceremonies for the screens' tests: members with deterministic
// Ed25519 keys, in-memory ceremonies (ceremony.New) over an in-memory KEL
// copy, signed with SignLocal after a real review. The tests' expectations
// come from how a fixture is built (who signed, which threshold), never
// from the screens.

// fxKey is one deterministic key; it signs anything (no journal).
type fxKey struct{ priv ed25519.PrivateKey }

func (k fxKey) PublicKey() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }
func (k fxKey) SignEvent(_ string, _ uint64, _ string, msg []byte) ([]byte, error) {
	return ed25519.Sign(k.priv, msg), nil
}
func (k fxKey) key() string { return kel.EncodeVerKey(k.PublicKey()) }
func (k fxKey) dig() string { return kel.NextDigest(k.key()) }

// fxMember is a member with keys[0] current at inception, keys[1] its
// first next key, and so on.
type fxMember struct {
	label string
	keys  []fxKey
}

func newFxMember(label string) *fxMember {
	m := &fxMember{label: label}
	for i := range 3 {
		seed := sha256.Sum256(fmt.Appendf(nil, "tui-test/%s#%d", label, i))
		m.keys = append(m.keys, fxKey{ed25519.NewKeyFromSeed(seed[:])})
	}
	return m
}

// card is the member's card, signed as its holder signs it.
func (m *fxMember) card() ceremony.Card {
	c := ceremony.Card{Label: m.label, Key: m.keys[0].key(), Next: m.keys[1].dig()}
	c.Sig = kel.EncodeSignature(ed25519.Sign(m.keys[0].priv, c.SigningBytes()))
	return c
}

// fxSigned signs the parts of a rotation of prefix as their members do
// (the members' keys follow from their labels): a revealed key's part by
// the member's current key, a fresh key's by itself, a joining member's
// by its card.
func fxSigned(prefix string, parts []ceremony.Contribution) []ceremony.Contribution {
	out := make([]ceremony.Contribution, len(parts))
	for i, c := range parts {
		m := newFxMember(c.Label)
		switch c.Role {
		case ceremony.RoleRotate:
			c.Signer = m.keys[0].key()
			c.Sig = kel.EncodeSignature(ed25519.Sign(m.keys[0].priv, c.SigningBytes(prefix)))
		case ceremony.RoleFresh:
			for _, k := range m.keys {
				if k.key() == c.Key {
					c.Signer = k.key()
					c.Sig = kel.EncodeSignature(ed25519.Sign(k.priv, c.SigningBytes(prefix)))
				}
			}
		case ceremony.RoleNextOnly:
			card := ceremony.Card{Label: c.Label, Key: m.keys[0].key(), Next: c.Next}
			c.Signer, c.Sig = card.Key, kel.EncodeSignature(ed25519.Sign(m.keys[0].priv, card.SigningBytes()))
		}
		out[i] = c
	}
	return out
}

func (m *fxMember) reviewer(i int) ceremony.Reviewer {
	return ceremony.Reviewer{Key: m.keys[i].key(), Next: m.keys[i+1].dig()}
}

func fxMembers(labels ...string) []*fxMember {
	out := make([]*fxMember, len(labels))
	for i, l := range labels {
		out[i] = newFxMember(l)
	}
	return out
}

// fx is one open ceremony with its members and KEL copy.
type fx struct {
	t       testing.TB
	v       *kel.Verifier
	c       *ceremony.Ceremony
	members []*fxMember
	keyIdx  int // which of each member's keys signs (0 inception, 1 rotation)
	prior   int // rotations: the number of prior next digests
	group   string
}

func fxClock() time.Time { return fixedNow }

// fxIncept opens an inception ceremony of members with kt and nt.
func fxIncept(t testing.TB, members []*fxMember, kt, nt kel.Threshold) *fx {
	t.Helper()
	return fxInceptWith(t, members, ceremony.InceptionParams{Kt: kt, Nt: nt})
}

// fxInceptWith opens an inception ceremony of members with params.
func fxInceptWith(t testing.TB, members []*fxMember, params ceremony.InceptionParams) *fx {
	t.Helper()
	cards := make([]ceremony.Card, len(members))
	for i, m := range members {
		cards[i] = m.card()
	}
	params.Members = cards
	p, err := ceremony.ProposeInception(params)
	if err != nil {
		t.Fatal(err)
	}
	f := &fx{t: t, v: kel.NewVerifier(), members: members, group: "acme"}
	f.open(p)
	return f
}

func (f *fx) open(p ceremony.Proposal) {
	f.t.Helper()
	// A deterministic id, for golden files.
	sum := sha256.Sum256(p.Event)
	p.ID = "c" + hex.EncodeToString(sum[:12])
	c, err := ceremony.New(p, f.v, ceremony.Options{Clock: fxClock})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := c.Open(); err != nil {
		f.t.Fatal(err)
	}
	f.c = c
}

func (f *fx) member(label string) *fxMember {
	for _, m := range f.members {
		if m.label == label {
			return m
		}
	}
	f.t.Fatalf("no member %s", label)
	return nil
}

// review is member label's real review of the ceremony's proposal.
func (f *fx) review(label string) *ceremony.Review {
	f.t.Helper()
	me := f.member(label).reviewer(f.keyIdx)
	// The device's address book names the keys it has seen.
	me.Labels = map[string]string{}
	for _, m := range f.members {
		for _, k := range m.keys {
			me.Labels[k.key()] = m.label
		}
	}
	rev, err := ceremony.ReviewProposal(f.c.Proposal(), f.v, me)
	if err != nil {
		f.t.Fatalf("review as %s: %v", label, err)
	}
	return rev
}

// sign signs as each member named.
func (f *fx) sign(labels ...string) *fx {
	f.t.Helper()
	for _, l := range labels {
		if _, err := f.c.SignLocal(f.member(l).keys[f.keyIdx], f.review(l)); err != nil {
			f.t.Fatalf("sign as %s: %v", l, err)
		}
	}
	return f
}

// rotate finalizes the (met) inception and opens a rotation with parts.
func (f *fx) rotate(parts []ceremony.Contribution, kt, nt kel.Threshold) *fx {
	f.t.Helper()
	if _, err := f.c.Finalize(); err != nil {
		f.t.Fatal(err)
	}
	prefix := f.c.Event().Prefix()
	st, ok := f.v.State(prefix)
	if !ok {
		f.t.Fatal("no key state after the inception")
	}
	p, err := ceremony.ProposeRotation(st, ceremony.RotationParams{Prefix: prefix, Members: fxSigned(prefix, parts), Kt: kt, Nt: nt})
	if err != nil {
		f.t.Fatal(err)
	}
	f.open(p)
	f.keyIdx, f.prior = 1, len(st.Next)
	return f
}

// anchor finalizes the (met) inception and opens an anchoring of seals.
func (f *fx) anchor(seals ...kel.Seal) *fx {
	f.t.Helper()
	if _, err := f.c.Finalize(); err != nil {
		f.t.Fatal(err)
	}
	prefix := f.c.Event().Prefix()
	st, _ := f.v.State(prefix)
	cards := make([]ceremony.Card, len(f.members))
	for i, m := range f.members {
		cards[i] = m.card()
	}
	p, err := ceremony.ProposeAnchoring(st, ceremony.AnchoringParams{Prefix: prefix, Seals: seals, Members: cards})
	if err != nil {
		f.t.Fatal(err)
	}
	f.open(p)
	return f
}

func (m *fxMember) rotateTo() ceremony.Contribution {
	return ceremony.Contribution{Label: m.label, Role: ceremony.RoleRotate, Key: m.keys[1].key(), Next: m.keys[2].dig()}
}

func (m *fxMember) reserve() ceremony.Contribution {
	return ceremony.Contribution{Label: m.label, Role: ceremony.RoleReserve, Prior: m.keys[1].dig()}
}

// info describes the ceremony as a backend would.
func (f *fx) info() CeremonyInfo {
	c := f.c
	ev := c.Event()
	r := c.Roster()
	ci := CeremonyInfo{
		ID: c.ID(), ProposalID: c.Proposal().ID, Kind: c.Kind(), Group: f.group, Prefix: ev.Prefix(),
		Ilk: ev.Ilk(), Sn: ev.Sn(), SAID: c.SAID(), State: c.State(), Reason: c.AbortReason(),
		Created: c.Created(), Deadline: c.Deadline(), Progress: c.Progress(), Roster: r,
		KeyLabels: r.KeyLabels(len(c.SigningKeys())), Transcript: c.Transcript(),
	}
	if f.prior > 0 {
		ci.PriorLabels = make([]string, f.prior)
		for _, m := range r {
			if m.Ondex >= 0 && m.Ondex < f.prior {
				ci.PriorLabels[m.Ondex] = m.Label
			}
		}
	}
	return ci
}

// snapshot is a snapshot holding the ceremony.
func (f *fx) snapshot(canSign, signed bool) Snapshot {
	ci := f.info()
	ci.CanSign, ci.Signed = canSign, signed
	return Snapshot{Home: "/home/test/.keremony", Ceremonies: []CeremonyInfo{ci}}
}

// reviewInfo is member label's review as the backend reports it: the
// roster's keys from the proposal's cards (an inception) or the group's
// KEL, label's own from this device.
func (f *fx) reviewInfo(label string) ReviewInfo {
	rev := f.review(label)
	ri := ReviewInfo{
		ProposalID: f.c.Proposal().ID, CeremonyID: f.c.ID(), From: f.members[0].label, Group: f.group,
		Event: f.c.Event(), Review: rev, Member: label, CanSign: rev.Passed() && rev.Index >= 0,
	}
	for _, m := range rev.Roster {
		l := api.RosterLine{Label: m.Label, Role: m.Role, Index: m.Index, Key: m.Key, You: m.Label == label}
		if l.Key == "" {
			l.Key, l.Digest = m.Next, true
		}
		switch {
		case l.You:
			l.Source = "this device"
		case rev.Kind == ceremony.KindInception:
			l.Source = "the proposal's card"
		default:
			l.Source = "the group's KEL"
		}
		ri.Roster = append(ri.Roster, l)
	}
	for _, s := range rev.Seals {
		if !s.Known && s.Seal.Kind == kel.SealDigest {
			text := "unchecked: the digest seal " + s.Seal.D + " matches no document you opened"
			if s.Proposer != "" {
				text += " (the proposer says: " + s.Proposer + ")"
			}
			ri.Critical = append(ri.Critical, text)
		}
	}
	if !rev.NextCommitted {
		ri.Critical = append(ri.Critical, rev.NextText)
	}
	return ri
}

func fxWeighted(t testing.TB, clauses ...[]string) kel.Threshold {
	t.Helper()
	th, err := kel.WeightedThreshold(clauses)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func fxRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
