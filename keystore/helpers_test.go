package keystore

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// cheapKDF keeps the suite fast; real files use DefaultKDF.
var cheapKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

// testDigest stands in for kel's next digest (keystore imports no project
// package): "E" + base64url(SHA-256(pub)), 44 characters like the real one.
func testDigest(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "E" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// fixedClock returns a clock that starts at a fixed instant and advances one
// second per reading.
func fixedClock() func() time.Time {
	t := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

func passphrase(p string) func(bool) ([]byte, error) {
	return func(bool) ([]byte, error) { return []byte(p), nil }
}

// openFileStore opens home with the file backend and cheap KDF parameters.
func openFileStore(t *testing.T, home, pass string) *Store {
	t.Helper()
	s, notice, err := Open(Options{Home: home, Backend: BackendFile, Passphrase: passphrase(pass),
		NextDigest: testDigest, Now: fixedClock(), KDF: &cheapKDF})
	if err != nil {
		t.Fatalf("Open(%q): %v", home, err)
	}
	if notice != "" {
		t.Fatalf("Open with --keystore=file gave notice %q", notice)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// wantErr fails unless err wraps want.
func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

// wantErrText fails unless err wraps want and mentions every part.
func wantErrText(t *testing.T, err, want error, parts ...string) {
	t.Helper()
	wantErr(t, err, want)
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
}

// event is an EventRef and the bytes a test signs for it.
func event(aid string, sn uint64, said string) (EventRef, []byte) {
	return EventRef{AID: aid, SN: sn, SAID: said}, []byte(`{"v":"KERI10JSON","t":"ixn","d":"` + said + `"}`)
}

// seat1 names a member's first seat.
func seat1(alias string) SeatRef { return SeatRef{Member: alias, N: 1} }

// newSeat creates member alias and returns its one seat.
func newSeat(t *testing.T, s *Store, alias string) Seat {
	t.Helper()
	m, err := s.NewMember(alias)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Seats) != 1 || m.Seats[0].SeatRef != seat1(alias) || m.Seats[0].Group != "" {
		t.Fatalf("new member %+v: want one seat in no group", m)
	}
	return m.Seats[0]
}
