package ceremony

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/keremony/keremony/internal/benchkel"
	"github.com/keremony/keremony/kel"
)

// Store benchmarks over a 3-of-5 group's KEL built like kel's bench fixture:
// icp (kt 3, nt 3 over 5 keys), a rot every 10th event revealing the 5
// pre-committed keys, ixn events with one digest seal in between, 3 real
// Ed25519 signatures on every event. BenchmarkReplay10k, the authenticated
// replay of the same stream, is the reference for BenchmarkOpenStore10k
// (opening a store restores it without Ed25519) and BenchmarkImport10k.

type storeBenchKEL struct {
	stream  []byte
	entries [][]byte // one message each, as the store keeps them
	prefix  string
}

var (
	storeBenchMu    sync.Mutex
	storeBenchCache = map[int]*storeBenchKEL{}
)

// loadStoreBenchKEL builds (once per run and size) an n-event KEL.
func loadStoreBenchKEL(tb testing.TB, n int) *storeBenchKEL {
	tb.Helper()
	storeBenchMu.Lock()
	defer storeBenchMu.Unlock()
	if k, ok := storeBenchCache[n]; ok {
		return k
	}
	b, err := benchkel.Build(n)
	if err != nil {
		tb.Fatal(err)
	}
	k := &storeBenchKEL{stream: b.Stream, entries: b.Messages, prefix: b.Prefix}
	storeBenchCache[n] = k
	return k
}

// storeBenchDir writes a store holding the n-event KEL: the entries go into
// the kel bucket in one bbolt transaction, then one open (outside any
// timing) checks the file and brings it up to date.
func storeBenchDir(b *testing.B, n int) (string, *storeBenchKEL) {
	b.Helper()
	k := loadStoreBenchKEL(b, n)
	dir := b.TempDir()
	s, err := OpenStore(dir, StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(filepath.Join(dir, DBFileName), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketKEL)
		for i, e := range k.entries {
			if err := bk.Put(seqKey(i+1), e); err != nil {
				return err
			}
		}
		return bk.SetSequence(uint64(len(k.entries)))
	})
	db.Close()
	if err != nil {
		b.Fatal(err)
	}
	s, err = OpenStore(dir, StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if st, ok := s.State(k.prefix); !ok || st.Sn != uint64(n-1) {
		b.Fatalf("fixture store holds %+v", st)
	}
	s.Close()
	return dir, k
}

func benchOpenStore(b *testing.B, n int) {
	dir, k := storeBenchDir(b, n)
	for b.Loop() {
		s, err := OpenStore(dir, StoreOptions{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(k.entries)), "ns/event")
}

func BenchmarkOpenStore10k(b *testing.B) { benchOpenStore(b, 10000) }
func BenchmarkOpenStore10(b *testing.B)  { benchOpenStore(b, 10) }

func BenchmarkStoreVerifier10k(b *testing.B) {
	dir, k := storeBenchDir(b, 10000)
	s, err := OpenStore(dir, StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if v := mustVerifier(b, s); len(v.Prefixes()) != 1 {
			b.Fatal("verifier holds no kel")
		}
	}
	_ = k
}

func BenchmarkImport10k(b *testing.B) {
	k := loadStoreBenchKEL(b, 10000)
	root := b.TempDir()
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		dir := filepath.Join(root, fmt.Sprint(i))
		s, err := OpenStore(dir, StoreOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := s.ImportKEL(k.stream); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(k.entries)), "ns/event")
}

// BenchmarkReplay10k is the reference: kel's authenticated replay (parse and
// every signature verified) of the same stream.
func BenchmarkReplay10k(b *testing.B) {
	k := loadStoreBenchKEL(b, 10000)
	for b.Loop() {
		res, err := kel.NewVerifier().AcceptStream(k.stream)
		if err != nil || len(res) != len(k.entries) || !res[len(res)-1].OK() {
			b.Fatalf("replay: %d results: %v", len(res), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(k.entries)), "ns/event")
}

// BenchmarkOpenStore10kVsReplay alternates one open of the 10k store and one
// kel replay of the same KEL in every iteration and reports their ratio
// (x-replay): on a shared machine, load that drifts between two separate
// benchmarks cancels out here.
func BenchmarkOpenStore10kVsReplay(b *testing.B) {
	dir, k := storeBenchDir(b, 10000)
	var open, replay time.Duration
	for b.Loop() {
		t0 := time.Now()
		s, err := OpenStore(dir, StoreOptions{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		t1 := time.Now()
		if _, err := kel.NewVerifier().AcceptStream(k.stream); err != nil {
			b.Fatal(err)
		}
		replay += time.Since(t1)
		open += t1.Sub(t0)
	}
	b.ReportMetric(float64(open)/float64(replay), "x-replay")
	b.ReportMetric(float64(open.Nanoseconds())/float64(b.N), "open-ns/op")
	b.ReportMetric(float64(replay.Nanoseconds())/float64(b.N), "replay-ns/op")
}

// BenchmarkOpenStoreCeremonies1k opens a store holding a 1-of-1 group's
// 1,002 finalized ceremonies (its inception and 1,001 anchorings): what a
// group that anchored a thousand times here pays on every command. Each
// ceremony is read, its stored signatures verified and checked against
// the KEL, which is restored once.
func BenchmarkOpenStoreCeremonies1k(b *testing.B) {
	d, _, ca := finalizedSolo(b)
	mustFinalize(b, ca)
	prefix := ca.Event().Prefix()
	for i := range 1000 {
		st, _ := d.store.State(prefix)
		ap, err := ProposeAnchoring(st, AnchoringParams{Prefix: prefix, Seals: []kel.Seal{kel.DigestSeal(fmt.Append(nil, i))}})
		if err != nil {
			b.Fatal(err)
		}
		c, _ := d.propose(ap)
		d.sign(c, d.review(c, 0), 0)
		mustFinalize(b, c)
	}
	d.store.Close()
	for b.Loop() {
		s, err := OpenStore(d.dir, StoreOptions{Clock: d.clock.Now})
		if err != nil {
			b.Fatal(err)
		}
		if n := len(s.ceremonies); n != 1002 {
			b.Fatalf("%d ceremonies", n)
		}
		s.Close()
	}
	d.open() // for the cleanup
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1002), "ns/ceremony")
}
