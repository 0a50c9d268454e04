package ceremony

import (
	"crypto/ed25519"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/keremony/keremony/kel"
)

// witnessedBenchDir is a store holding a 1-of-1 group witnessed by two
// witnesses (toad 2): an icp and n-1 ixn events, each with both receipts.
func witnessedBenchDir(b *testing.B, n int) string {
	b.Helper()
	wan, wil := newTestWitness("wan"), newTestWitness("wil")
	m := newMember("bench", 2)
	one := kel.IntThreshold(1)
	ev, err := kel.Incept(kel.InceptionOptions{Keys: []string{m.keys[0].Key()}, Kt: one, Next: []string{m.keys[1].Dig()}, Nt: one,
		Witnesses: []string{wan.prefix, wil.prefix}, Bt: 2})
	if err != nil {
		b.Fatal(err)
	}
	var msgs []kel.Message
	for sn := 0; sn < n; sn++ {
		if sn > 0 {
			if ev, err = kel.Interact(kel.InteractionOptions{Prefix: ev.Prefix(), Sn: uint64(sn), Prior: ev.SAID(), Seals: []kel.Seal{kel.DigestSeal([]byte{byte(sn)})}}); err != nil {
				b.Fatal(err)
			}
		}
		sig, _ := kel.NewSiger(ed25519.Sign(m.keys[0].priv, ev.Raw()), 0, 0, true)
		msgs = append(msgs, kel.NewMessage(ev, []kel.Siger{sig}))
	}
	dir := b.TempDir()
	s, err := OpenStore(dir, StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ImportMessages(msgs); err != nil {
		b.Fatal(err)
	}
	var in []receiptIn
	for _, msg := range msgs {
		e := msg.Event
		for _, w := range []testWitness{wan, wil} {
			in = append(in, receiptIn{e.Prefix(), e.Sn(), e.SAID(), w.receipt(e)})
		}
	}
	s.mu.Lock()
	_, err = s.addReceiptsLocked(in)
	s.mu.Unlock()
	if err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkOpenStoreReceipts1k opens a store of 1,000 witnessed events
// with 2,000 receipts: trusted (the receipts digest matches) and verified
// (it does not: every receipt's signature is checked, then the digest is
// written again, so each iteration removes it first).
func BenchmarkOpenStoreReceipts1k(b *testing.B) {
	dir := witnessedBenchDir(b, 1000)
	open := func(b *testing.B) {
		s, err := OpenStore(dir, StoreOptions{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	b.Run("trusted", func(b *testing.B) {
		for range b.N {
			open(b)
		}
	})
	b.Run("verified", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			db, err := bolt.Open(dir+"/"+DBFileName, 0o600, nil)
			if err != nil {
				b.Fatal(err)
			}
			db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyReceiptsDigest) })
			db.Close()
			b.StartTimer()
			open(b)
		}
	})
}
