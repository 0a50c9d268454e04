package ceremony

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// settledSolo is finalizedSolo with its anchoring finalized too: every
// ceremony of the store is closed.
func settledSolo(t *testing.T) (*device, []*Ceremony) {
	t.Helper()
	d, c, ca := finalizedSolo(t)
	mustFinalize(t, ca)
	return d, []*Ceremony{c, ca}
}

// A store whose ceremonies are all closed opens without restoring their
// group's KEL, and holds the same ceremonies; the KEL is restored when read.
func TestStoreSettledCeremonies(t *testing.T) {
	d, cs := settledSolo(t)
	prefix := cs[0].Event().Prefix()
	var before []snapshot
	for _, c := range cs {
		before = append(before, snap(c))
	}
	wantKEL := mustExport(t, d.store, prefix)
	d.reopen()
	if len(d.store.idx.loaded) != 0 {
		t.Fatalf("opening restored %v", d.store.idx.loaded)
	}
	if d.store.MayBeWitnessed(prefix) || len(d.store.idx.loaded) != 0 {
		t.Fatal("a group without witnesses may be witnessed, or asking restored its kel")
	}
	for i, c := range cs {
		got, err := d.store.Ceremony(c.ID())
		if err != nil || !sameSnap(before[i], snap(got)) || !got.Progress().Met || len(got.Transcript()) != len(c.Transcript()) {
			t.Fatalf("ceremony %s after reopening: %v %+v", c.ID(), err, snap(got))
		}
	}
	got, _ := d.store.Ceremony(cs[1].ID())
	if k, err := got.KEL(); err != nil || !bytes.Equal(k, wantKEL) {
		t.Fatalf("the settled ceremony's kel: %v", err)
	}
}

// A closed ceremony written by an earlier keremony (no basis, no digest)
// is restored in full against the KEL once, then settled.
func TestStoreSettlesEarlierCeremonies(t *testing.T) {
	d, cs := settledSolo(t)
	prefix := cs[0].Event().Prefix()
	strip := func(tx *bolt.Tx) error {
		for _, c := range cs {
			b := tx.Bucket(bucketCeremonies).Bucket([]byte(c.ID()))
			rec := b.Get(keyRecord)
			i := bytes.Index(rec, []byte(`,"basis":`))
			if i < 0 {
				return errors.New("no basis in the record")
			}
			if err := b.Put(keyRecord, append(slices.Clone(rec[:i]), '}')); err != nil {
				return err
			}
			if err := b.Delete(keyDigest); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := editStore(t, d, strip); err != nil {
		t.Fatalf("open: %v", err)
	}
	if !d.store.idx.loaded[prefix] {
		t.Fatal("ceremonies without a basis restored without the kel")
	}
	d.reopen()
	if len(d.store.idx.loaded) != 0 {
		t.Fatalf("settled ceremonies restored %v", d.store.idx.loaded)
	}
	if got, err := d.store.Ceremony(cs[1].ID()); err != nil || !sameSnap(snap(cs[1]), snap(got)) {
		t.Fatalf("after settling: %v", err)
	}
}

// A closed ceremony whose bucket no longer matches its digest is checked
// in full: a changed signature refuses the store. Changed together with
// its digest it is trusted, as the Store documents.
func TestStoreSettledTampered(t *testing.T) {
	flip := func(id string, digest bool) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketCeremonies).Bucket([]byte(id))
			sb := b.Bucket(bucketSigs)
			k, v := sb.Cursor().First()
			v = slices.Clone(v)
			v[20] = 'A' + (v[20]-'A'+1)%26
			if err := sb.Put(k, v); err != nil {
				return err
			}
			if digest {
				return b.Put(keyDigest, bucketDigest(b))
			}
			return nil
		}
	}
	d, cs := settledSolo(t)
	if _, err := editStore(t, d, flip(cs[1].ID(), false)); !errors.Is(err, ErrCorruptStore) || !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed signature: %v", err)
	}
	d, cs = settledSolo(t)
	if _, err := editStore(t, d, flip(cs[1].ID(), true)); err != nil {
		t.Errorf("changed signature with its digest: %v", err)
	}
}
