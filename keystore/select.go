package keystore

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Backend names where the seeds are kept.
type Backend string

const (
	// BackendAuto uses the home's recorded backend; for a new home, the OS
	// keyring when it answers, else the encrypted file.
	BackendAuto Backend = "auto"
	// BackendKeyring keeps each seed in the OS keyring.
	BackendKeyring Backend = "keyring"
	// BackendFile keeps all seeds in the home's passphrase-protected file.
	BackendFile Backend = "file"
)

// ParseBackend reads a --keystore value; the empty string means auto.
func ParseBackend(s string) (Backend, error) {
	switch b := Backend(s); b {
	case "":
		return BackendAuto, nil
	case BackendAuto, BackendKeyring, BackendFile:
		return b, nil
	}
	return "", fmt.Errorf("%w %q (want auto, keyring or file)", ErrUnknownBackend, s)
}

// Files in a home, and the sizes and versions of what they hold.
const (
	configName   = "keystore.json" // keystore id and backend
	keystoreName = "keystore.enc"  // the encrypted file backend
	journalName  = "journal.jsonl" // the signing journal
	membersName  = "members"       // one ALIAS.json per member
	keyIDSize    = 16              // random bytes in a key or keystore id
	seedSize     = ed25519.SeedSize
	configV      = 1        // keystore.json version
	memberV      = 2        // member record version: a member with seats
	memberV1     = 1        // member record before seats: one key pair
	configLimit  = 4 << 10  // largest keystore.json read
	recordLimit  = 16 << 10 // largest member record read
)

// Options configure Open.
type Options struct {
	// Home is the data directory (see DefaultHome). Required.
	Home string
	// Backend selects where seeds live; "" means BackendAuto.
	Backend Backend
	// Passphrase is called, at most once and only when the file backend is
	// first used, to get the passphrase; create is true when the keystore
	// file does not exist yet (so a caller can ask twice). The keystore
	// wipes the returned slice.
	Passphrase func(create bool) ([]byte, error)
	// NextDigest commits to a next key (kel's NextDigest of the key's qb64).
	// Required.
	NextDigest DigestFunc
	// Now stamps journal entries and member records; nil means time.Now.
	Now func() time.Time
	// KDF sets Argon2id's cost for a new keystore file; nil means
	// DefaultKDF. Only tests should lower it.
	KDF *KDFParams
	// LockWait bounds the wait for another process changing the home
	// (default DefaultLockWait); past it a change fails with ErrBusy.
	LockWait time.Duration
}

// DefaultLockWait is how long a change waits for another process that is
// changing the same home.
const DefaultLockWait = 10 * time.Second

// DefaultHome is the data directory used when none is given:
// os.UserConfigDir()/keremony (~/.config/keremony on Linux,
// ~/Library/Application Support/keremony on macOS, %AppData%\keremony on
// Windows).
func DefaultHome() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("%w: no home given and %w", ErrInvalidOptions, err)
	}
	return filepath.Join(dir, "keremony"), nil
}

// homeConfig is HOME/keystore.json, written when the first key is stored.
// The id namespaces keyring entries, so several homes share one keyring
// without colliding; the backend pins where this home's keys are.
type homeConfig struct {
	V       int     `json:"v"`
	ID      string  `json:"id"`
	Backend Backend `json:"backend"`
}

// Store is one home: its member records, its signing journal and the backend
// holding its seeds. Methods are safe for use by several goroutines of one
// process.
type Store struct {
	mu       sync.Mutex // serialises changes to records and keys
	lockWait time.Duration
	inUse    func(ed25519.PublicKey, string) bool // see SetKeyInUse
	home     string
	backend  Backend
	cfg      homeConfig
	saved    bool // cfg is on disk
	digest   DigestFunc
	now      func() time.Time
	secrets  secretStore
	journal  *Journal
}

// secretStore is a backend: it keeps seeds by key id.
type secretStore interface {
	// prepare makes the backend ready for changes (the file backend
	// asks for the passphrase of an existing file); called outside the
	// home's lock.
	prepare() error
	load(keyID string) ([]byte, error) // ErrKeyNotFound when absent; the caller wipes the seed
	store(keyID string, seed []byte) error
	remove(keyID string) error // absent is not an error
	close()
}

