package device

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/keremony/keremony/internal/benchkel"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
)

// Benchmarks of a device whose home holds an n-event 3-of-5 KEL (see
// internal/benchkel). BenchmarkOpenHome is what every command pays before
// it starts (`kel list`, `status`: open, list, close); BenchmarkPoll is one
// poll of a drop folder with nothing new in it, what an idle TUI pays every
// interval. BenchmarkVerifyKEL, the authenticated replay of the same KEL
// (what `keremony verify` does), is the reference for both.

func benchHome(b *testing.B, n int) (home string, k *benchkel.KEL) {
	b.Helper()
	k, err := benchkel.Build(n)
	if err != nil {
		b.Fatal(err)
	}
	home = b.TempDir()
	d, err := Open(Options{Home: home, Keystore: "file", KDF: testKDF})
	if err != nil {
		b.Fatal(err)
	}
	s, err := transport.ParseCESR(k.Stream)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := d.ImportStream(s, "bench"); err != nil {
		b.Fatal(err)
	}
	d.Close()
	return home, k
}

func benchOpenHome(b *testing.B, n int) {
	home, _ := benchHome(b, n)
	for b.Loop() {
		d, err := Open(Options{Home: home, Keystore: "file", KDF: testKDF})
		if err != nil {
			b.Fatal(err)
		}
		if gs := d.Groups(); len(gs) != 1 || gs[0].State.Sn != uint64(n-1) {
			b.Fatalf("home holds %+v", gs)
		}
		d.Close()
	}
}

func BenchmarkOpenHome10(b *testing.B)  { benchOpenHome(b, 10) }
func BenchmarkOpenHome10k(b *testing.B) { benchOpenHome(b, 10000) }

// benchHomeSnapshot is what the TUI does before its home screen shows
// content: open the home and take the backend's snapshot (groups with
// their recoverable and superseded events, ceremonies, inbox).
func benchHomeSnapshot(b *testing.B, n int) {
	home, _ := benchHome(b, n)
	for b.Loop() {
		d, err := Open(Options{Home: home, Keystore: "file", KDF: testKDF})
		if err != nil {
			b.Fatal(err)
		}
		s, err := d.Backend().Snapshot()
		if err != nil || len(s.Groups) != 1 || s.Groups[0].State.Sn != uint64(n-1) {
			b.Fatalf("snapshot %+v: %v", s.Groups, err)
		}
		d.Close()
	}
}

func BenchmarkHomeSnapshot10(b *testing.B)  { benchHomeSnapshot(b, 10) }
func BenchmarkHomeSnapshot10k(b *testing.B) { benchHomeSnapshot(b, 10000) }

func benchPoll(b *testing.B, n int) {
	home, k := benchHome(b, n)
	drop := filepath.Join(b.TempDir(), "drop")
	d, err := Open(Options{Home: home, Keystore: "file", KDF: testKDF, Drop: drop})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	// The folder holds what a finished ceremony leaves: the group's KEL.
	if err := os.WriteFile(filepath.Join(drop, "kel-bench.cesr"), k.Stream, 0o644); err != nil {
		b.Fatal(err)
	}
	for range 3 { // seen, stable, ingested
		if _, err := d.Poll(); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := d.Poll(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPoll10(b *testing.B)  { benchPoll(b, 10) }
func BenchmarkPoll10k(b *testing.B) { benchPoll(b, 10000) }

func benchVerify(b *testing.B, n int) {
	k, err := benchkel.Build(n)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rs, err := kel.NewVerifier().AcceptStream(k.Stream)
		if err != nil || len(rs) != n || !rs[n-1].OK() {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyKEL10k(b *testing.B) { benchVerify(b, 10000) }

// BenchmarkDroppedCard10k is what one member card landing in the drop
// folder costs a TUI whose home holds a 10,000-event KEL: the polls that
// see it, find it stable and take it in.
func BenchmarkDroppedCard10k(b *testing.B) {
	home, _ := benchHome(b, 10000)
	drop := filepath.Join(b.TempDir(), "drop")
	d, err := Open(Options{Home: home, Keystore: "file", KDF: testKDF, Drop: drop})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	pass := func(bool) ([]byte, error) { return []byte("bench"), nil }
	other, err := Open(Options{Home: b.TempDir(), Keystore: "file", KDF: testKDF, Passphrase: pass})
	if err != nil {
		b.Fatal(err)
	}
	defer other.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		alias := fmt.Sprintf("m%d", i)
		if err := other.NewMember(alias); err != nil {
			b.Fatal(err)
		}
		card, _, _, err := other.CardPacket(alias, "")
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(drop, "card-"+alias+".json"), card.Marshal(), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		taken := 0
		for range 3 { // seen, stable, taken in
			ns, err := d.Poll()
			if err != nil {
				b.Fatal(err)
			}
			taken += len(ns)
		}
		if taken == 0 {
			b.Fatalf("card of %s not taken in", alias)
		}
	}
}
