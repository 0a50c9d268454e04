package keystore

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func newFileStore(path, pass string) *fileStore {
	return &fileStore{path: path, kdf: cheapKDF, passphrase: passphrase(pass)}
}

func randomSeed(t *testing.T) []byte {
	t.Helper()
	seed := make([]byte, seedSize)
	rand.Read(seed)
	return seed
}

// writeTwoKeys makes a keystore file holding keys "a" and "b".
func writeTwoKeys(t *testing.T, pass string) (path string, a, b []byte) {
	t.Helper()
	path = filepath.Join(t.TempDir(), keystoreName)
	f := newFileStore(path, pass)
	defer f.close()
	a, b = randomSeed(t), randomSeed(t)
	if err := f.store("a", a); err != nil {
		t.Fatal(err)
	}
	if err := f.store("b", b); err != nil {
		t.Fatal(err)
	}
	return path, a, b
}

func TestFileRoundTrip(t *testing.T) {
	path, a, b := writeTwoKeys(t, "correct horse")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("keystore mode = %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if !bytes.HasPrefix(data, []byte("keremony-keystore/v1\n")) {
		t.Errorf("file does not start with the format label: %q", data[:24])
	}
	if bytes.Contains(data, a) || bytes.Contains(data, b) {
		t.Error("file holds a seed in the clear")
	}

	f := newFileStore(path, "correct horse")
	defer f.close()
	for id, want := range map[string][]byte{"a": a, "b": b} {
		got, err := f.load(id)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("load(%s) = %x, %v; want %x", id, got, err, want)
		}
	}
	if err := f.remove("a"); err != nil {
		t.Fatal(err)
	}
	if err := f.remove("a"); err != nil {
		t.Errorf("removing an absent key: %v, want nil", err)
	}
	_, err = newFileStore(path, "correct horse").load("a")
	wantErr(t, err, ErrKeyNotFound)
	got, err := newFileStore(path, "correct horse").load("b")
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("after remove, load(b) = %x, %v", got, err)
	}
}

func TestFileAsksPassphraseOnceAndSaysCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), keystoreName)
	var asked []bool
	ask := func(create bool) ([]byte, error) {
		asked = append(asked, create)
		return []byte("pw"), nil
	}
	f := &fileStore{path: path, kdf: cheapKDF, passphrase: ask}
	for _, id := range []string{"a", "b", "c"} {
		if err := f.store(id, randomSeed(t)); err != nil {
			t.Fatal(err)
		}
	}
	f.close()
	g := &fileStore{path: path, kdf: cheapKDF, passphrase: ask}
	if _, err := g.load("b"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.load("c"); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 2 || asked[0] != true || asked[1] != false {
		t.Errorf("passphrase asked with create = %v, want [true false]", asked)
	}
}

func TestFileWrongPassphrase(t *testing.T) {
	path, _, _ := writeTwoKeys(t, "right")
	_, err := newFileStore(path, "wrong").load("a")
	wantErrText(t, err, ErrIncorrectPassphrase, path)
	// The failed attempt changed nothing.
	if _, err := newFileStore(path, "right").load("a"); err != nil {
		t.Fatalf("right passphrase after a wrong one: %v", err)
	}
}

func TestFileNoPassphrase(t *testing.T) {
	path, _, _ := writeTwoKeys(t, "pw")
	_, err := (&fileStore{path: path, kdf: cheapKDF}).load("a")
	wantErr(t, err, ErrNoPassphrase)
	fail := func(bool) ([]byte, error) { return nil, errors.New("no terminal") }
	_, err = (&fileStore{path: path, kdf: cheapKDF, passphrase: fail}).load("a")
	wantErrText(t, err, ErrNoPassphrase, "no terminal")
}

