package kel

import (
	"fmt"
)

// Indexed signature codes (the indexer table, used inside -A and -B groups).
const (
	CodeSigBoth       = "A"  // Ed25519, index into k and (the same) ondex into prior n
	CodeSigCurrent    = "B"  // Ed25519, current list only
	CodeSigBigBoth    = "2A" // Ed25519, two-character index and ondex
	CodeSigBigCurrent = "2B" // Ed25519, two-character index, no ondex
)

// xizage is one indexer-table row: hard size, soft size (index + ondex
// characters), ondex characters, full size.
type xizage struct {
	hs, ss, os, fs int
}

// indexerCodes maps each code of indexerSizes to itself, as a string that
// belongs to no parsed input.
var indexerCodes = func() map[string]string {
	m := map[string]string{}
	for c := range indexerSizes {
		m[c] = c
	}
	return m
}()

var indexerSizes = map[string]xizage{
	"A": {1, 1, 0, 88}, "B": {1, 1, 0, 88}, // Ed25519
	"C": {1, 1, 0, 88}, "D": {1, 1, 0, 88}, // secp256k1
	"E": {1, 1, 0, 88}, "F": {1, 1, 0, 88}, // secp256r1
	"2A": {2, 4, 2, 92}, "2B": {2, 4, 2, 92},
	"2C": {2, 4, 2, 92}, "2D": {2, 4, 2, 92},
	"2E": {2, 4, 2, 92}, "2F": {2, 4, 2, 92},
	"0A": {2, 2, 1, 156}, "0B": {2, 2, 1, 156}, // Ed448
	"3A": {2, 6, 3, 160}, "3B": {2, 6, 3, 160},
}

// MaxSigIndex is the largest index (and ondex) a big indexed code can carry.
const MaxSigIndex = 64*64 - 1

// Siger is an indexed signature.
type Siger struct {
	Code  string
	Index int // position of the signing key in k
	// Ondex is the position in the prior n of the digest the key fulfils;
	// meaningful only when HasOndex (codes A and 2A; A implies Ondex == Index).
	Ondex    int
	HasOndex bool
	Sig      []byte
}

// NewSiger chooses the code the way keripy and signify-ts do: current-only
// signatures use B (2B from index 64), "both" signatures use A when ondex ==
// index <= 63 and 2A otherwise.
func NewSiger(sig []byte, index, ondex int, currentOnly bool) (Siger, error) {
	if len(sig) != 64 {
		return Siger{}, fmt.Errorf("%w: ed25519 signature of %d bytes", ErrPrimitive, len(sig))
	}
	if index < 0 || index > MaxSigIndex || (!currentOnly && (ondex < 0 || ondex > MaxSigIndex)) {
		return Siger{}, fmt.Errorf("%w: index %d / ondex %d outside 0..%d", ErrIndexOutOfRange, index, ondex, MaxSigIndex)
	}
	s := Siger{Index: index, Sig: sig}
	switch {
	case currentOnly && index < 64:
		s.Code = CodeSigCurrent
	case currentOnly:
		s.Code = CodeSigBigCurrent
	case ondex == index && index < 64:
		s.Code, s.Ondex, s.HasOndex = CodeSigBoth, ondex, true
	default:
		s.Code, s.Ondex, s.HasOndex = CodeSigBigBoth, ondex, true
	}
	return s, nil
}

// Qb64 encodes the signature.
func (s Siger) Qb64() string {
	xs := indexerSizes[s.Code]
	var soft string
	switch s.Code {
	case CodeSigBoth, CodeSigCurrent:
		soft = intToB64(s.Index, 1)
	case CodeSigBigBoth:
		soft = intToB64(s.Index, 2) + intToB64(s.Ondex, 2)
	case CodeSigBigCurrent:
		soft = intToB64(s.Index, 2) + "AA"
	default:
		panic("kel: cannot encode indexed code " + s.Code)
	}
	return encodeQb64(s.Code+soft, sizage{hs: xs.hs, ss: xs.ss, fs: xs.fs}, s.Sig)
}

// ParseSiger reads one indexed signature from the start of s. Codes of other
// algorithms are read (so a stream stays in step) but refused with
// ErrSignatureCode, since keremony's keys are Ed25519.
func ParseSiger(s string) (Siger, int, error) {
	sg, n, _, err := parseSigerInto(s, nil)
	return sg, n, err
}

// minSigerSize is the length of the shortest indexed signature.
const minSigerSize = 88

// parseSigerInto is ParseSiger decoding the signature's bytes onto the end
// of arena (the signatures of one group share an array); it returns the
// arena grown by them.
func parseSigerInto(s string, arena []byte) (Siger, int, []byte, error) {
	sg, n, err := parseSiger(s, &arena)
	return sg, n, arena, err
}

func parseSiger(s string, arena *[]byte) (Siger, int, error) {
	if s == "" {
		return Siger{}, 0, fmt.Errorf("%w: empty indexed signature", ErrTruncated)
	}
	hs := 1
	switch c := s[0]; {
	case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
	case c >= '0' && c <= '9':
		hs = 2
	default:
		return Siger{}, 0, fmt.Errorf("%w: indexed code at %q", ErrUnknownCode, clip(s))
	}
	if len(s) < hs {
		return Siger{}, 0, fmt.Errorf("%w: indexed code", ErrTruncated)
	}
	code := s[:hs]
	xs, ok := indexerSizes[code]
	if !ok {
		return Siger{}, 0, fmt.Errorf("%w: indexed code %q", ErrUnknownCode, code)
	}
	if len(s) < xs.fs {
		return Siger{}, 0, fmt.Errorf("%w: %s signature needs %d characters", ErrTruncated, code, xs.fs)
	}
	cs := xs.hs + xs.ss
	idxChars := xs.ss - xs.os
	index, err := b64ToInt(s[hs : hs+idxChars])
	if err != nil {
		return Siger{}, 0, err
	}
	ondex, err := b64ToInt(s[hs+idxChars : cs])
	if err != nil {
		return Siger{}, 0, err
	}
	at := len(*arena)
	if *arena == nil {
		*arena = make([]byte, 0, sizage{hs: xs.hs, ss: xs.ss, fs: xs.fs}.rawSize())
	}
	*arena, err = appendQb64Raw(*arena, s[cs:xs.fs], cs)
	if err != nil {
		*arena = (*arena)[:at]
		return Siger{}, 0, fmt.Errorf("%w (indexed code %s)", err, code)
	}
	// Capped: the next signature's bytes follow in the arena.
	raw := (*arena)[at:len(*arena):len(*arena)]
	sg := Siger{Code: indexerCodes[code], Index: index, Sig: raw} // not a substring of s: s is not kept
	switch code {
	case CodeSigBoth:
		sg.Ondex, sg.HasOndex = index, true
	case CodeSigCurrent:
	case CodeSigBigBoth:
		sg.Ondex, sg.HasOndex = ondex, true
	case CodeSigBigCurrent:
		if ondex != 0 {
			return Siger{}, 0, fmt.Errorf("%w: 2B signature with a non-zero ondex", ErrPrimitive)
		}
	default:
		return sg, xs.fs, fmt.Errorf("%w: indexed code %s is not ed25519", ErrSignatureCode, code)
	}
	return sg, xs.fs, nil
}
