//go:build keyring_it

// Integration tests against a real Secret Service. Run them with
// `make test-keyring`, which starts a private D-Bus session with an unlocked
// gnome-keyring (scripts/ci-keyring.sh). Run directly on a desktop they use
// the desktop keyring and delete every entry they create.

package keystore

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/zalando/go-keyring"
)

// seedEncodings lists every form in which a seed could leak into a file.
func seedEncodings(seed []byte) map[string][]byte {
	qb64 := "A" + base64.RawURLEncoding.EncodeToString(append([]byte{0}, seed...))[1:]
	return map[string][]byte{
		"raw":             seed,
		"hex":             []byte(hex.EncodeToString(seed)),
		"HEX":             bytes.ToUpper([]byte(hex.EncodeToString(seed))),
		"base64 std":      []byte(base64.StdEncoding.EncodeToString(seed)),
		"base64 std raw":  []byte(base64.RawStdEncoding.EncodeToString(seed)),
		"base64 url":      []byte(base64.URLEncoding.EncodeToString(seed)),
		"base64 url raw":  []byte(base64.RawURLEncoding.EncodeToString(seed)),
		"qb64 seed (A…)":  []byte(qb64),
		"ed25519 private": ed25519.NewKeyFromSeed(seed),
	}
}

// realSeed reads a key straight from the Secret Service through go-keyring,
// bypassing the Store.
func realSeed(t *testing.T, s *Store, keyID string) []byte {
	t.Helper()
	text, err := keyring.Get(keyringService, s.cfg.ID+"/"+keyID)
	if err != nil {
		t.Fatalf("secret service entry for key %s: %v", keyID, err)
	}
	seed, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(seed) != seedSize {
		t.Fatalf("secret service entry for key %s is not a seed: %v", keyID, err)
	}
	return seed
}

// cleanupKeyring deletes every key a store's records name, so a run against
// a desktop keyring leaves nothing behind.
func cleanupKeyring(t *testing.T, s *Store, ids *[]string) {
	t.Cleanup(func() {
		for _, id := range *ids {
			keyring.Delete(keyringService, s.cfg.ID+"/"+id)
		}
	})
}

func openRealKeyring(t *testing.T, home string) *Store {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no D-Bus session: run through scripts/ci-keyring.sh (make test-keyring)")
	}
	s, notice, err := Open(Options{Home: home, Passphrase: func(bool) ([]byte, error) {
		t.Fatal("the keyring backend asked for a passphrase")
		return nil, nil
	}, NextDigest: testDigest, Now: fixedClock(), KDF: &cheapKDF})
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != BackendKeyring || notice != "" {
		t.Fatalf("auto selection: backend %s, notice %q; want the keyring", s.Backend(), notice)
	}
	return s
}

func TestRealKeyringSeedsOnlyInSecretService(t *testing.T) {
	home := t.TempDir()
	s := openRealKeyring(t, home)
	defer s.Close()
	var ids []string
	cleanupKeyring(t, s, &ids)
	seeds := map[string][]byte{} // "alias key-id" -> seed, including destroyed keys

	collect := func(alias string) *memberRecord {
		rec, err := s.record(alias)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []*keyRecord{&rec.Seats[0].Current, &rec.Seats[0].Next, rec.Seats[0].Pending} {
			if k != nil {
				ids = append(ids, k.ID)
				seeds[alias+" "+k.ID] = realSeed(t, s, k.ID)
			}
		}
		return rec
	}

	members := map[string]Seat{}
	for _, alias := range []string{"alice", "bob"} {
		m := newSeat(t, s, alias)
		members[alias] = m
		rec := collect(alias)
		cur := seeds[alias+" "+rec.Seats[0].Current.ID]
		if !ed25519.NewKeyFromSeed(cur).Public().(ed25519.PublicKey).Equal(m.PublicKey) {
			t.Fatalf("%s: the Secret Service holds a different current key", alias)
		}
		next := seeds[alias+" "+rec.Seats[0].Next.ID]
		if testDigest(ed25519.NewKeyFromSeed(next).Public().(ed25519.PublicKey)) != m.NextDigest {
			t.Fatalf("%s: the Secret Service holds a different next key", alias)
		}
	}

	// Sign, then rotate alice and sign with her new key.
	for alias, m := range members {
		signer, err := s.Signer(seat1(alias))
		if err != nil {
			t.Fatal(err)
		}
		ref, msg := event("E"+alias, 0, "Eicp-"+alias)
		sig, err := signer.Sign(ref, msg)
		if err != nil || !ed25519.Verify(m.PublicKey, msg, sig) {
			t.Fatalf("%s: sign: %v", alias, err)
		}
	}
	oldRec := collect("alice")
	rot, err := s.PrepareRotation(seat1("alice"))
	if err != nil {
		t.Fatal(err)
	}
	collect("alice")
	rs, _ := s.RotationSigner(seat1("alice"))
	ref, msg := event("Ealice", 1, "Erot")
	if sig, err := rs.Sign(ref, msg); err != nil || !ed25519.Verify(rot.NewKey, msg, sig) {
		t.Fatalf("sign the rotation: %v", err)
	}
	if _, err := s.CommitRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	collect("alice")
	if _, err := keyring.Get(keyringService, s.cfg.ID+"/"+oldRec.Seats[0].Current.ID); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("old current key still in the Secret Service after the commit: %v", err)
	}
	ready, err := s.CheckReadiness()
	if err != nil || len(ready) != 2 || !ready[0].Ready || !ready[1].Ready {
		t.Fatalf("readiness: %+v, %v", ready, err)
	}
	if _, err := os.Stat(filepath.Join(home, keystoreName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("keyring mode wrote %s", keystoreName)
	}

	// No seed, in any encoding, in any file of the data directory.
	files := 0
	err = filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for key, seed := range seeds {
			for enc, b := range seedEncodings(seed) {
				if bytes.Contains(data, b) {
					t.Errorf("%s holds seed %s as %s", path, key, enc)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Files: keystore.json, journal.jsonl, two member records, the empty
	// .keystore.lock. Seeds: alice current, next, prepared; bob current,
	// next.
	if files != 5 || len(seeds) != 5 {
		t.Fatalf("searched %d files for %d seeds, want 5 files and 5 seeds", files, len(seeds))
	}
}

func TestRealKeyringHomesDoNotCollide(t *testing.T) {
	s1 := openRealKeyring(t, t.TempDir())
	s2 := openRealKeyring(t, t.TempDir())
	var ids1, ids2 []string
	cleanupKeyring(t, s1, &ids1)
	cleanupKeyring(t, s2, &ids2)
	for _, c := range []struct {
		s   *Store
		ids *[]string
	}{{s1, &ids1}, {s2, &ids2}} {
		if _, err := c.s.NewMember("alice"); err != nil {
			t.Fatal(err)
		}
		rec, _ := c.s.record("alice")
		*c.ids = append(*c.ids, rec.Seats[0].Current.ID, rec.Seats[0].Next.ID)
	}
	m1, _ := s1.Seat(seat1("alice"))
	m2, _ := s2.Seat(seat1("alice"))
	if m1.PublicKey.Equal(m2.PublicKey) {
		t.Fatal("two homes share a key")
	}
	if _, err := s1.PrepareRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	rec, _ := s1.record("alice")
	ids1 = append(ids1, rec.Seats[0].Pending.ID)
	if _, err := s1.CommitRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{s1, s2} {
		r, err := s.CheckReadiness()
		if err != nil || len(r) != 1 || !r[0].Ready {
			t.Fatalf("home %s: %+v, %v", s.Home(), r, err)
		}
	}
}