func TestFileTruncated(t *testing.T) {
	path, _, _ := writeTwoKeys(t, "pw")
	data, _ := os.ReadFile(path)
	for _, n := range []int{0, 1, len(fileMagic) - 1, len(fileMagic), headerSize - 1, headerSize, headerSize + 1, len(data) - 1} {
		if err := os.WriteFile(path, data[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := newFileStore(path, "pw").load("a")
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("file cut to %d of %d bytes: error = %v, want ErrTruncated", n, len(data), err)
		}
	}
}

func TestFileFlippedByte(t *testing.T) {
	path, _, _ := writeTwoKeys(t, "pw")
	data, _ := os.ReadFile(path)
	flip := func(i int) error {
		bad := bytes.Clone(data)
		bad[i] ^= 0x01
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := newFileStore(path, "pw").load("a")
		return err
	}
	// Every header byte: caught by the label check or the header checksum.
	for i := 0; i < headerSize; i++ {
		if err := flip(i); !errors.Is(err, ErrCorruptKeystore) {
			t.Errorf("header byte %d flipped: error = %v, want ErrCorruptKeystore", i, err)
		}
	}
	// Body bytes: the passphrase checks out, the AEAD does not.
	for _, i := range []int{headerSize, headerSize + 7, len(data) - 17, len(data) - 1} {
		err := flip(i)
		if !errors.Is(err, ErrCorruptKeystore) || errors.Is(err, ErrIncorrectPassphrase) {
			t.Errorf("body byte %d flipped: error = %v, want ErrCorruptKeystore", i, err)
		}
	}
	// Trailing garbage is not silently ignored.
	if err := os.WriteFile(path, append(bytes.Clone(data), 0), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := newFileStore(path, "pw").load("a")
	wantErr(t, err, ErrCorruptKeystore)
}

// rewriteHeader edits a file's header and recomputes the checksum, as a
// deliberate attacker (or a bug) would.
func rewriteHeader(t *testing.T, data []byte, edit func(*fileHeader)) []byte {
	t.Helper()
	h, _, body, err := parseFile("test", data)
	if err != nil {
		t.Fatal(err)
	}
	edit(&h)
	return append(h.marshal(), body...)
}

func TestFileDeliberateHeaderEdits(t *testing.T) {
	path, _, _ := writeTwoKeys(t, "pw")
	data, _ := os.ReadFile(path)
	load := func(b []byte) error {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := newFileStore(path, "pw").load("a")
		return err
	}
	// A different salt derives a different key: indistinguishable from a
	// wrong passphrase, as documented.
	err := load(rewriteHeader(t, data, func(h *fileHeader) { h.salt[0] ^= 1 }))
	wantErr(t, err, ErrIncorrectPassphrase)
	// A different nonce passes the passphrase check and fails the AEAD.
	err = load(rewriteHeader(t, data, func(h *fileHeader) { h.nonce[0] ^= 1 }))
	wantErr(t, err, ErrCorruptKeystore)
	// A shorter body length leaves trailing bytes; a longer one a truncation.
	err = load(rewriteHeader(t, data, func(h *fileHeader) { h.bodyLen-- }))
	wantErr(t, err, ErrCorruptKeystore)
	err = load(rewriteHeader(t, data, func(h *fileHeader) { h.bodyLen++ }))
	wantErr(t, err, ErrTruncated)
	err = load(rewriteHeader(t, data, func(h *fileHeader) { h.kdf.Threads = 0 }))
	wantErr(t, err, ErrCorruptKeystore)
}

func TestFileKDFParamsTooHigh(t *testing.T) {
	path, _, _ := writeTwoKeys(t, "pw")
	data, _ := os.ReadFile(path)
	for name, edit := range map[string]func(*fileHeader){
		"t": func(h *fileHeader) { h.kdf.Time = maxKDF.Time + 1 },
		"m": func(h *fileHeader) { h.kdf.MemoryKiB = maxKDF.MemoryKiB + 1 },
		"p": func(h *fileHeader) { h.kdf.Threads = maxKDF.Threads + 1 },
	} {
		if err := os.WriteFile(path, rewriteHeader(t, data, edit), 0o600); err != nil {
			t.Fatal(err)
		}
		asked := false
		f := &fileStore{path: path, kdf: cheapKDF, passphrase: func(bool) ([]byte, error) {
			asked = true
			return []byte("pw"), nil
		}}
		_, err := f.load("a")
		if !errors.Is(err, ErrKDFParamsTooHigh) {
			t.Errorf("%s above the cap: error = %v, want ErrKDFParamsTooHigh", name, err)
		}
		if asked {
			t.Errorf("%s above the cap: the passphrase was asked for before refusing", name)
		}
	}
	// Open refuses to write such a file too.
	_, _, err := Open(Options{Home: t.TempDir(), Backend: BackendFile, NextDigest: testDigest,
		KDF: &KDFParams{Time: 3, MemoryKiB: 2 << 20, Threads: 4}})
	wantErr(t, err, ErrKDFParamsTooHigh)
	_, _, err = Open(Options{Home: t.TempDir(), Backend: BackendFile, NextDigest: testDigest,
		KDF: &KDFParams{Time: 0, MemoryKiB: 64, Threads: 1}})
	wantErr(t, err, ErrInvalidOptions)
}

func TestFileCorruptBodyContent(t *testing.T) {
	// A correctly sealed body whose content is malformed (a bug or a future
	// version) is reported as corrupt, not as a missing key.
	path := filepath.Join(t.TempDir(), keystoreName)
	k := deriveFileKey([]byte("pw"), cheapKDF, [saltSize]byte{1})
	defer k.destroy()
	for name, body := range map[string][]byte{
		"empty":       {},
		"version 2":   {2},
		"short seed":  {1, 1, 'a', 31},
		"cut record":  {1, 5, 'a'},
		"zero-length": {1, 0},
	} {
		data, err := sealFile(k, body)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = newFileStore(path, "pw").load("a")
		if !errors.Is(err, ErrCorruptKeystore) {
			t.Errorf("%s body: error = %v, want ErrCorruptKeystore", name, err)
		}
	}
}

func TestFileCrashDuringWrite(t *testing.T) {
	path, a, _ := writeTwoKeys(t, "pw")
	before, _ := os.ReadFile(path)

	crash := errors.New("simulated crash before rename")
	testOnlyBeforeRename = func(tmp string) error {
		if _, err := os.Stat(tmp); err != nil {
			t.Errorf("temporary file %q not written before the rename: %v", tmp, err)
		}
		return crash
	}
	defer func() { testOnlyBeforeRename = nil }()
	f := newFileStore(path, "pw")
	if err := f.store("c", randomSeed(t)); !errors.Is(err, crash) {
		t.Fatalf("store during a crash: error = %v, want the crash", err)
	}
	if err := f.remove("a"); !errors.Is(err, crash) {
		t.Fatalf("remove during a crash: error = %v, want the crash", err)
	}
	f.close()
	testOnlyBeforeRename = nil

	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("a failed write changed the keystore file")
	}
	g := newFileStore(path, "pw")
	defer g.close()
	if got, err := g.load("a"); err != nil || !bytes.Equal(got, a) {
		t.Fatalf("old file after the crash: load(a) = %x, %v", got, err)
	}
	_, err := g.load("c")
	wantErr(t, err, ErrKeyNotFound)
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries after the failed writes, want only the keystore", len(ents))
	}
}

// BenchmarkDefaultKDF measures what unlocking a real keystore file costs.
func BenchmarkDefaultKDF(b *testing.B) {
	for b.Loop() {
		deriveFileKey([]byte("correct horse battery staple"), DefaultKDF, [saltSize]byte{}).destroy()
	}
}
