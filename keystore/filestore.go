package keystore

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// The encrypted keystore file: one file per home holding every seed.
//
//	offset size  field
//	     0   21  magic "keremony-keystore/v1\n" (format label and version)
//	    21    1  KDF id: 1 = Argon2id
//	    22    4  t, Argon2id passes (big endian)
//	    26    4  m, Argon2id memory in KiB (big endian)
//	    30    1  p, Argon2id lanes
//	    31   16  salt
//	    47   16  passphrase check value
//	    63    1  AEAD id: 1 = XChaCha20-Poly1305
//	    64   24  nonce
//	    88    4  body length in bytes, tag included (big endian)
//	    92   16  header checksum: SHA-256 of bytes 0..91, first 16 bytes
//	   108    …  body: XChaCha20-Poly1305 ciphertext; associated data = bytes 0..107
//
// Argon2id(passphrase, "keremony-keystore/v1" || salt, t, m, p) gives 64
// bytes: the first 32 are the AEAD key, the last 32 the check key. The check
// value is HMAC-SHA256(check key, checkLabel), truncated to 16 bytes.
//
// How failures are told apart, in this order:
//
//   - shorter than the header, or shorter than the header's body length:
//     [ErrTruncated];
//   - wrong magic, header checksum mismatch, unknown ids, zero parameters,
//     trailing bytes: [ErrCorruptKeystore] (the unkeyed checksum catches
//     accidental damage to any header byte, including the salt, parameters
//     and check value, which would otherwise read as a wrong passphrase);
//   - parameters above [maxKDF]: [ErrKDFParamsTooHigh], before any work;
//   - check value mismatch: [ErrIncorrectPassphrase];
//   - AEAD failure after the check value matched: [ErrCorruptKeystore] (the
//     passphrase is right, so the body, nonce or length was modified).
//
// Someone who edits the salt or parameters on purpose and recomputes the
// checksum makes the file read as "incorrect passphrase"; that cannot be told
// apart from a wrong passphrase without knowing the right one, and it
// reveals nothing. The plaintext body is a version byte (1) followed by
// records of: key id length (1 byte), key id, seed length (1 byte), seed.
const (
	fileMagic     = "keremony-keystore/v1\n"
	kdfArgon2id   = 1
	aeadXChaCha   = 1
	saltSize      = 16
	checkSize     = 16
	sumSize       = 16
	headerSize    = len(fileMagic) + 1 + 4 + 4 + 1 + saltSize + checkSize + 1 + chacha20poly1305.NonceSizeX + 4 + sumSize
	maxFileSize   = 16 << 20
	bodyVersion   = 1
	checkLabel    = "keremony-keystore/v1 passphrase check"
	kdfSaltPrefix = "keremony-keystore/v1"
)

// KDFParams are Argon2id's cost parameters.
type KDFParams struct {
	Time      uint32 // passes
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes
}

// DefaultKDF is RFC 9106's second recommended option (t=3, m=64 MiB, p=4):
// 0.33-0.49 s per unlock on a busy 2-vCPU VM (BenchmarkDefaultKDF).
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 << 10, Threads: 4}

// maxKDF caps the work a keystore file may ask for, so a planted file
// cannot make the program hang or exhaust memory.
var maxKDF = KDFParams{Time: 10, MemoryKiB: 1 << 20, Threads: 16}

func (p KDFParams) check() error {
	if p.Time == 0 || p.MemoryKiB == 0 || p.Threads == 0 {
		return fmt.Errorf("%w: argon2id t=%d m=%d p=%d has a zero parameter", ErrCorruptKeystore, p.Time, p.MemoryKiB, p.Threads)
	}
	if p.Time > maxKDF.Time || p.MemoryKiB > maxKDF.MemoryKiB || p.Threads > maxKDF.Threads {
		return fmt.Errorf("%w: argon2id t=%d m=%d KiB p=%d (limit t=%d m=%d KiB p=%d)", ErrKDFParamsTooHigh,
			p.Time, p.MemoryKiB, p.Threads, maxKDF.Time, maxKDF.MemoryKiB, maxKDF.Threads)
	}
	return nil
}

