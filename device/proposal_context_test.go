package device

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"encoding/binary"
	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/internal/benchkel"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
	bolt "go.etcd.io/bbolt"
	"path/filepath"
)

// anchoringPacket is the proposal packet of an anchoring of the 3-of-5
// group k (its whole KEL in v), with a label for each member, as a
// proposer's device builds it.
func anchoringPacket(t testing.TB, v *kel.Verifier, k *benchkel.KEL) []byte {
	t.Helper()
	st, _ := v.State(k.Prefix)
	var cards []ceremony.Card
	for i, key := range st.Keys {
		cards = append(cards, ceremony.Card{Label: fmt.Sprintf("member%d", i), Key: key, Next: st.Next[i]})
	}
	p, err := ceremony.ProposeAnchoring(st, ceremony.AnchoringParams{Prefix: k.Prefix, Seals: []kel.Seal{kel.DigestSeal([]byte("contract"))}, Members: cards})
	if err != nil {
		t.Fatal(err)
	}
	p.ID = "c0123456789abcdef0123456789abcdef"
	// Signed as a proposer signs it (the key's authority is the receiver's
	// to check, not this test's).
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pr := ceremony.Proposer{Group: "bench", Label: "member0", Key: kel.EncodeVerKey(priv.Public().(ed25519.PublicKey))}
	if err := p.Sign(pr, func(m []byte) ([]byte, error) { return ed25519.Sign(priv, m), nil }); err != nil {
		t.Fatal(err)
	}
	ev, err := kel.ParseEvent(p.Event)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := transport.NewProposal(p, contextFor(v, ceremony.KindAnchoring, ev))
	if err != nil {
		t.Fatal(err)
	}
	return pk.Marshal()
}

// TestProposalSizeAgainstHistory: an anchoring proposal of a 3-of-5 group
// is as large after 1,000 events as after 10: it carries the group's last
// establishment event and the event it chains to, never its history.
func TestProposalSizeAgainstHistory(t *testing.T) {
	const limit = 4 << 10
	sizes := map[int]int{}
	for _, n := range []int{10, 60, 1000} {
		k, err := benchkel.Build(n)
		if err != nil {
			t.Fatal(err)
		}
		v := kel.NewVerifier()
		if _, err := v.AcceptStream(k.Stream); err != nil {
			t.Fatal(err)
		}
		sizes[n] = len(anchoringPacket(t, v, k))
		t.Logf("anchoring proposal after %d events: %d bytes", n, sizes[n])
		if sizes[n] > limit {
			t.Errorf("after %d events the proposal is %d bytes, want at most %d", n, sizes[n], limit)
		}
	}
	// The context is two events whatever the length (their sizes differ
	// by a few digits of the sequence numbers).
	if d := sizes[1000] - sizes[10]; d < -64 || d > 64 {
		t.Errorf("proposal grows with history: %d bytes after 10 events, %d after 1000", sizes[10], sizes[1000])
	}
}

