package keystore

import (
	"bytes"
	"crypto/ed25519"
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

// Member is a person or device of this home, by alias, with its seats:
// one per group it sits in (and fresh seats not in a group yet).
type Member struct {
	Alias   string
	Seats   []Seat // by number
	Created time.Time
	// Retained counts old keys kept, rather than destroyed, because an
	// identifier held on this device still lists them.
	Retained int
}

// SeatRef names one seat: a member and the seat's number (from 1).
type SeatRef struct {
	Member string
	N      int
}

// String is "alice" for a member's first seat, "alice#2" for the others.
func (r SeatRef) String() string {
	if r.N == 1 {
		return r.Member
	}
	return fmt.Sprintf("%s#%d", r.Member, r.N)
}

// Seat is one member's place in one group: its own current key and
// pre-rotated next key, which serve that group's identifier only.
type Seat struct {
	SeatRef
	// Group is the identifier prefix the seat serves; "" while the seat is
	// in no group yet (a fresh seat, whose card may go to a new group).
	Group string
	// For names the group a fresh seat's card was made for ("" when none).
	For               string
	PublicKey         ed25519.PublicKey // current signing key
	NextDigest        string            // commitment to the pre-rotated next key
	PendingNextDigest string            // fresh next key of a prepared rotation; "" when none
	Created           time.Time
	// SharesWith lists the other seats of the member that hold one of this
	// seat's keys: seats split, when a home made before seats was opened,
	// from one key pair that several groups list.
	SharesWith []int
	// Legacy: the key pair was made before seats, and the device has not
	// yet found the groups that list it (see SettleSeat).
	Legacy bool
	// LostCurrent: the seat's current private key was destroyed before
	// seats (a rotation of another identifier that listed the same keys);
	// the seat cannot sign until a rotation of its group reveals its next
	// key, which it still holds.
	LostCurrent bool
}

// Seat finds the member's seat n.
func (m Member) Seat(n int) (Seat, bool) {
	for _, s := range m.Seats {
		if s.N == n {
			return s, true
		}
	}
	return Seat{}, false
}

// Rotation is what a seat contributes to a rotation event.
type Rotation struct {
	// NewKey is the pre-rotated key the rotation reveals; it becomes the
	// current key when the rotation is committed.
	NewKey ed25519.PublicKey
	// NewNextDigest commits to the fresh next key made for the rotation.
	NewNextDigest string
}

// memberRecord is HOME/members/ALIAS.json (version 2): public material and
// key ids only.
type memberRecord struct {
	V       int          `json:"v"`
	Alias   string       `json:"alias"`
	Seats   []seatRecord `json:"seats"`
	Destroy []string     `json:"destroy,omitempty"` // key ids retired: deleted once nothing lists them
	Created time.Time    `json:"created"`
}

// seatRecord is one seat of a member record.
type seatRecord struct {
	N       int        `json:"n"`
	Group   string     `json:"group,omitempty"` // identifier prefix; "" until the seat joins a group
	For     string     `json:"for,omitempty"`   // the group a fresh seat's card was made for
	Current keyRecord  `json:"current"`
	Next    keyRecord  `json:"next"`
	Pending *keyRecord `json:"pending,omitempty"` // fresh next key of a prepared rotation
	Created time.Time  `json:"created"`
	Legacy  bool       `json:"legacy,omitempty"` // made before seats, not settled yet
	Lost    bool       `json:"lost,omitempty"`   // current private key destroyed before seats
}

// recordV1 is a member record written before seats: one key pair, which
// became seat 1 (in no group until the device finds the group that lists
// it; see the device's migration).
type recordV1 struct {
	V       int        `json:"v"`
	Alias   string     `json:"alias"`
	Current keyRecord  `json:"current"`
	Next    keyRecord  `json:"next"`
	Pending *keyRecord `json:"pending,omitempty"`
	Destroy []string   `json:"destroy,omitempty"`
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

// Seats lists every seat of every member, by member and number.
func (s *Store) Seats() ([]Seat, error) {
	ms, err := s.Members()
	if err != nil {
		return nil, err
	}
	var out []Seat
	for _, m := range ms {
		out = append(out, m.Seats...)
	}
	return out, nil
}

// Seat returns one seat.
func (s *Store) Seat(ref SeatRef) (Seat, error) {
	rec, st, err := s.seatOf(ref)
	if err != nil {
		return Seat{}, err
	}
	return rec.seatView(st), nil
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

// record reads and checks one member record; a version 1 record is read
// as a member with one seat, in no group yet.
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
	rec, err := decodeRecord(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrCorruptRecord, name, err)
	}
	if err := rec.check(alias); err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrCorruptRecord, name, err)
	}
	return rec, nil
}