// fileKey is what a passphrase unlocks: the KDF inputs and outputs of one file.
type fileKey struct {
	kdf   KDFParams
	salt  [saltSize]byte
	check [checkSize]byte
	key   []byte // AEAD key, 32 bytes; wiped by destroy
}

// deriveFileKey runs Argon2id and computes the check value.
func deriveFileKey(passphrase []byte, kdf KDFParams, salt [saltSize]byte) *fileKey {
	out := argon2.IDKey(passphrase, append([]byte(kdfSaltPrefix), salt[:]...), kdf.Time, kdf.MemoryKiB, kdf.Threads, 64)
	mac := hmac.New(sha256.New, out[32:])
	mac.Write([]byte(checkLabel))
	k := &fileKey{kdf: kdf, salt: salt, key: out[:32:32]}
	copy(k.check[:], mac.Sum(nil))
	wipe(out[32:])
	return k
}

func (k *fileKey) destroy() { wipe(k.key) }

// fileHeader is the parsed header of a keystore file.
type fileHeader struct {
	kdf     KDFParams
	salt    [saltSize]byte
	check   [checkSize]byte
	nonce   [chacha20poly1305.NonceSizeX]byte
	bodyLen uint32
}

func (h *fileHeader) marshal() []byte {
	b := make([]byte, 0, headerSize)
	b = append(b, fileMagic...)
	b = append(b, kdfArgon2id)
	b = binary.BigEndian.AppendUint32(b, h.kdf.Time)
	b = binary.BigEndian.AppendUint32(b, h.kdf.MemoryKiB)
	b = append(b, h.kdf.Threads)
	b = append(b, h.salt[:]...)
	b = append(b, h.check[:]...)
	b = append(b, aeadXChaCha)
	b = append(b, h.nonce[:]...)
	b = binary.BigEndian.AppendUint32(b, h.bodyLen)
	sum := sha256.Sum256(b)
	return append(b, sum[:sumSize]...)
}

// parseFile splits a keystore file into its header, the raw header bytes
// (the associated data) and the ciphertext body, checking everything that
// can be checked without the passphrase.
func parseFile(name string, data []byte) (fileHeader, []byte, []byte, error) {
	var h fileHeader
	if len(data) < len(fileMagic) && bytes.HasPrefix([]byte(fileMagic), data) {
		return h, nil, nil, fmt.Errorf("%w: %q has %d bytes, less than its label", ErrTruncated, name, len(data))
	}
	if !bytes.HasPrefix(data, []byte(fileMagic)) {
		return h, nil, nil, fmt.Errorf("%w: %q is not a keremony keystore v1 file", ErrCorruptKeystore, name)
	}
	if len(data) < headerSize {
		return h, nil, nil, fmt.Errorf("%w: %q has %d bytes, less than the %d-byte header", ErrTruncated, name, len(data), headerSize)
	}
	raw := data[:headerSize]
	sum := sha256.Sum256(raw[:headerSize-sumSize])
	if subtle.ConstantTimeCompare(sum[:sumSize], raw[headerSize-sumSize:]) != 1 {
		return h, nil, nil, fmt.Errorf("%w: %q header checksum mismatch", ErrCorruptKeystore, name)
	}
	r := raw[len(fileMagic):]
	if r[0] != kdfArgon2id {
		return h, nil, nil, fmt.Errorf("%w: %q unknown kdf id %d", ErrCorruptKeystore, name, r[0])
	}
	h.kdf.Time = binary.BigEndian.Uint32(r[1:])
	h.kdf.MemoryKiB = binary.BigEndian.Uint32(r[5:])
	h.kdf.Threads = r[9]
	r = r[10:]
	r = r[copy(h.salt[:], r):]
	r = r[copy(h.check[:], r):]
	if r[0] != aeadXChaCha {
		return h, nil, nil, fmt.Errorf("%w: %q unknown aead id %d", ErrCorruptKeystore, name, r[0])
	}
	r = r[1:]
	r = r[copy(h.nonce[:], r):]
	h.bodyLen = binary.BigEndian.Uint32(r)
	if err := h.kdf.check(); err != nil {
		return h, nil, nil, fmt.Errorf("%q: %w", name, err)
	}
	body := data[headerSize:]
	switch {
	case h.bodyLen < chacha20poly1305.Overhead || h.bodyLen > maxFileSize:
		return h, nil, nil, fmt.Errorf("%w: %q body length %d out of range", ErrCorruptKeystore, name, h.bodyLen)
	case len(body) < int(h.bodyLen):
		return h, nil, nil, fmt.Errorf("%w: %q body has %d of %d bytes", ErrTruncated, name, len(body), h.bodyLen)
	case len(body) > int(h.bodyLen):
		return h, nil, nil, fmt.Errorf("%w: %q has %d bytes after the body", ErrCorruptKeystore, name, len(body)-int(h.bodyLen))
	}
	return h, raw, body, nil
}