// Open opens the home named by opts and chooses its backend. notice is a
// one-line message for the user when auto selection fell back to the
// encrypted file because the keyring is unavailable, "" otherwise; the
// caller decides how to show it.
//
// A home whose keys already live in one backend keeps using it: auto picks
// it, and asking for the other one fails with ErrBackendMismatch.
func Open(opts Options) (s *Store, notice string, err error) {
	if opts.Home == "" || opts.NextDigest == nil {
		return nil, "", fmt.Errorf("%w: Home and NextDigest are required", ErrInvalidOptions)
	}
	want, err := ParseBackend(string(opts.Backend))
	if err != nil {
		return nil, "", err
	}
	kdf := DefaultKDF
	if opts.KDF != nil {
		kdf = *opts.KDF
		if kdf.Time == 0 || kdf.MemoryKiB == 0 || kdf.Threads == 0 {
			return nil, "", fmt.Errorf("%w: kdf t=%d m=%d p=%d has a zero parameter", ErrInvalidOptions, kdf.Time, kdf.MemoryKiB, kdf.Threads)
		}
		if err := kdf.check(); err != nil {
			return nil, "", err
		}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	cfg, saved, err := readConfig(opts.Home)
	if err != nil {
		return nil, "", err
	}

	backend := cfg.Backend
	switch {
	case saved && want != BackendAuto && want != backend:
		return nil, "", fmt.Errorf("%w: home %q keeps its keys in the %s backend, not %s", ErrBackendMismatch, opts.Home, backend, want)
	case saved:
		// Use the recorded backend; a keyring problem shows on first use.
	case want == BackendKeyring:
		if err := probeKeyring(cfg.ID); err != nil {
			return nil, "", err
		}
		backend = BackendKeyring
	case want == BackendFile:
		backend = BackendFile
	default:
		backend = BackendKeyring
		if perr := probeKeyring(cfg.ID); perr != nil {
			backend = BackendFile
			notice = fmt.Sprintf("keystore: %v; keeping keys in the passphrase-protected file %s",
				perr, filepath.Join(opts.Home, keystoreName))
		}
	}
	cfg.Backend = backend

	wait := opts.LockWait
	if wait <= 0 {
		wait = DefaultLockWait
	}
	s = &Store{
		lockWait: wait,
		home:     opts.Home,
		backend:  backend,
		cfg:      cfg,
		saved:    saved,
		digest:   opts.NextDigest,
		now:      now,
		journal:  &Journal{path: filepath.Join(opts.Home, journalName), now: now, wait: wait},
	}
	if backend == BackendKeyring {
		s.secrets = keyringStore{id: cfg.ID}
	} else {
		s.secrets = &fileStore{path: filepath.Join(opts.Home, keystoreName), kdf: kdf, passphrase: opts.Passphrase}
	}
	return s, notice, nil
}

// Home is the store's data directory.
func (s *Store) Home() string { return s.home }

// Backend is where the store keeps its seeds (never BackendAuto).
func (s *Store) Backend() Backend { return s.backend }

// Journal is the store's signing journal.
func (s *Store) Journal() *Journal { return s.journal }

// KeystorePath is the encrypted file of the file backend ("" for the keyring).
func (s *Store) KeystorePath() string {
	if f, ok := s.secrets.(*fileStore); ok {
		return f.path
	}
	return ""
}

// Close forgets the file backend's derived key.
func (s *Store) Close() error {
	s.secrets.close()
	return nil
}

// readConfig reads HOME/keystore.json; a missing file gives a fresh
// configuration with a new random id and saved == false.
func readConfig(home string) (cfg homeConfig, saved bool, err error) {
	name := filepath.Join(home, configName)
	data, err := readLimited(name, configLimit, ErrCorruptRecord)
	if errors.Is(err, fs.ErrNotExist) {
		return homeConfig{V: configV, ID: newID()}, false, nil
	}
	if err != nil {
		return cfg, false, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, false, fmt.Errorf("%w: %q: %w", ErrCorruptRecord, name, err)
	}
	id, _ := hex.DecodeString(cfg.ID)
	if cfg.V != configV || len(id) != keyIDSize || hex.EncodeToString(id) != cfg.ID ||
		(cfg.Backend != BackendKeyring && cfg.Backend != BackendFile) {
		return cfg, false, fmt.Errorf("%w: %q: unsupported version, id or backend", ErrCorruptRecord, name)
	}
	return cfg, true, nil
}

// saveConfig writes keystore.json before the first key is stored, so the
// keyring entries' namespace and the backend are never lost. Callers hold
// the lock; a file another process wrote meanwhile wins.
func (s *Store) saveConfig() error {
	if s.saved {
		return nil
	}
	if cfg, saved, err := readConfig(s.home); err != nil {
		return err
	} else if saved {
		if cfg.Backend != s.backend {
			return fmt.Errorf("%w: home %q keeps its keys in the %s backend, not %s", ErrBackendMismatch, s.home, cfg.Backend, s.backend)
		}
		s.cfg, s.saved = cfg, true
		if k, ok := s.secrets.(keyringStore); ok && k.id != cfg.ID {
			s.secrets = keyringStore{id: cfg.ID}
		}
		return nil
	}
	data, err := json.MarshalIndent(s.cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(s.home, configName), append(data, '\n'), 0o600); err != nil {
		return err
	}
	s.saved = true
	return nil
}

// mkdirHome creates the home (mode 0700) if it is missing.
func mkdirHome(home string) error { return os.MkdirAll(home, 0o700) }

// newID returns a random 128-bit id in hex.
func newID() string {
	b := make([]byte, keyIDSize)
	rand.Read(b)
	return hex.EncodeToString(b)
}
