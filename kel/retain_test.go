package kel_test

import (
	"runtime"
	"sync"
	"testing"

	"github.com/keremony/keremony/internal/benchkel"
	"github.com/keremony/keremony/kel"
)

// The heap a replay keeps: `keremony verify` of a 10,000-event 3-of-5 KEL
// (internal/benchkel, the fixture scripts/bench-home.sh measures) holds
// every accepted message and its key states until it prints them, so what
// the verifier retains per event is what its peak memory grows with.

const retainEvents = 10000

var (
	retainOnce sync.Once
	retainKEL  *benchkel.KEL
	retainErr  error
)

func loadRetainKEL(tb testing.TB) *benchkel.KEL {
	tb.Helper()
	retainOnce.Do(func() { retainKEL, retainErr = benchkel.Build(retainEvents) })
	if retainErr != nil {
		tb.Fatal(retainErr)
	}
	return retainKEL
}

// heapAfterGC is the live heap once the collector has run.
func heapAfterGC() (live, total uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.TotalAlloc
}

// BenchmarkRetained10k replays the 10,000-event KEL and reports the heap
// the verifier keeps afterwards (retained-B/event: accepted messages, key
// states, anchors; the input stream and the results are not counted) and
// everything the replay allocated on the way (alloc-B/event).
func BenchmarkRetained10k(b *testing.B) {
	k := loadRetainKEL(b)
	var retained, allocated uint64
	for b.Loop() {
		live0, total0 := heapAfterGC()
		v := kel.NewVerifier()
		res, err := v.AcceptStream(k.Stream)
		if err != nil || len(res) != retainEvents || !res[len(res)-1].OK() {
			b.Fatalf("replay: %d results: %v", len(res), err)
		}
		res = nil
		live1, total1 := heapAfterGC()
		if st, ok := v.State(k.Prefix); !ok || st.Sn != retainEvents-1 {
			b.Fatalf("state after replay: sn %d, %v", st.Sn, ok)
		}
		runtime.KeepAlive(v)
		retained += live1 - live0
		allocated += total1 - total0
	}
	n := float64(b.N * retainEvents)
	b.ReportMetric(float64(retained)/n, "retained-B/event")
	b.ReportMetric(float64(allocated)/n, "alloc-B/event")
}
