package ceremony

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/keremony/keremony/kel"
)

// testWitness is a witness key: its prefix and its receipts.
type testWitness struct {
	prefix string
	priv   ed25519.PrivateKey
}

func newTestWitness(name string) testWitness {
	seed := sha256.Sum256([]byte("ceremony-test-witness/" + name))
	priv := ed25519.NewKeyFromSeed(seed[:])
	return testWitness{prefix: kel.Matter{Code: kel.CodeEd25519N, Raw: priv.Public().(ed25519.PublicKey)}.Qb64(), priv: priv}
}

func (w testWitness) receipt(ev *kel.Event) kel.Couple {
	return kel.Couple{Prefix: w.prefix, Sig: ed25519.Sign(w.priv, ev.Raw())}
}

// witnessedSolo finalizes a 1-of-1 inception witnessed by wan and wil
// (toad 2) on a device.
func witnessedSolo(t *testing.T) (*device, *kel.Event, testWitness, testWitness) {
	t.Helper()
	wan, wil := newTestWitness("wan"), newTestWitness("wil")
	solo := newMember("solo", 3)
	d := newDevice(t, solo, newClock())
	p, err := ProposeInception(InceptionParams{Members: []Card{solo.card(0)}, Kt: one(), Nt: one(), Witnesses: []string{wan.prefix, wil.prefix}, Bt: 2})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := d.propose(p)
	d.sign(c, d.review(c, 0), 0)
	mustFinalize(t, c)
	return d, c.Event(), wan, wil
}

func TestStoreReceipts(t *testing.T) {
	d, ev, wan, wil := witnessedSolo(t)
	pre := ev.Prefix()
	d.reopen()
	if !d.store.MayBeWitnessed(pre) {
		t.Fatal("a witnessed inception's group is not flagged witnessed")
	}
	if got := mustReceipts(t, d.store, pre, 0); len(got) != 0 {
		t.Fatalf("receipts before any: %v", got)
	}
	// wil's first, then wan's: they are listed in witness order.
	for _, w := range []testWitness{wil, wan} {
		added, err := d.store.AddReceipt(pre, 0, ev.SAID(), w.receipt(ev))
		if err != nil || !added {
			t.Fatalf("receipt of %s: %v %v", w.prefix, added, err)
		}
	}
	if added, err := d.store.AddReceipt(pre, 0, ev.SAID(), wan.receipt(ev)); added || err != nil {
		t.Fatalf("the same receipt again: %v %v", added, err)
	}
	got := mustReceipts(t, d.store, pre, 0)
	if len(got) != 2 || got[0].Prefix != wan.prefix || got[1].Prefix != wil.prefix {
		t.Fatalf("receipts %v", got)
	}
	// The export carries them as witness signatures that a verifier
	// counts.
	rep := kel.Replay(mustExport(t, d.store, pre))
	if !rep.OK() || rep.Results[0].Witnessed != 2 || !rep.Results[0].FullyWitnessed() {
		t.Fatalf("export: %+v", rep.Results)
	}
	// They survive a restart, verified again.
	d.reopen()
	if got := mustReceipts(t, d.store, pre, 0); len(got) != 2 {
		t.Fatalf("after reopen: %v", got)
	}
}

func TestStoreReceiptRefusals(t *testing.T) {
	d, ev, wan, _ := witnessedSolo(t)
	pre := ev.Prefix()
	stranger := newTestWitness("stranger")
	bad := wan.receipt(ev)
	bad.Sig[0] ^= 1
	cases := []struct {
		name string
		sn   uint64
		said string
		c    kel.Couple
		err  error
	}{
		{"not a witness", 0, ev.SAID(), stranger.receipt(ev), kel.ErrNotWitness},
		{"bad signature", 0, ev.SAID(), bad, kel.ErrBadSignature},
		{"another event", 0, "EPd4Q4Z3DnZl0beCwE-X63He-YyDEFsQ4jbCBzzxZvdL", wan.receipt(ev), kel.ErrReceipt},
		{"an event not held", 1, ev.SAID(), wan.receipt(ev), kel.ErrReceipt},
	}
	for _, c := range cases {
		added, err := d.store.AddReceipt(pre, c.sn, c.said, c.c)
		if added || !errors.Is(err, ErrRejected) || !errors.Is(err, c.err) {
			t.Errorf("%s: %v %v", c.name, added, err)
		}
	}
	if got := mustReceipts(t, d.store, pre, 0); len(got) != 0 {
		t.Fatalf("a refused receipt was kept: %v", got)
	}
}

// Witness signatures that come with an imported KEL are kept as receipts,
// for events new to the store and for those it held already.
func TestStoreKeepsWitnessSigs(t *testing.T) {
	d, ev, wan, wil := witnessedSolo(t)
	pre := ev.Prefix()
	msgs, err := kel.ParseStream(mustExport(t, d.store, pre))
	if err != nil {
		t.Fatal(err)
	}
	var wigs []kel.Siger
	for i, w := range []testWitness{wan, wil} {
		s, _ := kel.NewSiger(w.receipt(ev).Sig, i, i, false)
		wigs = append(wigs, s)
	}
	in := []kel.Message{msgs[0].WithWigs(wigs)}
	res, err := d.store.ImportMessages(in)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := d.store.KeepWitnessSigs(in, res); n != 2 || err != nil {
		t.Fatalf("kept %d: %v", n, err)
	}
	// A witness signature that does not verify makes the import refuse
	// the message, and nothing is kept.
	bad := wigs[0]
	bad.Sig = append([]byte(nil), bad.Sig...)
	bad.Sig[3] ^= 1
	other := newDevice(t, newMember("other", 2), newClock())
	hostile := []kel.Message{msgs[0].WithWigs([]kel.Siger{bad})}
	res, _ = other.store.ImportMessages(hostile)
	if res[0].OK() {
		t.Fatal("a message with a bad witness signature was accepted")
	}
	if n, err := other.store.KeepWitnessSigs(hostile, res); n != 0 || err != nil {
		t.Fatalf("kept %d: %v", n, err)
	}
}

