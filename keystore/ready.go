package keystore

import (
	"crypto/subtle"
	"fmt"
)

// Readiness is the result of a recovery drill for one seat.
type Readiness struct {
	Seat  Seat
	Ready bool
	// Err says why the seat is not ready (nil when ready). It never
	// contains a next public key.
	Err error
}

// CheckReadiness proves, locally and for every seat of every member, that
// the keystore holds the current private key matching the recorded public
// key and the next private key whose public key hashes to the recorded
// next digest (and the prepared key of a rotation in progress). The next
// public key is derived, hashed and dropped; it is never returned. err
// reports only a failure to list the members.
func (s *Store) CheckReadiness() ([]Readiness, error) {
	recs, err := s.records()
	if err != nil {
		return nil, err
	}
	var out []Readiness
	for _, rec := range recs {
		for i := range rec.Seats {
			st := &rec.Seats[i]
			err := s.checkSeat(st, st.Next.Digest)
			out = append(out, Readiness{Seat: rec.seatView(st), Ready: err == nil, Err: err})
		}
	}
	return out, nil
}

// CheckNext proves that a seat's next private key hashes to committed, a
// next-key digest taken from elsewhere (such as the group's key event log).
// nil means ready.
func (s *Store) CheckNext(ref SeatRef, committed string) error {
	_, st, err := s.seatOf(ref)
	if err != nil {
		return err
	}
	return s.checkSeat(st, committed)
}

func (s *Store) checkSeat(st *seatRecord, committedNext string) error {
	pub, err := s.publicKey(st.Current.ID)
	if err != nil {
		return fmt.Errorf("current key: %w", err)
	}
	if !pub.Equal(st.currentKey()) {
		return fmt.Errorf("%w: current key %s", ErrKeyMismatch, st.Current.ID)
	}
	if err := s.checkNextKey(st.Next.ID, committedNext); err != nil {
		return fmt.Errorf("next key: %w", err)
	}
	if st.Pending != nil {
		if err := s.checkNextKey(st.Pending.ID, st.Pending.Digest); err != nil {
			return fmt.Errorf("prepared rotation key: %w", err)
		}
	}
	return nil
}

// checkNextKey compares the digest of a stored key's public half with a
// commitment, keeping the public key to itself.
func (s *Store) checkNextKey(id, committed string) error {
	pub, err := s.publicKey(id)
	if err != nil {
		return err
	}
	defer wipe(pub)
	if subtle.ConstantTimeCompare([]byte(s.digest(pub)), []byte(committed)) != 1 {
		return fmt.Errorf("%w %q", ErrNextDigestMismatch, committed)
	}
	return nil
}
