package keystore

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keremony/keremony/internal/fileio"
)

// lockName is the home's keystore lock: every change to keystore.json,
// keystore.enc and members/ holds it (see change).
const lockName = ".keystore.lock"

// change runs fn, which reads, changes and writes back the home's keystore
// files, holding this process's mutex and the home's inter-process lock;
// another process holding the lock longer than the wait makes it fail with
// ErrBusy. needKeys unlocks the file backend first, outside the lock, so
// that a passphrase prompt or the key derivation never holds up the other
// processes.
func (s *Store) change(needKeys bool, fn func() error) error {
	if needKeys {
		if err := s.secrets.prepare(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := mkdirHome(s.home); err != nil {
		return err
	}
	unlock, err := fileio.Lock(filepath.Join(s.home, lockName), s.lockWait)
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	defer unlock()
	return fn()
}

// NewMember creates a member with one seat, in no group yet: fresh current
// and next keys from crypto/rand. The seeds go to the backend before the
// record is written, so a crash leaves at worst unreferenced keys, never a
// record without keys.
func (s *Store) NewMember(alias string) (Member, error) {
	if err := CheckAlias(alias); err != nil {
		return Member{}, err
	}
	var m Member
	err := s.change(true, func() error {
		recs, err := s.records()
		if err != nil {
			return err
		}
		for _, rec := range recs {
			// Case-insensitive: member files must not collide on macOS or Windows.
			if strings.EqualFold(rec.Alias, alias) {
				return fmt.Errorf("%w: %q in %q", ErrMemberExists, rec.Alias, s.home)
			}
		}
		if err := s.saveConfig(); err != nil {
			return err
		}
		st, err := s.newSeat(1, "")
		if err != nil {
			return err
		}
		rec := &memberRecord{V: memberV, Alias: alias, Seats: []seatRecord{st}, Created: st.Created}
		if err := s.writeRecord(rec); err != nil {
			return err
		}
		m = rec.member()
		return nil
	})
	return m, err
}

// NewSeat gives member alias a fresh seat, in no group yet, for the group
// named forGroup ("" when unnamed): new current and next keys, which will
// serve that group alone.
func (s *Store) NewSeat(alias, forGroup string) (Seat, error) {
	var out Seat
	err := s.change(true, func() error {
		rec, err := s.recordFor(alias, true)
		if err != nil {
			return err
		}
		st, err := s.newSeat(rec.Seats[len(rec.Seats)-1].N+1, forGroup)
		if err != nil {
			return err
		}
		rec.Seats = append(rec.Seats, st)
		if err := s.writeRecord(rec); err != nil {
			return err
		}
		out = rec.seatView(&rec.Seats[len(rec.Seats)-1])
		return nil
	})
	return out, err
}

// newSeat makes a seat's two keys. Callers hold the lock.
func (s *Store) newSeat(n int, forGroup string) (seatRecord, error) {
	cur, curPub, err := s.newKey()
	if err != nil {
		return seatRecord{}, err
	}
	next, nextPub, err := s.newKey()
	if err != nil {
		return seatRecord{}, err
	}
	return seatRecord{N: n, For: forGroup, Created: s.now().UTC(),
		Current: keyRecord{ID: cur, Public: base64.RawURLEncoding.EncodeToString(curPub)},
		Next:    keyRecord{ID: next, Digest: s.digest(nextPub)}}, nil
}

// SetSeatFor records the group a seat in no group yet is meant for.
func (s *Store) SetSeatFor(ref SeatRef, forGroup string) (Seat, error) {
	return s.changeSeat(ref, false, func(rec *memberRecord, st *seatRecord) error {
		if st.Group != "" {
			return fmt.Errorf("%w: seat %s already serves %s", ErrSeatBound, ref, st.Group)
		}
		st.For = forGroup
		return nil
	})
}

// BindSeat makes a seat serve the identifier prefix, for good. Binding it
// again to the same prefix is a no-op; a seat serving another identifier,
// or a member with another seat in prefix, is ErrSeatBound.
func (s *Store) BindSeat(ref SeatRef, prefix string) (Seat, error) {
	return s.changeSeat(ref, false, func(rec *memberRecord, st *seatRecord) error {
		if st.Group == prefix {
			return nil
		}
		if st.Group != "" {
			return fmt.Errorf("%w: seat %s serves %s, not %s", ErrSeatBound, ref, st.Group, prefix)
		}
		for _, o := range rec.Seats {
			if o.Group == prefix {
				return fmt.Errorf("%w: member %q already sits in %s (seat %d)", ErrSeatBound, rec.Alias, prefix, o.N)
			}
		}
		st.Group = prefix
		return nil
	})
}

// Settle is one identifier that lists the keys of a seat made before
// seats (see SettleSeat).
type Settle struct {
	Prefix string
	// LostCurrent, when set, is the identifier's current key for this
	// seat, whose private key a rotation of another identifier destroyed
	// before seats: the identifier commits the seat's current key as its
	// next key. The seat made for it holds that lost key as current (it
	// cannot sign) and the seat's current key as next, so that a rotation
	// of the identifier can still reveal it.
	LostCurrent ed25519.PublicKey
}

// SettleSeat is for a seat whose keys were made before seats (Legacy):
// groups are the identifiers held on this device that list its keys, in
// the order the device holds them. The seat comes to serve the first; each
// other one gets a seat of its own that holds the same keys (and prepared
// rotation). Shared keys are never destroyed while a seat or an identifier
// still lists them, and each seat's rotations replace them with keys of
// its own. With no group the seat becomes an ordinary seat in no group.
func (s *Store) SettleSeat(ref SeatRef, groups []Settle) ([]Seat, error) {
	var out []Seat
	err := s.change(false, func() error {
		rec, st, err := s.seatOf(ref)
		if err != nil {
			return err
		}
		if !st.Legacy {
			return fmt.Errorf("%w: seat %s is settled already", ErrSeatBound, ref)
		}
		for _, g := range groups {
			for _, o := range rec.Seats {
				if o.Group == g.Prefix {
					return fmt.Errorf("%w: member %q already sits in %s (seat %d)", ErrSeatBound, rec.Alias, g.Prefix, o.N)
				}
			}
		}
		base := *st
		base.Legacy = false
		show := []int{ref.N}
		for i, g := range groups {
			seat := base
			seat.Group = g.Prefix
			if base.Pending != nil {
				pending := *base.Pending
				seat.Pending = &pending
			}
			if g.LostCurrent != nil {
				seat.Pending, seat.Lost = nil, true
				seat.Next = keyRecord{ID: base.Current.ID, Digest: s.digest(st.currentKey())}
				seat.Current = keyRecord{ID: newID(), Public: base64.RawURLEncoding.EncodeToString(g.LostCurrent)}
			}
			if i == 0 {
				*st = seat
				continue
			}
			seat.N, seat.For, seat.Created = rec.Seats[len(rec.Seats)-1].N+1, "", s.now().UTC()
			rec.Seats = append(rec.Seats, seat)
			show = append(show, seat.N)
		}
		if len(groups) == 0 {
			*st = base
		}
		if err := s.writeRecord(rec); err != nil {
			return err
		}
		for i := range rec.Seats {
			if slices.Contains(show, rec.Seats[i].N) {
				out = append(out, rec.seatView(&rec.Seats[i]))
			}
		}
		return nil
	})
	return out, err
}

// changeSeat applies fn to one seat and writes the record.
func (s *Store) changeSeat(ref SeatRef, needKeys bool, fn func(*memberRecord, *seatRecord) error) (Seat, error) {
	return s.changeSeatThen(ref, needKeys, fn, nil)
}

// changeSeatThen is changeSeat with a step after the record is written
// (then may be nil), inside the same change.
func (s *Store) changeSeatThen(ref SeatRef, needKeys bool, fn func(*memberRecord, *seatRecord) error, then func(*memberRecord) error) (Seat, error) {
	var out Seat
	err := s.change(needKeys, func() error {
		rec, err := s.recordFor(ref.Member, needKeys)
		if err != nil {
			return err
		}
		st, err := rec.seat(ref)
		if err != nil {
			return err
		}
		if err := fn(rec, st); err != nil {
			return err
		}
		if err := s.writeRecord(rec); err != nil {
			return err
		}
		out = rec.seatView(st)
		if then != nil {
			return then(rec)
		}
		return nil
	})
	return out, err
}

// Signer returns a signer for a seat's current key.
func (s *Store) Signer(ref SeatRef) (Signer, error) {
	_, st, err := s.seatOf(ref)
	if err != nil {
		return nil, err
	}
	return &memberSigner{s: s, alias: ref.Member, keyID: st.Current.ID, pub: st.currentKey()}, nil
}

// RotationSigner returns a signer for a seat's pre-rotated next key: in
// KERI the rotation event is signed by the keys it reveals. Using it does
// not change the seat; CommitRotation does.
func (s *Store) RotationSigner(ref SeatRef) (Signer, error) {
	_, st, err := s.seatOf(ref)
	if err != nil {
		return nil, err
	}
	pub, err := s.publicKey(st.Next.ID)
	if err != nil {
		return nil, fmt.Errorf("seat %s next key: %w", ref, err)
	}
	return &memberSigner{s: s, alias: ref.Member, keyID: st.Next.ID, pub: pub}, nil
}

// PrepareRotation makes the fresh next key a seat's rotation needs and
// returns the rotation's key material: the revealed next key and the new
// commitment. Calling it again before CommitRotation or AbortRotation
// returns the same values. Until the rotation is committed the seat signs
// as before.
//
// Write order: the fresh seed is stored, then the record names it.
func (s *Store) PrepareRotation(ref SeatRef) (Rotation, error) {
	var rot Rotation
	_, err := s.changeSeat(ref, true, func(rec *memberRecord, st *seatRecord) error {
		newKey, err := s.publicKey(st.Next.ID)
		if err != nil {
			return fmt.Errorf("seat %s next key: %w", ref, err)
		}
		if st.Pending == nil {
			id, pub, err := s.newKey()
			if err != nil {
				return err
			}
			st.Pending = &keyRecord{ID: id, Digest: s.digest(pub)}
		}
		rot = Rotation{NewKey: newKey, NewNextDigest: st.Pending.Digest}
		return nil
	})
	return rot, err
}

// CommitRotation finishes a seat's prepared rotation once its group's
// rotation event is final: the next key becomes current, the prepared key
// becomes next, and the old current key is retired: destroyed unless
// another seat holds it or an identifier held on this device still lists
// it (see SetKeyInUse).
//
// Write order: the record is rewritten first, listing the old key as
// retired; then the key is deleted; then the list is cleared. A crash in
// between leaves a seat that signs with its new keys and a deletion that
// the next change to the member completes.
func (s *Store) CommitRotation(ref SeatRef) (Seat, error) {
	return s.retireSeatKey(ref, "committed", "old", func(rec *memberRecord, st *seatRecord) error {
		if st.Pending == nil {
			return fmt.Errorf("%w for seat %s", ErrNoPendingRotation, ref)
		}
		newCur, err := s.publicKey(st.Next.ID)
		if err != nil {
			return fmt.Errorf("seat %s next key: %w", ref, err)
		}
		if _, err := s.publicKey(st.Pending.ID); err != nil {
			return fmt.Errorf("seat %s prepared key: %w", ref, err)
		}
		rec.Destroy = append(rec.Destroy, st.Current.ID)
		pending := *st.Pending
		st.Current = keyRecord{ID: st.Next.ID, Public: base64.RawURLEncoding.EncodeToString(newCur)}
		st.Next, st.Pending, st.Lost = pending, nil, false
		// A seat split from this one (a home made before seats) prepared
		// the same rotation; it now serves another group, which must not
		// commit this seat's fresh key: its preparation is dropped.
		for i := range rec.Seats {
			if o := &rec.Seats[i]; o.Pending != nil && o.Pending.ID == pending.ID {
				o.Pending = nil
			}
		}
		return nil
	})
}

// AbortRotation abandons a seat's prepared rotation: the prepared key is
// destroyed and the seat keeps its current and next keys.
func (s *Store) AbortRotation(ref SeatRef) (Seat, error) {
	return s.retireSeatKey(ref, "aborted", "prepared", func(rec *memberRecord, st *seatRecord) error {
		if st.Pending == nil {
			return fmt.Errorf("%w for seat %s", ErrNoPendingRotation, ref)
		}
		rec.Destroy = append(rec.Destroy, st.Pending.ID)
		st.Pending = nil
		return nil
	})
}

// retireSeatKey is changeSeat for a change that retires a key (fn lists it
// in rec.Destroy): once the record is written, the retired keys that
// nothing lists any more are destroyed. A failure there leaves the change
// made and the deletion to the next change of the member.
func (s *Store) retireSeatKey(ref SeatRef, done, which string, fn func(*memberRecord, *seatRecord) error) (Seat, error) {
	return s.changeSeatThen(ref, true, fn, func(rec *memberRecord) error {
		if err := s.finishDestroy(rec); err != nil {
			return fmt.Errorf("rotation of seat %s %s, but the %s key is not destroyed yet (retried on the next change): %w", ref, done, which, err)
		}
		return nil
	})
}

// recordFor reads a record for a change and, when the change unlocked the
// keys anyway (withKeys), completes any deletion a crash left unfinished.
// Callers hold the lock.
func (s *Store) recordFor(alias string, withKeys bool) (*memberRecord, error) {
	rec, err := s.record(alias)
	if err != nil || !withKeys {
		return rec, err
	}
	if err := s.finishDestroy(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// finishDestroy deletes the retired keys that nothing lists any more, then
// records what is left: a key a seat of the member holds leaves the list
// (it is in use, not retired), and a key an identifier held here lists
// stays on it, kept until it is not listed. Callers hold the lock.
func (s *Store) finishDestroy(rec *memberRecord) error {
	if len(rec.Destroy) == 0 {
		return nil
	}
	var keep []string
	changed := false
	for _, id := range rec.Destroy {
		switch {
		case rec.uses(id):
			changed = true
		case s.listed(id):
			keep = append(keep, id)
		default:
			if err := s.secrets.remove(id); err != nil {
				return err
			}
			changed = true
		}
	}
	if !changed {
		return nil
	}
	rec.Destroy = keep
	return s.writeRecord(rec)
}

// listed reports whether an identifier held on this device lists the key
// (see SetKeyInUse); a key whose public half cannot be read is not.
func (s *Store) listed(id string) bool {
	if s.inUse == nil {
		return false
	}
	pub, err := s.publicKey(id)
	if err != nil {
		return false
	}
	return s.inUse(pub, s.digest(pub))
}

// SetKeyInUse tells the store how to ask whether an identifier held on
// this device lists a key as a current key (pub) or as a next key (its
// digest): such a key is never destroyed. Without it, no identifier is
// taken to list a retired key.
func (s *Store) SetKeyInUse(inUse func(pub ed25519.PublicKey, digest string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inUse = inUse
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