// A stored receipt whose signature was changed makes the store refuse to
// open, as any other stored record.
func TestStoreReceiptTampering(t *testing.T) {
	d, ev, wan, _ := witnessedSolo(t)
	if _, err := d.store.AddReceipt(ev.Prefix(), 0, ev.SAID(), wan.receipt(ev)); err != nil {
		t.Fatal(err)
	}
	_, err := editStore(t, d, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReceipts)
		k, _ := b.Cursor().First()
		other := newTestWitness("other").receipt(ev)
		return b.Put(k, []byte(`{"d":"`+ev.SAID()+`","sig":"`+kel.EncodeSignature(other.Sig)+`"}`))
	})
	if !errors.Is(err, ErrCorruptStore) || !errors.Is(err, kel.ErrBadSignature) {
		t.Fatalf("open: %v", err)
	}
}

func TestWitnessWords(t *testing.T) {
	wan, wil := newTestWitness("wan"), newTestWitness("wil")
	book := map[string]string{wan.prefix: "wan"}
	if got, want := DescribeWitnesses([]string{wan.prefix, wil.prefix}, 2, book),
		"wan ("+wan.prefix[:12]+"…), "+wil.prefix+": 2 of 2 must receipt every event (toad 2)"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := DescribeWitnesses(nil, 0, book); got != "none: no witness receipts the group's events" {
		t.Errorf("no witnesses: %q", got)
	}
	a := newMember("alice", 3)
	_, st := memGroup(t, one(), one(), nil, a)
	st.Witnesses, st.Bt = []string{wan.prefix, wil.prefix}, 2
	rot, _, err := BuildRotation(st, RotationParams{Prefix: st.Prefix, Members: []Contribution{a.rotate(1)}, Kt: one(), Nt: one(), Bt: 1, Cuts: []string{wil.prefix}})
	if err != nil {
		t.Fatal(err)
	}
	got := describeWitnessChange(st, rot, []string{wan.prefix}, map[string]string{wan.prefix: "wan", wil.prefix: "wil"})
	if want := "witnesses change: cuts wil (" + wil.prefix[:12] + "…), toad 2 → 1; then 1 of 1 must receipt every event"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := describeWitnessChange(st, mustRot(t, st, a, 2), st.Witnesses, nil); got != "" {
		t.Errorf("unchanged: %q", got)
	}
}

func mustRot(t *testing.T, st kel.KeyState, a *member, bt uint64) *kel.Event {
	t.Helper()
	ev, _, err := BuildRotation(st, RotationParams{Prefix: st.Prefix, Members: []Contribution{a.rotate(1)}, Kt: one(), Nt: one(), Bt: bt})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// The receipts digest: without it (or when it does not match) an open
// verifies every receipt and writes it; a receipt of an event the KEL no
// longer holds at its sequence number is left aside, not refused.
func TestStoreReceiptsDigest(t *testing.T) {
	d, ev, wan, wil := witnessedSolo(t)
	for _, w := range []testWitness{wan, wil} {
		if _, err := d.store.AddReceipt(ev.Prefix(), 0, ev.SAID(), w.receipt(ev)); err != nil {
			t.Fatal(err)
		}
	}
	digest := func() []byte {
		var got []byte
		d.store.db.View(func(tx *bolt.Tx) error {
			got = append(got, tx.Bucket(bucketMeta).Get(keyReceiptsDigest)...)
			return nil
		})
		return got
	}
	want := digest()
	if len(want) != 32 {
		t.Fatalf("digest %x", want)
	}
	if _, err := editStore(t, d, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyReceiptsDigest) }); err != nil {
		t.Fatal(err)
	}
	if got := digest(); string(got) != string(want) || len(mustReceipts(t, d.store, ev.Prefix(), 0)) != 2 {
		t.Fatalf("after an open without the digest: %x, %d receipts", got, len(mustReceipts(t, d.store, ev.Prefix(), 0)))
	}
	// A receipt naming another event at sn 0 (as after a recovery).
	_, err := editStore(t, d, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReceipts)
		k, v := b.Cursor().First()
		v = []byte(strings.Replace(string(v), ev.SAID(), "EPd4Q4Z3DnZl0beCwE-X63He-YyDEFsQ4jbCBzzxZvdL", 1))
		return b.Put(k, v)
	})
	if err != nil || len(mustReceipts(t, d.store, ev.Prefix(), 0)) != 1 {
		t.Fatalf("stale receipt: %v, %d receipts", err, len(mustReceipts(t, d.store, ev.Prefix(), 0)))
	}
}
