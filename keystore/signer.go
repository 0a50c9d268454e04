package keystore

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"strings"
)

// ProofPrefix starts every statement SignProof accepts. No KERI event
// serialization (JSON, CBOR or MessagePack) can start with it, so a proof
// signature can never be replayed as an event signature.
const ProofPrefix = "keremony/"

// memberSigner signs with one stored key of one seat. It holds only the
// key's id and public half; the seed is loaded for each signature and wiped
// right after.
type memberSigner struct {
	s     *Store
	alias string
	keyID string
	pub   ed25519.PublicKey
}

var _ Signer = (*memberSigner)(nil)

func (m *memberSigner) PublicKey() ed25519.PublicKey { return bytes.Clone(m.pub) }

// Sign records ref in the journal, then signs msg.
func (m *memberSigner) Sign(ref EventRef, msg []byte) ([]byte, error) {
	return m.s.sign(m.alias, m.keyID, m.pub, msg, func() error {
		return m.s.journal.record(m.alias, m.keyID, ref)
	})
}

// SignEvent is Sign with the event named by plain values, so the signer
// satisfies interfaces of packages that cannot import keystore (ceremony).
func (m *memberSigner) SignEvent(aid string, sn uint64, said string, msg []byte) ([]byte, error) {
	return m.Sign(EventRef{AID: aid, SN: sn, SAID: said}, msg)
}

// SignProof signs a non-event statement with a seat's current key, such as
// the proof of possession on a member card. The statement must start with
// ProofPrefix (else ErrNotAProof); the journal records its SHA-256.
func (s *Store) SignProof(ref SeatRef, statement []byte) ([]byte, error) {
	if !strings.HasPrefix(string(statement), ProofPrefix) {
		return nil, fmt.Errorf("%w: it must start with %q", ErrNotAProof, ProofPrefix)
	}
	_, st, err := s.seatOf(ref)
	if err != nil {
		return nil, err
	}
	return s.sign(ref.Member, st.Current.ID, st.currentKey(), statement, func() error {
		return s.journal.recordProof(ref.Member, statement)
	})
}

// SignProofRevealing signs a statement like SignProof, with the seat's
// next key instead of its current one: for the contribution of a seat
// whose current key was lost (Seat.LostCurrent), which reveals that next
// key anyway.
func (s *Store) SignProofRevealing(ref SeatRef, statement []byte) ([]byte, error) {
	if !strings.HasPrefix(string(statement), ProofPrefix) {
		return nil, fmt.Errorf("%w: it must start with %q", ErrNotAProof, ProofPrefix)
	}
	signer, err := s.RotationSigner(ref)
	if err != nil {
		return nil, err
	}
	m := signer.(*memberSigner)
	return s.sign(ref.Member, m.keyID, m.pub, statement, func() error {
		return s.journal.recordProof(ref.Member, statement)
	})
}

// sign loads the key, checks it is the expected one, writes the journal
// entry and only then signs.
func (s *Store) sign(alias, keyID string, pub ed25519.PublicKey, msg []byte, record func() error) ([]byte, error) {
	priv, err := s.privateKey(keyID)
	if err != nil {
		return nil, fmt.Errorf("member %q: %w", alias, err)
	}
	defer wipe(priv)
	if !pub.Equal(priv.Public()) {
		return nil, fmt.Errorf("%w: member %q key %s", ErrKeyMismatch, alias, keyID)
	}
	if err := record(); err != nil {
		return nil, err
	}
	return ed25519.Sign(priv, msg), nil
}

// wipe zeroes b. It narrows the time a seed sits in memory but cannot
// promise the seed is gone: Go may have copied it (stack growth, the
// keyring's strings, buffers inside libraries) where wiping cannot reach.
func wipe(b []byte) {
	clear(b)
}