// homeWith opens a device whose KELs are the first n events of k.
func homeWith(t *testing.T, k *benchkel.KEL, n int) *Device {
	t.Helper()
	d, err := Open(Options{Home: t.TempDir(), Keystore: "file", KDF: testKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if n > 0 {
		var stream []byte
		for _, m := range k.Messages[:n] {
			stream = append(stream, m...)
		}
		if _, err := d.ImportStream(mustStream(t, stream), "acme"); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// TestBehindProposal: a device whose copy of the group's KEL ends before
// the event a proposal chains to is told exactly which sequence numbers it
// lacks and which bundle brings them; once it imported that bundle (from a
// device that holds them, kel export --since) the context replays.
func TestBehindProposal(t *testing.T) {
	k, err := benchkel.Build(61)
	if err != nil {
		t.Fatal(err)
	}
	proposer := homeWith(t, k, 60)
	v, err := proposer.store.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	st, _ := v.State(k.Prefix)
	ev, err := kel.Interact(kel.InteractionOptions{Prefix: k.Prefix, Sn: 60, Prior: st.Last, Seals: []kel.Seal{kel.DigestSeal([]byte("x"))}})
	if err != nil {
		t.Fatal(err)
	}
	context, err := kel.ParseStream(contextFor(v, ceremony.KindAnchoring, ev))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		holds int
		want  []string // in the refusal; none: the context replays
	}{
		{"up to date", 60, nil},
		{"one event behind", 59, nil}, // the context brings the event it chains to
		{"behind", 42, []string{"this device holds sn 0 to 41 of acme", "the proposal needs sn 42 to 59", "kel export " + k.Prefix + " --since 42"}},
		{"no event", 0, []string{"this device holds no event of " + k.Prefix, "the proposal needs sn 0 to 59", "--since 0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := homeWith(t, k, c.holds)
			_, _, err := d.contextVerifier(ev, context)
			if c.want == nil {
				if err != nil {
					t.Fatalf("context refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrBehind) {
				t.Fatalf("err = %v, want ErrBehind", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("refusal %q does not say %q", err, w)
				}
			}
			bundle, err := proposer.ExportSince(uint64(c.holds), k.Prefix)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.ImportStream(mustStream(t, bundle), "acme"); err != nil {
				t.Fatalf("catch-up bundle: %v", err)
			}
			if _, _, err := d.contextVerifier(ev, context); err != nil {
				t.Fatalf("after the catch-up: %v", err)
			}
		})
	}
	if _, err := proposer.ExportSince(60, k.Prefix); !errors.Is(err, ErrSinceBeyond) {
		t.Errorf("--since past the last event: err = %v, want ErrSinceBeyond", err)
	}
}

// acmeAndSolo is a closed home holding the 12-event bench KEL (acme),
// imported, then a finalized 1-of-1 group of its member alice (solo).
func acmeAndSolo(t *testing.T) (home string, k *benchkel.KEL, solo string) {
	t.Helper()
	k, err := benchkel.Build(12)
	if err != nil {
		t.Fatal(err)
	}
	home = t.TempDir()
	d := reopenHome(t, home)
	if _, err := d.ImportStream(mustStream(t, k.Stream), "acme"); err != nil {
		t.Fatal(err)
	}
	_, solo = soloWitnessed(t, d, 0)
	d.Close()
	return home, k, solo
}

// reopenHome opens home (closed at the end of the test).
func reopenHome(t *testing.T, home string) *Device {
	t.Helper()
	pass := func(bool) ([]byte, error) { return []byte("test passphrase"), nil }
	d, err := Open(Options{Home: home, Keystore: "file", KDF: testKDF, Passphrase: pass})
	if err != nil {
		t.Fatalf("open %s: %v", home, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// The home lists groups in the order it first saw them, although opening
// restores the KEL of a group with ceremonies (solo) before the others.
func TestSnapshotGroupsFirstSeen(t *testing.T) {
	home, k, solo := acmeAndSolo(t)
	d := reopenHome(t, home)
	snap, err := d.Backend().Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range snap.Groups {
		got = append(got, g.Prefix)
	}
	if want := []string{k.Prefix, solo}; !slices.Equal(got, want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
}

// A group whose stored KEL no longer restores (a damaged entry) is shown
// as such; the home and its other groups stay usable.
func TestSnapshotUnreadableGroup(t *testing.T) {
	home, k, solo := acmeAndSolo(t)
	db, err := bolt.Open(filepath.Join(home, ceremony.DBFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { // a signature character of acme's sn 4
		b, key := tx.Bucket([]byte("kel")), binary.BigEndian.AppendUint64(nil, 5)
		v := slices.Clone(b.Get(key))
		i := len(v) - 20
		v[i] ^= 'A' ^ 'B'
		return b.Put(key, v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	d := reopenHome(t, home)
	snap, err := d.Backend().Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	acme, _ := snap.Group(k.Prefix)
	if !strings.Contains(acme.Unreadable, "does not replay") || acme.State.Sn != 11 {
		t.Errorf("acme: unreadable %q, sn %d", acme.Unreadable, acme.State.Sn)
	}
	if g, _ := snap.Group(solo); g.Unreadable != "" || len(snap.Members) != 1 {
		t.Errorf("solo: unreadable %q; %d members", g.Unreadable, len(snap.Members))
	}
	if _, err := d.Export("acme"); !errors.Is(err, ceremony.ErrCorruptStore) {
		t.Errorf("export of acme: %v", err)
	}
	if _, err := d.Export("solo"); err != nil {
		t.Errorf("export of solo: %v", err)
	}
	if _, err := d.Publish(context.Background(), Publish{Group: "acme", Sn: ptr(uint64(4))}); !errors.Is(err, ceremony.ErrCorruptStore) {
		t.Errorf("publish of acme: %v", err)
	}
}
