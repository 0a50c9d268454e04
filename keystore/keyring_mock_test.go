//go:build !keyring_it

// Tests with go-keyring's in-memory mock. keyring.MockInit replaces a package
// global for the whole test binary, so these tests stay out of the
// keyring_it build, which talks to a real Secret Service.

package keystore

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

func openKeyringStore(t *testing.T, home string, b Backend) (*Store, string) {
	t.Helper()
	s, notice, err := Open(Options{Home: home, Backend: b, Passphrase: passphrase("pw"),
		NextDigest: testDigest, Now: fixedClock(), KDF: &cheapKDF})
	if err != nil {
		t.Fatalf("Open(%q, %s): %v", home, b, err)
	}
	t.Cleanup(func() { s.Close() })
	return s, notice
}

func TestKeyringBackendMocked(t *testing.T) {
	keyring.MockInit()
	home := t.TempDir()
	s, notice := openKeyringStore(t, home, BackendKeyring)
	if s.Backend() != BackendKeyring || notice != "" {
		t.Fatalf("backend %s, notice %q; want keyring, none", s.Backend(), notice)
	}
	m := newSeat(t, s, "alice")
	rec, _ := s.record("alice")
	user := s.cfg.ID + "/" + rec.Seats[0].Current.ID
	text, err := keyring.Get("keremony", user)
	if err != nil {
		t.Fatalf("keyring entry %q: %v", user, err)
	}
	seed, err := base64.StdEncoding.DecodeString(text)
	if err != nil || !ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey).Equal(m.PublicKey) {
		t.Fatalf("keyring entry does not hold the current seed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, keystoreName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("keyring mode wrote %s (err %v)", keystoreName, err)
	}

	signer, _ := s.Signer(seat1("alice"))
	ref, msg := event("EAID", 0, "Eicp")
	if sig, err := signer.Sign(ref, msg); err != nil || !ed25519.Verify(m.PublicKey, msg, sig) {
		t.Fatalf("sign: %v", err)
	}
	if _, err := s.PrepareRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CommitRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	_, err = keyring.Get("keremony", user)
	wantErr(t, err, keyring.ErrNotFound)
	rs, err := s.CheckReadiness()
	if err != nil || len(rs) != 1 || !rs[0].Ready {
		t.Fatalf("readiness after rotation: %+v, %v", rs, err)
	}

	// A damaged entry is reported as such.
	if err := keyring.Set("keremony", s.cfg.ID+"/"+rec.Seats[0].Next.ID, "not base64!"); err != nil {
		t.Fatal(err)
	}
	signer, _ = s.Signer(seat1("alice"))
	_, err = signer.Sign(ref, msg)
	wantErr(t, err, ErrCorruptKeystore)
}

func TestAutoPrefersKeyring(t *testing.T) {
	keyring.MockInit()
	s, notice := openKeyringStore(t, t.TempDir(), BackendAuto)
	if s.Backend() != BackendKeyring || notice != "" {
		t.Fatalf("auto with a working keyring: backend %s, notice %q", s.Backend(), notice)
	}
}

func TestAutoFallsBackToFile(t *testing.T) {
	keyring.MockInitWithError(errors.New("dbus: no session bus"))
	home := t.TempDir()
	s, notice := openKeyringStore(t, home, BackendAuto)
	if s.Backend() != BackendFile {
		t.Fatalf("auto with a broken keyring chose %s", s.Backend())
	}
	if !strings.Contains(notice, "no session bus") || !strings.Contains(notice, filepath.Join(home, keystoreName)) || strings.Contains(notice, "\n") {
		t.Errorf("notice = %q, want one line naming the reason and the file", notice)
	}
	if _, err := s.NewMember("alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, keystoreName)); err != nil {
		t.Errorf("file backend did not write the keystore: %v", err)
	}
	// Explicit keyring mode fails instead of falling back.
	_, _, err := Open(Options{Home: t.TempDir(), Backend: BackendKeyring, NextDigest: testDigest})
	wantErrText(t, err, ErrKeyringUnavailable, "no session bus")
}

