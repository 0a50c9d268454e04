package keystore

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Member is the public view of one of this device's seats in a group.
type Member struct {
	Alias      string
	PublicKey  ed25519.PublicKey // current signing key
	NextDigest string            // commitment to the pre-rotated next key
	// PendingNextDigest commits to the fresh next key of a prepared
	// rotation; "" when no rotation is in progress.
	PendingNextDigest string
	Created           time.Time
}

// Rotation is what a member contributes to a rotation event.
type Rotation struct {
	// NewKey is the pre-rotated key the rotation reveals; it becomes the
	// current key when the rotation is committed.
	NewKey ed25519.PublicKey
	// NewNextDigest commits to the fresh next key made for the rotation.
	NewNextDigest string
}

// memberRecord is HOME/members/ALIAS.json: public material and key ids only.
type memberRecord struct {
	V       int        `json:"v"`
	Alias   string     `json:"alias"`
	Current keyRecord  `json:"current"`
	Next    keyRecord  `json:"next"`
	Pending *keyRecord `json:"pending,omitempty"` // fresh next key of a prepared rotation
	Destroy []string   `json:"destroy,omitempty"` // key ids still to be deleted from the backend
	Created time.Time  `json:"created"`
}

// keyRecord names a key in the backend. The current key's public half is
// recorded; next keys are recorded only by their digest, so the next public
// key stays unrevealed until a rotation needs it.
type keyRecord struct {
	ID     string `json:"id"`
	Public string `json:"pub,omitempty"`    // current key: raw public key, base64url
	Digest string `json:"digest,omitempty"` // next keys: commitment
}

// CheckAlias reports whether alias is a valid member alias: 1 to 32
// letters, digits, '-', '_' or '.', and not "." or "..".
func CheckAlias(alias string) error {
	if len(alias) == 0 || len(alias) > 32 || alias == "." || alias == ".." {
		return fmt.Errorf("%w %q: want 1 to 32 letters, digits, '-', '_' or '.'", ErrInvalidAlias, alias)
	}
	for _, c := range []byte(alias) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%w %q: want 1 to 32 letters, digits, '-', '_' or '.'", ErrInvalidAlias, alias)
		}
	}
	return nil
}

// Members lists this home's members, sorted by alias.
func (s *Store) Members() ([]Member, error) {
	recs, err := s.records()
	if err != nil {
		return nil, err
	}
	out := make([]Member, len(recs))
	for i, rec := range recs {
		out[i] = rec.member()
	}
	return out, nil
}

// Member returns one member.
func (s *Store) Member(alias string) (Member, error) {
	rec, err := s.record(alias)
	if err != nil {
		return Member{}, err
	}
	return rec.member(), nil
}

