// Package keystore holds this device's private keys and nothing else does.
//
// A member is a person or device of this home, by alias; it sits in each of
// its groups through a seat: a current Ed25519 key and a pre-rotated next
// key that serve that one group's identifier and no other. The public half
// of each seat (its keys, the digest committing to its next key and the
// identifier it serves) lives in the member's small JSON file in the data
// directory ("home"); the 32-byte seeds live only in a backend:
//
//   - the OS keyring (service "keremony", one entry per key, user
//     "<keystore id>/<key id>" so that several homes on one machine never
//     collide), through github.com/zalando/go-keyring, every call bounded by
//     a timeout because an unlock prompt can block; or
//   - one passphrase-protected file, HOME/keystore.enc: Argon2id derives the
//     key for XChaCha20-Poly1305, and the header is the associated data (see
//     filestore.go for the format).
//
// Seeds never leave the package: callers sign through a [Signer], and every
// signature is first recorded, durably, in the signing [Journal], which
// refuses to sign two different events at one sequence number of one
// identifier. Every read-modify-write of the home's keystore files holds an
// inter-process lock, so concurrent processes wait their turn or fail with
// [ErrBusy]. The package works on raw crypto/ed25519 types and imports no
// other keremony package; the caller (package main) supplies the digest
// function that turns a public key into a next-key commitment.
//
// The package never prints and never exits: notices are returned as values.
package keystore

import (
	"crypto/ed25519"
	"errors"

	"github.com/keremony/keremony/internal/fileio"
)

// Sentinel errors; every error the package returns wraps one of them.
var (
	// Backends.
	ErrKeyringUnavailable = errors.New("os keyring unavailable")
	ErrKeyringTimeout     = errors.New("os keyring did not answer in time")
	ErrUnknownBackend     = errors.New("unknown keystore backend")
	ErrBackendMismatch    = errors.New("keys of this home are kept in another backend")
	ErrNoPassphrase       = errors.New("no passphrase available")
	ErrInvalidOptions     = errors.New("invalid keystore options")

	// The encrypted file.
	ErrIncorrectPassphrase = errors.New("incorrect passphrase")
	ErrCorruptKeystore     = errors.New("keystore file is corrupt or was modified")
	ErrTruncated           = errors.New("keystore file is truncated")
	ErrKDFParamsTooHigh    = errors.New("keystore kdf parameters exceed the limit")

	// Members and keys.
	ErrInvalidAlias       = errors.New("invalid member alias")
	ErrMemberExists       = errors.New("member already exists")
	ErrMemberNotFound     = errors.New("no such member")
	ErrCorruptRecord      = errors.New("member record is corrupt")
	ErrKeyNotFound        = errors.New("private key not in the keystore")
	ErrKeyMismatch        = errors.New("private key does not match the member's public key")
	ErrNextDigestMismatch = errors.New("next private key does not match the committed digest")
	ErrNoPendingRotation  = errors.New("no rotation in progress")
	ErrSeatNotFound       = errors.New("no such seat")
	ErrSeatBound          = errors.New("seat serves another group")

	// Another process holds the home's lock (fileio.ErrBusy).
	ErrBusy = fileio.ErrBusy

	// Signing.
	ErrConflictingSignature = errors.New("conflicting signature")
	ErrInvalidEventRef      = errors.New("invalid event reference")
	ErrNotAProof            = errors.New("statement is not a keremony proof")
	ErrCorruptJournal       = errors.New("signing journal is corrupt")
)

// EventRef names the key event a signature is for. The caller (which parses
// KERI) supplies it; the keystore only records and compares it.
type EventRef struct {
	AID  string // identifier prefix of the KEL
	SN   uint64 // sequence number of the event
	SAID string // self-addressing identifier (digest) of the event
}

// Signer signs key events with one private key that never leaves the
// keystore. Every Sign is recorded in the signing journal before the
// signature is returned; signing a different SAID at an AID and sequence
// number the member already signed fails with [ErrConflictingSignature].
type Signer interface {
	// PublicKey is the public half of the signing key.
	PublicKey() ed25519.PublicKey
	// Sign signs msg, the exact serialized event named by ref.
	Sign(ref EventRef, msg []byte) ([]byte, error)
	// SignEvent is Sign with the event reference as plain values; it
	// satisfies ceremony.Signer, which cannot import keystore.
	SignEvent(aid string, sn uint64, said string, msg []byte) ([]byte, error)
}

// DigestFunc commits to a public key: for KERI, the qb64 Blake3-256 digest of
// the key's qb64 text. The keystore treats its result as an opaque string.
type DigestFunc func(ed25519.PublicKey) string