func TestKeyringHomeStaysInKeyring(t *testing.T) {
	keyring.MockInit()
	home := t.TempDir()
	s, _ := openKeyringStore(t, home, BackendAuto)
	if _, err := s.NewMember("alice"); err != nil {
		t.Fatal(err)
	}
	// The keyring breaks: auto must not switch this home to a file, where
	// its keys are not.
	keyring.MockInitWithError(errors.New("keyring locked"))
	s2, notice := openKeyringStore(t, home, BackendAuto)
	if s2.Backend() != BackendKeyring || notice != "" {
		t.Fatalf("recorded keyring home: backend %s, notice %q", s2.Backend(), notice)
	}
	signer, _ := s2.Signer(seat1("alice"))
	ref, msg := event("EAID", 0, "E0")
	_, err := signer.Sign(ref, msg)
	wantErrText(t, err, ErrKeyringUnavailable, "keyring locked")
	_, _, err = Open(Options{Home: home, Backend: BackendFile, NextDigest: testDigest})
	wantErrText(t, err, ErrBackendMismatch, "keyring")
	// Creating a member while the keyring is down fails cleanly.
	_, err = s2.NewMember("bob")
	wantErr(t, err, ErrKeyringUnavailable)
	if _, err := s2.Member("bob"); !errors.Is(err, ErrMemberNotFound) {
		t.Errorf("failed NewMember left a record: %v", err)
	}
}

func TestKeyringHomesDoNotCollide(t *testing.T) {
	keyring.MockInit()
	s1, _ := openKeyringStore(t, t.TempDir(), BackendKeyring)
	s2, _ := openKeyringStore(t, t.TempDir(), BackendKeyring)
	m1 := newSeat(t, s1, "alice")
	m2 := newSeat(t, s2, "alice")
	if m1.PublicKey.Equal(m2.PublicKey) || s1.cfg.ID == s2.cfg.ID {
		t.Fatal("two homes share keys or a keystore id")
	}
	if _, err := s1.PrepareRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.CommitRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	rs, err := s2.CheckReadiness()
	if err != nil || len(rs) != 1 || !rs[0].Ready {
		t.Fatalf("the other home after a rotation: %+v, %v", rs, err)
	}
	signer, _ := s2.Signer(seat1("alice"))
	ref, msg := event("EAID", 0, "E0")
	if sig, err := signer.Sign(ref, msg); err != nil || !ed25519.Verify(m2.PublicKey, msg, sig) {
		t.Fatalf("the other home cannot sign: %v", err)
	}
}

func TestKeyringTimeout(t *testing.T) {
	const calls = 2 // the two Opens below probe once each
	release, returned := make(chan struct{}), make(chan struct{}, calls)
	saved, savedTimeout := keyringAPI, keyringTimeout
	defer func() {
		close(release)
		for range calls {
			<-returned
		}
		keyringAPI, keyringTimeout = saved, savedTimeout
	}()
	keyringTimeout = 50 * time.Millisecond
	keyringAPI.get = func(string, string) (string, error) {
		<-release // an unlock prompt nobody answers
		returned <- struct{}{}
		return "", keyring.ErrNotFound
	}

	start := time.Now()
	_, _, err := Open(Options{Home: t.TempDir(), Backend: BackendKeyring, NextDigest: testDigest})
	if !errors.Is(err, ErrKeyringTimeout) || !errors.Is(err, ErrKeyringUnavailable) {
		t.Fatalf("error = %v, want ErrKeyringTimeout wrapped in ErrKeyringUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout took %v", d)
	}
	s, notice := openKeyringStore(t, t.TempDir(), BackendAuto)
	if s.Backend() != BackendFile || !strings.Contains(notice, "did not answer") {
		t.Errorf("auto with a hanging keyring: backend %s, notice %q", s.Backend(), notice)
	}
}
