package keystore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/keremony/keremony/internal/fileio"
)

// JournalEntry is one line of the signing journal: a signature a member made
// (or was about to make when the line was written).
type JournalEntry struct {
	Alias string    `json:"alias"`
	AID   string    `json:"aid,omitempty"`   // event signatures: identifier prefix
	SN    uint64    `json:"sn"`              // event signatures: sequence number
	SAID  string    `json:"said,omitempty"`  // event signatures: event digest
	Key   string    `json:"key,omitempty"`   // event signatures: id of the signing key (older entries: none)
	Proof string    `json:"proof,omitempty"` // proofs: SHA-256 hex of the signed statement
	Time  time.Time `json:"time"`
}

// Journal is the append-only signing journal, one JSON object per line
// (HOME/journal.jsonl). A signature is released only after its line has
// been written and synced, so the journal knows every signature that left
// the keystore.
//
// A crash can leave a torn last line (no newline at the end). It was never
// synced, so its signature was never released: readers ignore it and report
// its size, and the next write truncates it away. Any other unreadable line
// is [ErrCorruptJournal].
//
// Writers hold the journal file's inter-process lock (fileio.Lock) while
// they check the entries and append theirs, so two processes signing with
// one home never interleave: the second waits, or fails with ErrBusy.
type Journal struct {
	path string
	now  func() time.Time
	wait time.Duration
	mu   sync.Mutex
}

// NewJournal returns the journal kept in path; now stamps new entries. The
// file is created on the first write.
func NewJournal(path string, now func() time.Time) *Journal {
	return &Journal{path: path, now: now, wait: DefaultLockWait}
}

// Path is the journal file's name.
func (j *Journal) Path() string { return j.path }

// Record writes that alias signs the event ref, after checking that alias
// has not signed a different SAID at ref's AID and sequence number. Signing
// the same SAID again is allowed (and recorded again).
func (j *Journal) Record(alias string, ref EventRef) error { return j.record(alias, "", ref) }

// record is Record for a signature by the key named key. One key never
// signs two different events at one sequence number of one identifier;
// another key of the member may (a recovery rotation, signed with the
// revealed next key, supersedes interactions the current key signed at its
// sequence number). Entries that name no key conflict with every key.
func (j *Journal) record(alias, key string, ref EventRef) error {
	if ref.AID == "" || ref.SAID == "" {
		return fmt.Errorf("%w: aid %q said %q: both are required", ErrInvalidEventRef, ref.AID, ref.SAID)
	}
	e := JournalEntry{Alias: alias, AID: ref.AID, SN: ref.SN, SAID: ref.SAID, Key: key}
	return j.append(e, func(prev JournalEntry) error {
		if conflicts(prev, alias, key, ref) {
			return fmt.Errorf("%w: member %q already signed %s at sn %d of %s with the same key, refusing to sign %s",
				ErrConflictingSignature, alias, prev.SAID, ref.SN, ref.AID, ref.SAID)
		}
		return nil
	})
}

// conflicts reports whether the journal entry prev forbids alias to sign
// ref with the key named key: the same member signed another event at the
// same identifier and sequence number with the same key (an entry or a
// signature naming no key counts as any key).
func conflicts(prev JournalEntry, alias, key string, ref EventRef) bool {
	sameKey := prev.Key == "" || key == "" || prev.Key == key
	return prev.Alias == alias && prev.Proof == "" && prev.AID == ref.AID && prev.SN == ref.SN && prev.SAID != ref.SAID && sameKey
}

// recordProof writes that alias signs a non-event statement.
func (j *Journal) recordProof(alias string, statement []byte) error {
	sum := sha256.Sum256(statement)
	return j.append(JournalEntry{Alias: alias, Proof: hex.EncodeToString(sum[:])}, nil)
}

// Entries reads the journal. torn is the size in bytes of an incomplete last
// line that was ignored (0 when the journal ends cleanly). A journal that
// does not exist yet is empty.
func (j *Journal) Entries() (entries []JournalEntry, torn int, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	data, err := os.ReadFile(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	entries, good, err := parseJournal(j.path, data)
	return entries, len(data) - good, err
}

// append checks every existing entry with conflict, then appends e and
// syncs. A torn last line is cut off first.
func (j *Journal) append(e JournalEntry, conflict func(JournalEntry) error) error {
	e.Time = j.now().UTC()
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	line = append(line, '\n')

	j.mu.Lock()
	defer j.mu.Unlock()
	_, statErr := os.Stat(j.path)
	unlock, err := fileio.Lock(j.path, j.wait)
	if err != nil {
		return fmt.Errorf("signing journal: %w", err)
	}
	defer unlock()
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	entries, good, err := parseJournal(j.path, data)
	if err != nil {
		return err
	}
	if conflict != nil {
		for _, prev := range entries {
			if err := conflict(prev); err != nil {
				return err
			}
		}
	}
	if good < len(data) {
		if err := f.Truncate(int64(good)); err != nil {
			return err
		}
	}
	if _, err := f.WriteAt(line, int64(good)); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		return fileio.SyncDir(filepath.Dir(j.path))
	}
	return nil
}

// parseJournal parses the complete lines of data; good is the length of the
// prefix they make up (a torn last line starts there).
func parseJournal(name string, data []byte) (entries []JournalEntry, good int, err error) {
	for n := 1; ; n++ {
		i := bytes.IndexByte(data[good:], '\n')
		if i < 0 {
			return entries, good, nil
		}
		line := data[good : good+i]
		if len(bytes.TrimSpace(line)) > 0 {
			e, err := parseJournalLine(line)
			if err != nil {
				return nil, good, fmt.Errorf("%w: %q line %d: %w", ErrCorruptJournal, name, n, err)
			}
			entries = append(entries, e)
		}
		good += i + 1
	}
}

func parseJournalLine(line []byte) (JournalEntry, error) {
	var e JournalEntry
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, err
	}
	if dec.More() {
		return e, errors.New("data after the entry")
	}
	event := e.AID != "" && e.SAID != "" && e.Proof == ""
	proof := e.AID == "" && e.SAID == "" && e.Proof != ""
	if e.Alias == "" || !event && !proof {
		return e, errors.New("entry names neither an event nor a proof")
	}
	return e, nil
}