// NewMember creates a member with fresh current and next keys from
// crypto/rand. The seeds go to the backend before the record is written, so
// a crash leaves at worst unreferenced keys, never a record without keys.
func (s *Store) NewMember(alias string) (Member, error) {
	if err := CheckAlias(alias); err != nil {
		return Member{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	recs, err := s.records()
	if err != nil {
		return Member{}, err
	}
	for _, rec := range recs {
		// Case-insensitive: member files must not collide on macOS or Windows.
		if strings.EqualFold(rec.Alias, alias) {
			return Member{}, fmt.Errorf("%w: %q in %q", ErrMemberExists, rec.Alias, s.home)
		}
	}
	if err := s.saveConfig(); err != nil {
		return Member{}, err
	}
	cur, curPub, err := s.newKey()
	if err != nil {
		return Member{}, err
	}
	next, nextPub, err := s.newKey()
	if err != nil {
		return Member{}, err
	}
	rec := &memberRecord{
		V:       memberV,
		Alias:   alias,
		Current: keyRecord{ID: cur, Public: base64.RawURLEncoding.EncodeToString(curPub)},
		Next:    keyRecord{ID: next, Digest: s.digest(nextPub)},
		Created: s.now().UTC(),
	}
	if err := s.writeRecord(rec); err != nil {
		return Member{}, err
	}
	return rec.member(), nil
}

// Signer returns a signer for alias's current key.
func (s *Store) Signer(alias string) (Signer, error) {
	rec, err := s.record(alias)
	if err != nil {
		return nil, err
	}
	return &memberSigner{s: s, alias: alias, keyID: rec.Current.ID, pub: rec.currentKey()}, nil
}

// RotationSigner returns a signer for alias's pre-rotated next key: in KERI
// the rotation event is signed by the keys it reveals. Using it does not
// change the member; CommitRotation does.
func (s *Store) RotationSigner(alias string) (Signer, error) {
	rec, err := s.record(alias)
	if err != nil {
		return nil, err
	}
	pub, err := s.publicKey(rec.Next.ID)
	if err != nil {
		return nil, fmt.Errorf("member %q next key: %w", alias, err)
	}
	return &memberSigner{s: s, alias: alias, keyID: rec.Next.ID, pub: pub}, nil
}

// PrepareRotation makes the fresh next key a rotation needs and returns the
// rotation's key material: the revealed next key and the new commitment.
// Calling it again before CommitRotation or AbortRotation returns the same
// values. Until the rotation is committed the member signs as before.
//
// Write order: the fresh seed is stored, then the record names it.
func (s *Store) PrepareRotation(alias string) (Rotation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.recordForChange(alias)
	if err != nil {
		return Rotation{}, err
	}
	newKey, err := s.publicKey(rec.Next.ID)
	if err != nil {
		return Rotation{}, fmt.Errorf("member %q next key: %w", alias, err)
	}
	if rec.Pending == nil {
		id, pub, err := s.newKey()
		if err != nil {
			return Rotation{}, err
		}
		rec.Pending = &keyRecord{ID: id, Digest: s.digest(pub)}
		if err := s.writeRecord(rec); err != nil {
			return Rotation{}, err
		}
	}
	return Rotation{NewKey: newKey, NewNextDigest: rec.Pending.Digest}, nil
}

// CommitRotation finishes a prepared rotation once the rotation event is
// final: the next key becomes current, the prepared key becomes next, and
// the old current key is destroyed.
//
// Write order: the record is rewritten first, listing the old key for
// destruction; then the key is deleted; then the list is cleared. A crash
// in between leaves a member that signs with its new keys and a deletion
// that the next change to the member completes.
func (s *Store) CommitRotation(alias string) (Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.recordForChange(alias)
	if err != nil {
		return Member{}, err
	}
	if rec.Pending == nil {
		return Member{}, fmt.Errorf("%w for member %q", ErrNoPendingRotation, alias)
	}
	newCur, err := s.publicKey(rec.Next.ID)
	if err != nil {
		return Member{}, fmt.Errorf("member %q next key: %w", alias, err)
	}
	if _, err := s.publicKey(rec.Pending.ID); err != nil {
		return Member{}, fmt.Errorf("member %q prepared key: %w", alias, err)
	}
	rec.Destroy = append(rec.Destroy, rec.Current.ID)
	rec.Current = keyRecord{ID: rec.Next.ID, Public: base64.RawURLEncoding.EncodeToString(newCur)}
	rec.Next = *rec.Pending
	rec.Pending = nil
	if err := s.writeRecord(rec); err != nil {
		return Member{}, err
	}
	if err := s.finishDestroy(rec); err != nil {
		return rec.member(), fmt.Errorf("rotation of member %q committed, but the old key is not destroyed yet (retried on the next change): %w", alias, err)
	}
	return rec.member(), nil
}

// AbortRotation abandons a prepared rotation: the prepared key is destroyed
// and the member keeps its current and next keys.
func (s *Store) AbortRotation(alias string) (Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.recordForChange(alias)
	if err != nil {
		return Member{}, err
	}
	if rec.Pending == nil {
		return Member{}, fmt.Errorf("%w for member %q", ErrNoPendingRotation, alias)
	}
	rec.Destroy = append(rec.Destroy, rec.Pending.ID)
	rec.Pending = nil
	if err := s.writeRecord(rec); err != nil {
		return Member{}, err
	}
	if err := s.finishDestroy(rec); err != nil {
		return rec.member(), fmt.Errorf("rotation of member %q aborted, but the prepared key is not destroyed yet (retried on the next change): %w", alias, err)
	}
	return rec.member(), nil
}

// recordForChange reads a record and completes any deletion a crash left
// unfinished. Callers hold s.mu.
func (s *Store) recordForChange(alias string) (*memberRecord, error) {
	rec, err := s.record(alias)
	if err != nil {
		return nil, err
	}
	if err := s.finishDestroy(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// finishDestroy deletes the keys rec lists for destruction, then records
// that they are gone.
func (s *Store) finishDestroy(rec *memberRecord) error {
	if len(rec.Destroy) == 0 {
		return nil
	}
	for _, id := range rec.Destroy {
		if err := s.secrets.remove(id); err != nil {
			return err
		}
	}
	rec.Destroy = nil
	return s.writeRecord(rec)
}

// newKey makes a seed, stores it and returns its id and public key.
func (s *Store) newKey() (string, ed25519.PublicKey, error) {
	seed := make([]byte, seedSize)
	defer wipe(seed)
	rand.Read(seed)
	id := newID()
	if err := s.secrets.store(id, seed); err != nil {
		return "", nil, err
	}
	priv := ed25519.NewKeyFromSeed(seed)
	defer wipe(priv)
	return id, priv.Public().(ed25519.PublicKey), nil
}

// privateKey loads a key from the backend; the caller wipes it.
func (s *Store) privateKey(id string) (ed25519.PrivateKey, error) {
	seed, err := s.secrets.load(id)
	if err != nil {
		return nil, err
	}
	defer wipe(seed)
	return ed25519.NewKeyFromSeed(seed), nil
}

// publicKey derives a stored key's public half.
func (s *Store) publicKey(id string) (ed25519.PublicKey, error) {
	priv, err := s.privateKey(id)
	if err != nil {
		return nil, err
	}
	defer wipe(priv)
	return priv.Public().(ed25519.PublicKey), nil
}

func (s *Store) memberPath(alias string) string {
	return filepath.Join(s.home, membersName, alias+".json")
}

// records reads every member record, sorted by alias. Files whose names
// start with '.' (temporary files) or do not end in .json are skipped.
func (s *Store) records() ([]*memberRecord, error) {
	ents, err := os.ReadDir(filepath.Join(s.home, membersName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var recs []*memberRecord
	for _, e := range ents {
		alias, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(e.Name(), ".") || e.IsDir() {
			continue
		}
		rec, err := s.record(alias)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	slices.SortFunc(recs, func(a, b *memberRecord) int { return strings.Compare(a.Alias, b.Alias) })
	return recs, nil
}

// record reads and checks one member record.
func (s *Store) record(alias string) (*memberRecord, error) {
	if err := CheckAlias(alias); err != nil {
		return nil, err
	}
	name := s.memberPath(alias)
	data, err := readLimited(name, recordLimit, ErrCorruptRecord)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q in %q", ErrMemberNotFound, alias, s.home)
	}
	if err != nil {
		return nil, err
	}
	rec := new(memberRecord)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(rec); err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrCorruptRecord, name, err)
	}
	if err := rec.check(alias); err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrCorruptRecord, name, err)
	}
	return rec, nil
}

func (s *Store) writeRecord(rec *memberRecord) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.memberPath(rec.Alias), append(data, '\n'), 0o600)
}