// decodeRecord parses a version 2 record, or a version 1 record as a
// member with one seat.
func decodeRecord(data []byte) (*memberRecord, error) {
	var probe struct {
		V int `json:"v"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, err
	}
	strict := func(v any) error {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		return dec.Decode(v)
	}
	switch probe.V {
	case memberV:
		rec := new(memberRecord)
		return rec, strict(rec)
	case memberV1:
		var old recordV1
		if err := strict(&old); err != nil {
			return nil, err
		}
		return &memberRecord{V: memberV, Alias: old.Alias, Destroy: old.Destroy, Created: old.Created,
			Seats: []seatRecord{{N: 1, Current: old.Current, Next: old.Next, Pending: old.Pending, Created: old.Created, Legacy: true}}}, nil
	}
	return nil, fmt.Errorf("unsupported version %d", probe.V)
}

func (s *Store) writeRecord(rec *memberRecord) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.memberPath(rec.Alias), append(data, '\n'), 0o600)
}

func validID(id string) bool {
	b, err := hex.DecodeString(id)
	return err == nil && len(b) == keyIDSize && hex.EncodeToString(b) == id
}

func (rec *memberRecord) check(alias string) error {
	switch {
	case rec.V != memberV:
		return fmt.Errorf("unsupported version %d", rec.V)
	case rec.Alias != alias:
		return fmt.Errorf("alias %q does not match the file name", rec.Alias)
	case len(rec.Seats) == 0:
		return errors.New("no seat")
	}
	groups := map[string]bool{}
	for i, st := range rec.Seats {
		switch {
		case st.N < 1 || i > 0 && st.N <= rec.Seats[i-1].N:
			return fmt.Errorf("seat numbers out of order at %d", st.N)
		case !validID(st.Current.ID) || !validID(st.Next.ID) || st.Pending != nil && !validID(st.Pending.ID):
			return errors.New("bad key id")
		case st.currentKey() == nil:
			return errors.New("bad current public key")
		case st.Next.Digest == "" || st.Pending != nil && st.Pending.Digest == "":
			return errors.New("missing next key digest")
		case st.Group != "" && groups[st.Group]:
			return fmt.Errorf("two seats in group %s", st.Group)
		}
		groups[st.Group] = st.Group != ""
	}
	for _, id := range rec.Destroy {
		if !validID(id) {
			return errors.New("bad key id")
		}
	}
	return nil
}

// seat finds a seat of the record.
// seatOf reads the record of ref's member and finds the seat in it.
func (s *Store) seatOf(ref SeatRef) (*memberRecord, *seatRecord, error) {
	rec, err := s.record(ref.Member)
	if err != nil {
		return nil, nil, err
	}
	st, err := rec.seat(ref)
	return rec, st, err
}

func (rec *memberRecord) seat(ref SeatRef) (*seatRecord, error) {
	for i := range rec.Seats {
		if rec.Seats[i].N == ref.N {
			return &rec.Seats[i], nil
		}
	}
	return nil, fmt.Errorf("%w: member %q has no seat %d", ErrSeatNotFound, ref.Member, ref.N)
}

// uses reports whether a seat of the record names key id.
func (rec *memberRecord) uses(id string) bool {
	for _, st := range rec.Seats {
		if st.Current.ID == id || st.Next.ID == id || st.Pending != nil && st.Pending.ID == id {
			return true
		}
	}
	return false
}

// currentKey decodes the current public key, nil if malformed.
func (st *seatRecord) currentKey() ed25519.PublicKey {
	b, err := base64.RawURLEncoding.Strict().DecodeString(st.Current.Public)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil
	}
	return b
}

func (st *seatRecord) ids() []string {
	ids := []string{st.Current.ID, st.Next.ID}
	if st.Pending != nil {
		ids = append(ids, st.Pending.ID)
	}
	return ids
}

func (rec *memberRecord) seatView(st *seatRecord) Seat {
	v := Seat{SeatRef: SeatRef{Member: rec.Alias, N: st.N}, Group: st.Group, For: st.For, PublicKey: st.currentKey(),
		NextDigest: st.Next.Digest, Created: st.Created, Legacy: st.Legacy, LostCurrent: st.Lost}
	if st.Pending != nil {
		v.PendingNextDigest = st.Pending.Digest
	}
	mine := st.ids()
	for _, o := range rec.Seats {
		if o.N != st.N && slices.ContainsFunc(o.ids(), func(id string) bool { return slices.Contains(mine, id) }) {
			v.SharesWith = append(v.SharesWith, o.N)
		}
	}
	return v
}

func (rec *memberRecord) member() Member {
	m := Member{Alias: rec.Alias, Created: rec.Created}
	for i := range rec.Seats {
		m.Seats = append(m.Seats, rec.seatView(&rec.Seats[i]))
	}
	for _, id := range rec.Destroy {
		if !rec.uses(id) {
			m.Retained++
		}
	}
	return m
}
