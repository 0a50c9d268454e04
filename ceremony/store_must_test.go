package ceremony

import (
	"testing"

	"github.com/keremony/keremony/kel"
)

// The store's reads that may restore a KEL return an error; in tests a
// failure there ends the test.

func mustExport(t testing.TB, s *Store, prefix string) []byte {
	t.Helper()
	b, err := s.Export(prefix)
	if err != nil {
		t.Fatalf("export %s: %v", prefix, err)
	}
	return b
}

func mustVerifier(t testing.TB, s *Store) *kel.Verifier {
	t.Helper()
	v, err := s.Verifier()
	if err != nil {
		t.Fatalf("verifier: %v", err)
	}
	return v
}

func mustReceipts(t testing.TB, s *Store, prefix string, sn uint64) []kel.Couple {
	t.Helper()
	cs, err := s.Receipts(prefix, sn)
	if err != nil {
		t.Fatalf("receipts of %s sn %d: %v", prefix, sn, err)
	}
	return cs
}

func mustHeld(t testing.TB, s *Store) []kel.Message {
	t.Helper()
	h, err := s.Held()
	if err != nil {
		t.Fatalf("held: %v", err)
	}
	return h
}
