package keystore

import "fmt"

// CheckKey proves that a seat can sign now, before anything is recorded:
// the keystore holds the private key of its current key (next: of its
// pre-rotated next key, which a rotation reveals) and it matches the
// seat's record. nil means it can.
func (s *Store) CheckKey(ref SeatRef, next bool) error {
	_, st, err := s.seatOf(ref)
	if err != nil {
		return err
	}
	if next {
		if err := s.checkNextKey(st.Next.ID, st.Next.Digest); err != nil {
			return fmt.Errorf("seat %s next key: %w", ref, err)
		}
		return nil
	}
	pub, err := s.publicKey(st.Current.ID)
	if err != nil {
		return fmt.Errorf("seat %s: %w", ref, err)
	}
	if !pub.Equal(st.currentKey()) {
		return fmt.Errorf("%w: seat %s key %s", ErrKeyMismatch, ref, st.Current.ID)
	}
	return nil
}

// Conflict reports, without writing anything, whether alias already
// signed an event other than ref's at ref's AID and sequence number
// (ErrConflictingSignature, naming the event signed): signing ref would
// then be refused. nil when alias may sign ref. It names no key, so any
// key's signature counts (SignConflict applies the per-key rule).
func (j *Journal) Conflict(alias string, ref EventRef) error { return j.conflict(alias, "", ref) }

func (j *Journal) conflict(alias, key string, ref EventRef) error {
	entries, _, err := j.Entries()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if conflicts(e, alias, key, ref) {
			return fmt.Errorf("%w: member %q already signed %s at sn %d of %s",
				ErrConflictingSignature, alias, e.SAID, ref.SN, ref.AID)
		}
	}
	return nil
}

// SignConflict is Conflict for the signature seat ref would make: with
// its current key, or (next) with the pre-rotated next key a rotation
// reveals. Like the signature itself it is refused only when the same key
// signed another event at ref's sequence number, so the revealed next key
// may sign a recovery rotation at the sn of an interaction the current
// key signed.
func (s *Store) SignConflict(ref SeatRef, next bool, ev EventRef) error {
	_, st, err := s.seatOf(ref)
	if err != nil {
		return err
	}
	key := st.Current.ID
	if next {
		key = st.Next.ID
	}
	return s.journal.conflict(ref.Member, key, ev)
}
