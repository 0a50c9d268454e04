package ceremony

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/keremony/keremony/kel"
)

// editStore runs f on the closed store's file and reopens it.
func editStore(t *testing.T, d *device, f func(tx *bolt.Tx) error) (*Store, error) {
	t.Helper()
	d.store.Close()
	db, err := bolt.Open(filepath.Join(d.dir, DBFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(f); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := OpenStore(d.dir, StoreOptions{Clock: d.clock.Now})
	if err == nil {
		d.store = s
	} else {
		d.store, _ = OpenStore(t.TempDir(), StoreOptions{}) // for the cleanup
	}
	return s, err
}

// flipSigAt changes a byte of the first signature of the kel entry at key.
func flipSigAt(key []byte) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKEL)
		msgs, err := kel.ParseStream(b.Get(key))
		if err != nil {
			return err
		}
		m := msgs[0]
		sigs := slices.Clone(m.Sigs)
		sigs[0].Sig = slices.Clone(sigs[0].Sig)
		sigs[0].Sig[5] ^= 0xff
		return b.Put(key, kel.NewMessage(m.Event, sigs, m.Sources...).Bytes())
	}
}

func storedDigest(t *testing.T, d *device) []byte {
	t.Helper()
	var got []byte
	d.store.db.View(func(tx *bolt.Tx) error {
		got = slices.Clone(tx.Bucket(bucketMeta).Get(keyKELDigest))
		return nil
	})
	return got
}

// recomputeDigest writes the digest of the entries as they are now.
func recomputeDigest(tx *bolt.Tx) error {
	d := kelDigestSeed[:]
	tx.Bucket(bucketKEL).ForEach(func(_, v []byte) error { d = kelDigestNext(d, v); return nil })
	return tx.Bucket(bucketMeta).Put(keyKELDigest, d)
}

// The KEL digest decides whether an open trusts the stored signatures. A
// store without it (written before it existed) or whose entries do not
// match it is verified whole, then gets the digest; a changed signature
// is then refused.
func TestStoreKELDigest(t *testing.T) {
	d, c, _ := finalizedSolo(t)
	want := storedDigest(t, d)
	if len(want) != 32 {
		t.Fatalf("digest %x", want)
	}
	for name, f := range map[string]func(tx *bolt.Tx) error{
		"no digest":      func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyKELDigest) },
		"another digest": func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyKELDigest, make([]byte, 32)) },
	} {
		if _, err := editStore(t, d, f); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := storedDigest(t, d); !bytes.Equal(got, want) {
			t.Errorf("%s: digest after open %x, want %x", name, got, want)
		}
		if st, ok := d.store.State(c.Event().Prefix()); !ok || st.Last != c.SAID() {
			t.Errorf("%s: state %+v", name, st)
		}
	}
	flipSig := flipSigAt(seqKey(1))
	if _, err := editStore(t, d, flipSig); !errors.Is(err, ErrCorruptStore) || !errors.Is(err, kel.ErrBadSignature) {
		t.Errorf("changed signature: %v", err)
	}
	// The contract the Store documents: the digest is no secret, so a
	// change made together with its digest is trusted (the signature bytes
	// are not verified again).
	d, _, _ = finalizedSolo(t)
	if _, err := editStore(t, d, func(tx *bolt.Tx) error {
		if err := flipSig(tx); err != nil {
			return err
		}
		return recomputeDigest(tx)
	}); err != nil {
		t.Errorf("changed signature with its digest: %v", err)
	}
}

// ImportKEL stores a whole KEL in one transaction, and what it stored
// restores to the same states; Verifier() is a copy that stays apart.
func TestImportKELOneTransaction(t *testing.T) {
	k := loadStoreBenchKEL(t, 45)
	d := newDevice(t, newMember("importer", 2), newClock())
	commits := 0
	defer func(h func(string)) { testHook = h }(testHook)
	testHook = func(p string) {
		if p == "import-before-commit" {
			commits++
		}
	}
	res, err := d.store.ImportKEL(k.stream)
	if err != nil || len(res) != 45 || commits != 1 {
		t.Fatalf("%d results, %d transactions: %v", len(res), commits, err)
	}
	want := mustExport(t, d.store, k.prefix)
	if !bytes.Equal(want, k.stream) {
		t.Fatalf("exported kel differs from the imported one")
	}
	d.reopen()
	if got := mustExport(t, d.store, k.prefix); !bytes.Equal(got, want) {
		t.Fatalf("reopened kel differs")
	}
	// Again: duplicates, nothing written.
	msgs, err := kel.ParseStream(k.stream)
	if err != nil {
		t.Fatal(err)
	}
	res, err = d.store.ImportMessages(msgs)
	if err != nil || commits != 1 || !slices.Contains(res[44].Warnings, "duplicate_event") {
		t.Errorf("second import: %d transactions, %v %+v", commits, err, res[44])
	}

	// The verifier copy takes events the store does not.
	v := mustVerifier(t, d.store)
	st, _ := d.store.State(k.prefix)
	next := loadStoreBenchKEL(t, 46)
	last, _ := kel.ParseStream(next.entries[45])
	if r := v.Accept(last[0]); !r.OK() {
		t.Fatalf("copy refused sn 45: %v", r.Err)
	}
	if now, _ := d.store.State(k.prefix); now.Sn != st.Sn || len(mustVerifier(t, d.store).Messages(k.prefix)) != 45 {
		t.Errorf("accepting into the copy reached the store")
	}

	// A stream with a refused event in the middle: the others are stored.
	e := newDevice(t, newMember("importer2", 2), newClock())
	bad := slices.Clone(msgs[:12])
	bad[5] = kel.NewMessage(bad[5].Event, bad[5].Sigs[:1]) // 1 of 3
	res, err = e.store.ImportMessages(bad)
	if !errors.Is(err, ErrRejected) || !errors.Is(err, kel.ErrThresholdNotMet) || res[4].Err != nil || res[5].Err == nil || res[6].Err == nil {
		t.Fatalf("refused middle: %v", err)
	}
	e.reopen()
	if st, _ := e.store.State(k.prefix); st.Sn != 4 {
		t.Errorf("stored up to sn %d, want 4", st.Sn)
	}
	if _, err := e.store.ImportKEL(k.stream); err != nil {
		t.Errorf("import after a refusal: %v", err)
	}
	e.reopen()
	if st, _ := e.store.State(k.prefix); st.Sn != 44 {
		t.Errorf("stored up to sn %d, want 44", st.Sn)
	}
}
