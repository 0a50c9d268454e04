package ceremony

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/keremony/keremony/kel"
)

// importedStore is a device whose store holds the 45-event bench KEL
// (imported, so no ceremony is on it), reopened.
func importedStore(t *testing.T) (*device, *storeBenchKEL, []byte) {
	t.Helper()
	k := loadStoreBenchKEL(t, 45)
	d := newDevice(t, newMember("lazy", 1), newClock())
	if _, err := d.store.ImportKEL(k.stream); err != nil {
		t.Fatal(err)
	}
	st, _ := d.store.State(k.prefix)
	want, _ := st.MarshalJSON()
	d.reopen()
	return d, k, want
}

func stateJSON(t *testing.T, s *Store, prefix string) []byte {
	t.Helper()
	st, ok := s.State(prefix)
	if !ok {
		t.Fatalf("no state for %s", prefix)
	}
	j, _ := st.MarshalJSON()
	return j
}

// Opening reads summaries, not KELs: the state and the identifiers are
// there before any KEL is restored, and a KEL is restored when read.
func TestStoreOpensWithoutRestoringKELs(t *testing.T) {
	d, k, want := importedStore(t)
	if len(d.store.idx.loaded) != 0 {
		t.Fatalf("opening restored %v", d.store.idx.loaded)
	}
	if got := stateJSON(t, d.store, k.prefix); !bytes.Equal(got, want) {
		t.Fatalf("state from the summary\n got %s\nwant %s", got, want)
	}
	if got := d.store.Prefixes(); !slices.Equal(got, []string{k.prefix}) {
		t.Fatalf("prefixes %v", got)
	}
	if got := mustExport(t, d.store, k.prefix); !bytes.Equal(got, k.stream) {
		t.Fatal("exported kel differs from the imported one")
	}
	if !d.store.idx.loaded[k.prefix] {
		t.Fatal("export did not restore the kel")
	}
	if got := stateJSON(t, d.store, k.prefix); !bytes.Equal(got, want) {
		t.Fatalf("state from the kel\n got %s\nwant %s", got, want)
	}
}

// Whatever makes the summaries not match the stored entries (a store
// from before them, an older keremony appending to the KEL, a changed
// summary) makes the open restore the whole KEL and write them anew.
func TestStoreIndexRebuilt(t *testing.T) {
	k46 := loadStoreBenchKEL(t, 46)
	for _, tc := range []struct {
		name string
		edit func(tx *bolt.Tx, prefix string) error
		sn   uint64
	}{
		{"no index record", func(tx *bolt.Tx, _ string) error { return tx.Bucket(bucketMeta).Delete(keyKELIndex) }, 44},
		{"no summaries", func(tx *bolt.Tx, _ string) error { return tx.DeleteBucket(bucketKELSums) }, 44},
		{"a changed summary", func(tx *bolt.Tx, p string) error {
			b := tx.Bucket(bucketKELSums)
			old := b.Get([]byte(p))
			changed := bytes.Replace(old, []byte(`"s":"2c"`), []byte(`"s":"2b"`), 1)
			if bytes.Equal(old, changed) {
				return errors.New("the summary holds no sn 2c")
			}
			return b.Put([]byte(p), changed)
		}, 44},
		{"an entry the index does not list", func(tx *bolt.Tx, _ string) error {
			b := tx.Bucket(bucketKEL)
			n, _ := b.NextSequence()
			if err := b.Put(seqKey(int(n)), k46.entries[45]); err != nil {
				return err
			}
			return recomputeDigest(tx)
		}, 45},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, k, _ := importedStore(t)
			if _, err := editStore(t, d, func(tx *bolt.Tx) error { return tc.edit(tx, k.prefix) }); err != nil {
				t.Fatal(err)
			}
			if st, _ := d.store.State(k.prefix); st.Sn != tc.sn {
				t.Fatalf("sn %d, want %d", st.Sn, tc.sn)
			}
			if _, _, ok, err := d.store.readIndex(); !ok || err != nil {
				t.Fatalf("index not written anew: %v", err)
			}
			d.reopen()
			if st, _ := d.store.State(k.prefix); st.Sn != tc.sn || len(d.store.idx.loaded) != 0 {
				t.Fatalf("after reopening: sn %d, restored %v", st.Sn, d.store.idx.loaded)
			}
			if v := mustVerifier(t, d.store); len(v.Messages(k.prefix)) != int(tc.sn)+1 {
				t.Fatalf("%d events", len(v.Messages(k.prefix)))
			}
		})
	}
}

// An entry changed on disk is found when its KEL is restored: the entries
// no longer match their summary, so every signature is verified, and a
// changed signature refuses the KEL (nothing else of the store is lost).
func TestStoreLazyTamperedEntry(t *testing.T) {
	d, k, want := importedStore(t)
	if _, err := editStore(t, d, flipSigAt(seqKey(10))); err != nil {
		t.Fatalf("open: %v", err)
	}
	if got := stateJSON(t, d.store, k.prefix); !bytes.Equal(got, want) {
		t.Fatal("summary state changed")
	}
	if _, err := d.store.Export(k.prefix); !errors.Is(err, ErrCorruptStore) || !errors.Is(err, kel.ErrBadSignature) {
		t.Fatalf("export of the tampered kel: %v", err)
	}
	if _, err := d.store.Verifier(); !errors.Is(err, ErrCorruptStore) {
		t.Fatalf("verifier: %v", err)
	}
}

// Prefixes is in first-seen order, whichever KELs an open restored first
// (a ceremony's group is restored when the store opens).
func TestStorePrefixesFirstSeen(t *testing.T) {
	k := loadStoreBenchKEL(t, 45)
	d, c, _ := finalizedSolo(t)
	if _, err := d.store.ImportKEL(k.stream); err != nil {
		t.Fatal(err)
	}
	solo := c.Event().Prefix()
	want := []string{solo, k.prefix}
	d.reopen()
	if !d.store.idx.loaded[solo] || d.store.idx.loaded[k.prefix] {
		t.Fatalf("restored on open: %v", d.store.idx.loaded)
	}
	if got := d.store.Prefixes(); !slices.Equal(got, want) {
		t.Fatalf("prefixes %v, want %v", got, want)
	}
	e := newDevice(t, newMember("other", 1), newClock())
	if _, err := e.store.ImportKEL(k.stream); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.ImportKEL(mustExport(t, d.store, solo)); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	if _, err := e.store.VerifierOf(solo); err != nil {
		t.Fatal(err)
	}
	if got := e.store.Prefixes(); !slices.Equal(got, []string{k.prefix, solo}) {
		t.Fatalf("prefixes %v, want %v", got, []string{k.prefix, solo})
	}
}