// sealFile encrypts plaintext under k with a fresh nonce and returns the
// whole file.
func sealFile(k *fileKey, plaintext []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(k.key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	h := fileHeader{kdf: k.kdf, salt: k.salt, check: k.check, bodyLen: uint32(len(plaintext) + aead.Overhead())}
	if _, err := io.ReadFull(rand.Reader, h.nonce[:]); err != nil {
		return nil, err
	}
	header := h.marshal()
	return aead.Seal(header, h.nonce[:], plaintext, header), nil
}

// openFile decrypts a keystore file with an unlocked key. The caller wipes
// the returned plaintext.
func openFile(name string, data []byte, k *fileKey) ([]byte, error) {
	h, header, body, err := parseFile(name, data)
	if err != nil {
		return nil, err
	}
	if h.kdf != k.kdf || h.salt != k.salt || subtle.ConstantTimeCompare(h.check[:], k.check[:]) != 1 {
		return nil, fmt.Errorf("%w: %q was re-keyed by another process; open the keystore again", ErrCorruptKeystore, name)
	}
	aead, err := chacha20poly1305.NewX(k.key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	plain, err := aead.Open(nil, h.nonce[:], body, header)
	if err != nil {
		return nil, fmt.Errorf("%w: %q failed authentication (the passphrase is right, so the contents changed)", ErrCorruptKeystore, name)
	}
	return plain, nil
}

// encodeBody and decodeBody convert between the key map and the plaintext.
func encodeBody(keys map[string][]byte) []byte {
	n := 1
	for id, seed := range keys {
		n += 2 + len(id) + len(seed)
	}
	b := make([]byte, 0, n)
	b = append(b, bodyVersion)
	for id, seed := range keys {
		b = append(b, byte(len(id)))
		b = append(b, id...)
		b = append(b, byte(len(seed)))
		b = append(b, seed...)
	}
	return b
}

func decodeBody(name string, b []byte) (map[string][]byte, error) {
	bad := func(what string) (map[string][]byte, error) {
		return nil, fmt.Errorf("%w: %q body: %s", ErrCorruptKeystore, name, what)
	}
	if len(b) == 0 || b[0] != bodyVersion {
		return bad("unknown body version")
	}
	keys := make(map[string][]byte)
	for r := b[1:]; len(r) > 0; {
		n := int(r[0])
		if n == 0 || len(r) < 1+n+1 {
			return bad("bad key id")
		}
		id := string(r[1 : 1+n])
		r = r[1+n:]
		m := int(r[0])
		if m != seedSize || len(r) < 1+m {
			return bad("bad seed for key " + id)
		}
		if _, dup := keys[id]; dup {
			return bad("duplicate key " + id)
		}
		keys[id] = bytes.Clone(r[1 : 1+m])
		r = r[1+m:]
	}
	return keys, nil
}

func wipeKeys(keys map[string][]byte) {
	for _, seed := range keys {
		wipe(seed)
	}
}

// fileStore keeps every seed of a home in one encrypted file. The passphrase
// is asked for (through the callback) on first use only; the derived key is
// kept until close, and each change rewrites the whole file atomically under
// a fresh nonce. store and remove read, change and write the whole file:
// the Store calls them only under the home's lock, so that two processes
// never overwrite each other's keys.
type fileStore struct {
	path       string
	kdf        KDFParams                         // for a new file
	passphrase func(create bool) ([]byte, error) // create: the file does not exist yet

	mu  sync.Mutex
	key *fileKey
}

// readFile reads the keystore file, nil if it does not exist.
func (f *fileStore) readFile() ([]byte, error) {
	data, err := readLimited(f.path, int64(maxFileSize+headerSize), ErrCorruptKeystore)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// unlock derives the key on first use. Callers hold f.mu.
func (f *fileStore) unlock(data []byte) error {
	if f.key != nil {
		return nil
	}
	if f.passphrase == nil {
		return fmt.Errorf("%w for keystore %q", ErrNoPassphrase, f.path)
	}
	create := data == nil
	var h fileHeader
	if !create {
		// Refuse a damaged file or excessive parameters before asking.
		var err error
		if h, _, _, err = parseFile(f.path, data); err != nil {
			return err
		}
	}
	pass, err := f.passphrase(create)
	if err != nil {
		return fmt.Errorf("%w for keystore %q: %w", ErrNoPassphrase, f.path, err)
	}
	defer wipe(pass)
	if create {
		h.kdf = f.kdf
		if _, err := io.ReadFull(rand.Reader, h.salt[:]); err != nil {
			return err
		}
	}
	k := deriveFileKey(pass, h.kdf, h.salt)
	if !create && subtle.ConstantTimeCompare(k.check[:], h.check[:]) != 1 {
		k.destroy()
		return fmt.Errorf("%w for keystore %q", ErrIncorrectPassphrase, f.path)
	}
	f.key = k
	return nil
}

// keys reads, unlocks and decrypts the file. Callers hold f.mu and wipe
// the result with wipeKeys.
func (f *fileStore) keys() (map[string][]byte, error) {
	data, err := f.readFile()
	if err != nil {
		return nil, err
	}
	if err := f.unlock(data); err != nil {
		return nil, err
	}
	if data == nil {
		return map[string][]byte{}, nil
	}
	plain, err := openFile(f.path, data, f.key)
	if err != nil {
		return nil, err
	}
	defer wipe(plain)
	return decodeBody(f.path, plain)
}

func (f *fileStore) write(keys map[string][]byte) error {
	plain := encodeBody(keys)
	defer wipe(plain)
	data, err := sealFile(f.key, plain)
	if err != nil {
		return err
	}
	return writeFileAtomic(f.path, data, 0o600)
}

// prepare unlocks an existing file before a change takes the home's lock,
// so that the passphrase prompt and the key derivation happen outside it. A
// file that does not exist yet is created under the lock, by the first
// store.
func (f *fileStore) prepare() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.key != nil {
		return nil
	}
	data, err := f.readFile()
	if err != nil || data == nil {
		return err
	}
	return f.unlock(data)
}

func (f *fileStore) load(keyID string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	keys, err := f.keys()
	if err != nil {
		return nil, err
	}
	defer wipeKeys(keys)
	seed, ok := keys[keyID]
	if !ok {
		return nil, fmt.Errorf("%w: key %s in %q", ErrKeyNotFound, keyID, f.path)
	}
	return bytes.Clone(seed), nil
}

func (f *fileStore) store(keyID string, seed []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	keys, err := f.keys()
	if err != nil {
		return err
	}
	defer wipeKeys(keys)
	wipe(keys[keyID])
	keys[keyID] = bytes.Clone(seed)
	return f.write(keys)
}

func (f *fileStore) remove(keyID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	keys, err := f.keys()
	if err != nil {
		return err
	}
	defer wipeKeys(keys)
	seed, ok := keys[keyID]
	if !ok {
		return nil
	}
	wipe(seed)
	delete(keys, keyID)
	return f.write(keys)
}

func (f *fileStore) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.key != nil {
		f.key.destroy()
		f.key = nil
	}
}
