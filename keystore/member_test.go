package keystore

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewMemberAndList(t *testing.T) {
	home := t.TempDir()
	s := openFileStore(t, home, "pw")
	if ms, err := s.Members(); err != nil || len(ms) != 0 {
		t.Fatalf("empty home: Members = %v, %v", ms, err)
	}
	if _, err := os.Stat(filepath.Join(home, configName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("listing an empty home wrote %s (err %v)", configName, err)
	}
	bob := newSeat(t, s, "bob")
	alice := newSeat(t, s, "alice")
	ms, err := s.Members()
	if err != nil || len(ms) != 2 || ms[0].Alias != "alice" || ms[1].Alias != "bob" {
		t.Fatalf("Members = %+v, %v; want alice, bob", ms, err)
	}
	if !ms[0].Seats[0].PublicKey.Equal(alice.PublicKey) || ms[1].Seats[0].NextDigest != bob.NextDigest || len(alice.PublicKey) != ed25519.PublicKeySize {
		t.Errorf("listed members differ from the created ones")
	}
	if alice.PublicKey.Equal(bob.PublicKey) || alice.NextDigest == bob.NextDigest {
		t.Error("two members share a key")
	}
	// The next digest commits to the key RotationSigner uses.
	rs, err := s.RotationSigner(seat1("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if testDigest(rs.PublicKey()) != alice.NextDigest {
		t.Error("next digest does not commit to the next key")
	}
	// Public records only: no seed in the data directory except inside the encrypted file.
	fi, err := os.Stat(filepath.Join(home, membersName, "alice.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("member record: %v, %v", fi, err)
	}
	rec, _ := s.record("alice")
	for _, id := range []string{rec.Seats[0].Current.ID, rec.Seats[0].Next.ID} {
		seed, err := s.secrets.load(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{filepath.Join(home, membersName, "alice.json"), filepath.Join(home, configName)} {
			data, _ := os.ReadFile(name)
			for _, enc := range []string{string(seed), hex.EncodeToString(seed), base64.StdEncoding.EncodeToString(seed), base64.RawURLEncoding.EncodeToString(seed)} {
				if strings.Contains(string(data), enc) {
					t.Errorf("%s contains a seed", name)
				}
			}
		}
	}
	// The next public key is not recorded in the clear.
	data, _ := os.ReadFile(filepath.Join(home, membersName, "alice.json"))
	if bytes.Contains(data, []byte(base64.RawURLEncoding.EncodeToString(rs.PublicKey()))) {
		t.Error("member record reveals the next public key")
	}
	cfg, saved, err := readConfig(home)
	if err != nil || !saved || cfg.Backend != BackendFile {
		t.Errorf("keystore.json = %+v, saved %v, %v", cfg, saved, err)
	}
}

func TestMemberBadInput(t *testing.T) {
	s := openFileStore(t, t.TempDir(), "pw")
	for _, alias := range []string{"", strings.Repeat("a", 33), "a/b", "..", ".", "é", "a b", "a\x1b[31m"} {
		_, err := s.NewMember(alias)
		wantErr(t, err, ErrInvalidAlias)
	}
	if _, err := s.NewMember(strings.Repeat("a", 32)); err != nil {
		t.Errorf("32-character alias: %v", err)
	}
	if _, err := s.NewMember("a-b_c.1"); err != nil {
		t.Errorf("alias with - _ .: %v", err)
	}
	if _, err := s.NewMember("alice"); err != nil {
		t.Fatal(err)
	}
	_, err := s.NewMember("alice")
	wantErrText(t, err, ErrMemberExists, "alice")
	_, err = s.NewMember("ALICE")
	wantErrText(t, err, ErrMemberExists, "alice")
	_, err = s.Seat(seat1("carol"))
	wantErrText(t, err, ErrMemberNotFound, "carol")
	_, err = s.Signer(seat1("carol"))
	wantErr(t, err, ErrMemberNotFound)
	_, err = s.PrepareRotation(seat1("carol"))
	wantErr(t, err, ErrMemberNotFound)
	_, err = s.CommitRotation(seat1("alice"))
	wantErrText(t, err, ErrNoPendingRotation, "alice")
	_, err = s.AbortRotation(seat1("alice"))
	wantErr(t, err, ErrNoPendingRotation)
}

func TestCorruptRecord(t *testing.T) {
	home := t.TempDir()
	s := openFileStore(t, home, "pw")
	if _, err := s.NewMember("alice"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, membersName, "alice.json")
	good, _ := os.ReadFile(path)
	for name, bad := range map[string]string{
		"not json":      "{",
		"unknown field": strings.Replace(string(good), `"v": 2,`, `"v": 2, "extra": true,`, 1),
		"other alias":   strings.Replace(string(good), `"alias": "alice"`, `"alias": "bob"`, 1),
		"version":       strings.Replace(string(good), `"v": 2,`, `"v": 3,`, 1),
		"no seat":       `{"v": 2, "alias": "alice", "seats": [], "created": "2026-01-01T00:00:00Z"}`,
		"seat number":   strings.Replace(string(good), `"n": 1,`, `"n": 0,`, 1),
		"bad key":       strings.Replace(string(good), `"pub": "`, `"pub": "!`, 1),
	} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Seat(seat1("alice")); !errors.Is(err, ErrCorruptRecord) {
			t.Errorf("%s: error = %v, want ErrCorruptRecord", name, err)
		}
	}
}

func TestSignerSignsAfterJournaling(t *testing.T) {
	s := openFileStore(t, t.TempDir(), "pw")
	m := newSeat(t, s, "alice")
	signer, err := s.Signer(seat1("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if !signer.PublicKey().Equal(m.PublicKey) {
		t.Fatal("signer key differs from the member's current key")
	}
	ref, msg := event("EAID", 1, "Eone")
	sig, err := signer.Sign(ref, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(m.PublicKey, msg, sig) {
		t.Fatal("signature does not verify")
	}
	entries, _, _ := s.Journal().Entries()
	if len(entries) != 1 || entries[0].SAID != "Eone" || entries[0].Alias != "alice" {
		t.Fatalf("journal = %+v, want the signature recorded", entries)
	}
	// A different event at the same sn: refused, and no signature.
	ref2, msg2 := event("EAID", 1, "Edifferent")
	sig, err = signer.Sign(ref2, msg2)
	wantErrText(t, err, ErrConflictingSignature, "Eone", "Edifferent")
	if sig != nil {
		t.Error("a refused signature was returned")
	}
	// The same event again: allowed.
	if sig, err = signer.Sign(ref, msg); err != nil || !ed25519.Verify(m.PublicKey, msg, sig) {
		t.Fatalf("signing the same SAID again: %v", err)
	}
	wantErr(t, func() error { _, err := signer.Sign(EventRef{AID: "EAID"}, msg); return err }(), ErrInvalidEventRef)
}

func TestSignProof(t *testing.T) {
	s := openFileStore(t, t.TempDir(), "pw")
	m := newSeat(t, s, "alice")
	for _, bad := range []string{`{"v":"KERI10JSON000000_"}`, "", "keremony"} {
		_, err := s.SignProof(seat1("alice"), []byte(bad))
		wantErr(t, err, ErrNotAProof)
	}
	stmt := []byte("keremony/member-card\nv=1\n")
	sig, err := s.SignProof(seat1("alice"), stmt)
	if err != nil || !ed25519.Verify(m.PublicKey, stmt, sig) {
		t.Fatalf("SignProof: %v", err)
	}
	entries, _, _ := s.Journal().Entries()
	if len(entries) != 1 || len(entries[0].Proof) != 64 || entries[0].AID != "" {
		t.Fatalf("journal = %+v, want one proof entry", entries)
	}
}

func TestRotationLifecycle(t *testing.T) {
	s := openFileStore(t, t.TempDir(), "pw")
	before := newSeat(t, s, "alice")
	oldRec, _ := s.record("alice")
	oldSigner, _ := s.Signer(seat1("alice"))

	rot, err := s.PrepareRotation(seat1("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if testDigest(rot.NewKey) != before.NextDigest {
		t.Fatal("the revealed key does not match the committed next digest")
	}
	if again, err := s.PrepareRotation(seat1("alice")); err != nil || !again.NewKey.Equal(rot.NewKey) || again.NewNextDigest != rot.NewNextDigest {
		t.Fatalf("second PrepareRotation = %+v, %v; want the same rotation", again, err)
	}
	// Until the commit, the member signs as before.
	m, _ := s.Seat(seat1("alice"))
	if !m.PublicKey.Equal(before.PublicKey) || m.NextDigest != before.NextDigest || m.PendingNextDigest != rot.NewNextDigest {
		t.Fatalf("member during the rotation = %+v", m)
	}
	ref, msg := event("EAID", 1, "Eixn")
	if sig, err := oldSigner.Sign(ref, msg); err != nil || !ed25519.Verify(before.PublicKey, msg, sig) {
		t.Fatalf("signing during the rotation: %v", err)
	}
	// The rotation event is signed with the revealed key.
	rs, _ := s.RotationSigner(seat1("alice"))
	ref, msg = event("EAID", 2, "Erot")
	if sig, err := rs.Sign(ref, msg); err != nil || !ed25519.Verify(rot.NewKey, msg, sig) {
		t.Fatalf("signing the rotation: %v", err)
	}

	after, err := s.CommitRotation(seat1("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if !after.PublicKey.Equal(rot.NewKey) || after.NextDigest != rot.NewNextDigest || after.PendingNextDigest != "" {
		t.Fatalf("member after the commit = %+v", after)
	}
	// The old current key is destroyed; a signer made before cannot sign.
	_, err = s.secrets.load(oldRec.Seats[0].Current.ID)
	wantErr(t, err, ErrKeyNotFound)
	ref, msg = event("EAID", 3, "Eafter")
	_, err = oldSigner.Sign(ref, msg)
	wantErr(t, err, ErrKeyNotFound)
	cur, _ := s.Signer(seat1("alice"))
	if sig, err := cur.Sign(ref, msg); err != nil || !ed25519.Verify(rot.NewKey, msg, sig) {
		t.Fatalf("signing after the commit: %v", err)
	}
	rs, _ = s.RotationSigner(seat1("alice"))
	if testDigest(rs.PublicKey()) != rot.NewNextDigest {
		t.Fatal("the new next key does not match its digest")
	}
	_, err = s.CommitRotation(seat1("alice"))
	wantErr(t, err, ErrNoPendingRotation)
}

func TestAbortRotation(t *testing.T) {
	s := openFileStore(t, t.TempDir(), "pw")
	before := newSeat(t, s, "alice")
	if _, err := s.PrepareRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	rec, _ := s.record("alice")
	pendingID := rec.Seats[0].Pending.ID
	after, err := s.AbortRotation(seat1("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if !after.PublicKey.Equal(before.PublicKey) || after.NextDigest != before.NextDigest || after.PendingNextDigest != "" {
		t.Fatalf("member after abort = %+v, want it unchanged", after)
	}
	_, err = s.secrets.load(pendingID)
	wantErr(t, err, ErrKeyNotFound)
	signer, _ := s.Signer(seat1("alice"))
	ref, msg := event("EAID", 1, "E1")
	if sig, err := signer.Sign(ref, msg); err != nil || !ed25519.Verify(before.PublicKey, msg, sig) {
		t.Fatalf("signing after abort: %v", err)
	}
	// A new rotation makes a new prepared key.
	rot, err := s.PrepareRotation(seat1("alice"))
	if err != nil || testDigest(rot.NewKey) != before.NextDigest {
		t.Fatalf("prepare after abort: %+v, %v", rot, err)
	}
}

// failingRemove is a backend whose deletions fail, like a crash between
// rewriting a record and deleting a key.
type failingRemove struct {
	secretStore
	err error
}

func (f failingRemove) remove(string) error { return f.err }

func TestCommitRotationCrashBeforeDelete(t *testing.T) {
	s := openFileStore(t, t.TempDir(), "pw")
	if _, err := s.NewMember("alice"); err != nil {
		t.Fatal(err)
	}
	oldRec, _ := s.record("alice")
	rot, err := s.PrepareRotation(seat1("alice"))
	if err != nil {
		t.Fatal(err)
	}
	real := s.secrets
	crash := errors.New("simulated crash")
	s.secrets = failingRemove{real, crash}
	_, err = s.CommitRotation(seat1("alice"))
	if !errors.Is(err, crash) || !strings.Contains(err.Error(), "committed") {
		t.Fatalf("commit with a failing delete: error = %v", err)
	}
	s.secrets = real
	// The member is rotated; the old key is still listed for destruction.
	rec, _ := s.record("alice")
	if rec.Seats[0].Current.ID != oldRec.Seats[0].Next.ID || len(rec.Destroy) != 1 || rec.Destroy[0] != oldRec.Seats[0].Current.ID {
		t.Fatalf("record after the crash = %+v", rec)
	}
	signer, _ := s.Signer(seat1("alice"))
	ref, msg := event("EAID", 5, "E5")
	if sig, err := signer.Sign(ref, msg); err != nil || !ed25519.Verify(rot.NewKey, msg, sig) {
		t.Fatalf("signing after the crash: %v", err)
	}
	// The next change completes the destruction.
	if _, err := s.PrepareRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	_, err = s.secrets.load(oldRec.Seats[0].Current.ID)
	wantErr(t, err, ErrKeyNotFound)
	if rec, _ := s.record("alice"); len(rec.Destroy) != 0 {
		t.Fatalf("destroy list not cleared: %v", rec.Destroy)
	}
}

func TestPrepareRotationCrashBeforeRecord(t *testing.T) {
	home := t.TempDir()
	s := openFileStore(t, home, "pw")
	before := newSeat(t, s, "alice")
	crash := errors.New("simulated crash")
	record := filepath.Join(home, membersName, "alice.json")
	testOnlyBeforeRename = func(tmp string) error {
		if strings.Contains(tmp, "alice.json") {
			return crash
		}
		return nil
	}
	defer func() { testOnlyBeforeRename = nil }()
	_, err := s.PrepareRotation(seat1("alice"))
	wantErr(t, err, crash)
	testOnlyBeforeRename = nil
	if _, err := os.Stat(record); err != nil {
		t.Fatal(err)
	}
	m, _ := s.Seat(seat1("alice"))
	if !m.PublicKey.Equal(before.PublicKey) || m.PendingNextDigest != "" {
		t.Fatalf("member after a crashed prepare = %+v, want it unchanged", m)
	}
	signer, _ := s.Signer(seat1("alice"))
	ref, msg := event("EAID", 1, "E1")
	if _, err := signer.Sign(ref, msg); err != nil {
		t.Fatalf("signing after a crashed prepare: %v", err)
	}
}

func TestCheckReadiness(t *testing.T) {
	home := t.TempDir()
	s := openFileStore(t, home, "pw")
	for _, a := range []string{"alice", "bob", "carol"} {
		if _, err := s.NewMember(a); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := s.CheckReadiness()
	if err != nil || len(rs) != 3 {
		t.Fatalf("CheckReadiness = %v, %v", rs, err)
	}
	for _, r := range rs {
		if !r.Ready || r.Err != nil {
			t.Errorf("%s not ready on a fresh home: %v", r.Seat.Member, r.Err)
		}
	}
	if _, err := s.PrepareRotation(seat1("carol")); err != nil {
		t.Fatal(err)
	}
	// bob loses his next key; alice's record commits to another digest.
	bobRec, _ := s.record("bob")
	if err := s.secrets.remove(bobRec.Seats[0].Next.ID); err != nil {
		t.Fatal(err)
	}
	aliceRec, _ := s.record("alice")
	alicePub, _ := s.publicKey(aliceRec.Seats[0].Next.ID)
	aliceRec.Seats[0].Next.Digest = testDigest(make(ed25519.PublicKey, 32))
	if err := s.writeRecord(aliceRec); err != nil {
		t.Fatal(err)
	}

	rs, err = s.CheckReadiness()
	if err != nil || len(rs) != 3 {
		t.Fatalf("CheckReadiness = %v, %v", rs, err)
	}
	if rs[0].Seat.Member != "alice" || rs[0].Ready {
		t.Errorf("alice = %+v, want not ready", rs[0])
	}
	wantErr(t, rs[0].Err, ErrNextDigestMismatch)
	if rs[1].Seat.Member != "bob" || rs[1].Ready {
		t.Errorf("bob = %+v, want not ready", rs[1])
	}
	wantErr(t, rs[1].Err, ErrKeyNotFound)
	if rs[2].Seat.Member != "carol" || !rs[2].Ready {
		t.Errorf("carol (rotation prepared) = %+v, want ready", rs[2])
	}
	// The report never reveals the next public key.
	for _, enc := range []string{hex.EncodeToString(alicePub), base64.RawURLEncoding.EncodeToString(alicePub), base64.StdEncoding.EncodeToString(alicePub)} {
		if strings.Contains(rs[0].Err.Error(), enc) {
			t.Error("readiness error reveals the next public key")
		}
	}
	// CheckNext against a digest from elsewhere (e.g. the group KEL).
	carol, _ := s.Seat(seat1("carol"))
	if err := s.CheckNext(seat1("carol"), carol.NextDigest); err != nil {
		t.Errorf("CheckNext(carol, her digest): %v", err)
	}
	wantErr(t, s.CheckNext(seat1("carol"), "Eother"), ErrNextDigestMismatch)
}

func TestStoreWrongPassphrase(t *testing.T) {
	home := t.TempDir()
	s := openFileStore(t, home, "right")
	if _, err := s.NewMember("alice"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	asked := 0
	s2, _, err := Open(Options{Home: home, Passphrase: func(bool) ([]byte, error) {
		asked++
		return []byte("wrong"), nil
	}, NextDigest: testDigest, KDF: &cheapKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Backend() != BackendFile {
		t.Fatalf("auto on a file home chose %s", s2.Backend())
	}
	// Listing needs no passphrase.
	if ms, err := s2.Members(); err != nil || len(ms) != 1 || asked != 0 {
		t.Fatalf("Members = %v, %v (asked %d times)", ms, err, asked)
	}
	signer, _ := s2.Signer(seat1("alice"))
	ref, msg := event("EAID", 0, "E0")
	_, err = signer.Sign(ref, msg)
	wantErr(t, err, ErrIncorrectPassphrase)
	if entries, _, _ := s2.Journal().Entries(); len(entries) != 0 {
		t.Error("a signature that could not be made was journaled")
	}
}

func TestOpenOptions(t *testing.T) {
	_, err := ParseBackend("vault")
	wantErrText(t, err, ErrUnknownBackend, "vault")
	for _, b := range []string{"", "auto", "keyring", "file"} {
		if _, err := ParseBackend(b); err != nil {
			t.Errorf("ParseBackend(%q): %v", b, err)
		}
	}
	_, _, err = Open(Options{Home: t.TempDir()})
	wantErr(t, err, ErrInvalidOptions)
	_, _, err = Open(Options{NextDigest: testDigest})
	wantErr(t, err, ErrInvalidOptions)
	_, _, err = Open(Options{Home: t.TempDir(), NextDigest: testDigest, Backend: "vault"})
	wantErr(t, err, ErrUnknownBackend)

	// A home that keeps its keys in the file refuses --keystore=keyring.
	home := t.TempDir()
	s := openFileStore(t, home, "pw")
	if _, err := s.NewMember("alice"); err != nil {
		t.Fatal(err)
	}
	_, _, err = Open(Options{Home: home, Backend: BackendKeyring, NextDigest: testDigest})
	wantErrText(t, err, ErrBackendMismatch, "file", "keyring")
	if err := os.WriteFile(filepath.Join(home, configName), []byte(`{"v":1,"id":"zz","backend":"file"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = Open(Options{Home: home, NextDigest: testDigest})
	wantErr(t, err, ErrCorruptRecord)
}
