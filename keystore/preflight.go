package keystore

import "fmt"

// CheckKey proves that member alias can sign now, before anything is
// recorded: the keystore holds the private key of its current key (next:
// of its pre-rotated next key, which a rotation reveals) and it matches
// the member's record. nil means it can.
func (s *Store) CheckKey(alias string, next bool) error {
	rec, err := s.record(alias)
	if err != nil {
		return err
	}
	if next {
		if err := s.checkNextKey(rec.Next.ID, rec.Next.Digest); err != nil {
			return fmt.Errorf("member %q next key: %w", alias, err)
		}
		return nil
	}
	pub, err := s.publicKey(rec.Current.ID)
	if err != nil {
		return fmt.Errorf("member %q: %w", alias, err)
	}
	if !pub.Equal(rec.currentKey()) {
		return fmt.Errorf("%w: member %q key %s", ErrKeyMismatch, alias, rec.Current.ID)
	}
	return nil
}

// Conflict reports, without writing anything, whether alias already
// signed an event other than ref's at ref's AID and sequence number
// (ErrConflictingSignature, naming the event signed): signing ref would
// then be refused. nil when alias may sign ref.
func (j *Journal) Conflict(alias string, ref EventRef) error {
	entries, _, err := j.Entries()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Alias == alias && e.Proof == "" && e.AID == ref.AID && e.SN == ref.SN && e.SAID != ref.SAID {
			return fmt.Errorf("%w: member %q already signed %s at sn %d of %s",
				ErrConflictingSignature, alias, e.SAID, ref.SN, ref.AID)
		}
	}
	return nil
}