func (rec *memberRecord) check(alias string) error {
	validID := func(id string) bool {
		b, err := hex.DecodeString(id)
		return err == nil && len(b) == keyIDSize && hex.EncodeToString(b) == id
	}
	switch {
	case rec.V != memberV:
		return fmt.Errorf("unsupported version %d", rec.V)
	case rec.Alias != alias:
		return fmt.Errorf("alias %q does not match the file name", rec.Alias)
	case !validID(rec.Current.ID) || !validID(rec.Next.ID) || rec.Pending != nil && !validID(rec.Pending.ID):
		return errors.New("bad key id")
	case rec.currentKey() == nil:
		return errors.New("bad current public key")
	case rec.Next.Digest == "" || rec.Pending != nil && rec.Pending.Digest == "":
		return errors.New("missing next key digest")
	}
	for _, id := range rec.Destroy {
		if !validID(id) {
			return errors.New("bad key id")
		}
	}
	return nil
}

// currentKey decodes the current public key, nil if malformed.
func (rec *memberRecord) currentKey() ed25519.PublicKey {
	b, err := base64.RawURLEncoding.Strict().DecodeString(rec.Current.Public)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil
	}
	return b
}

func (rec *memberRecord) member() Member {
	m := Member{Alias: rec.Alias, PublicKey: rec.currentKey(), NextDigest: rec.Next.Digest, Created: rec.Created}
	if rec.Pending != nil {
		m.PendingNextDigest = rec.Pending.Digest
	}
	return m
}
