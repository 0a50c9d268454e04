// Package transport moves keremony packets (event streams to sign,
// signature envelopes, KEL bundles, member cards, other files) between
// devices: as files, through a watched drop folder (DropFolder), or as KC1
// frames for animated QR codes (package qr draws them).
//
// KC1 frames carry one message as a series of short texts made only of QR
// alphanumeric characters, so that every frame is encoded in QR alphanumeric
// mode and can be typed by a keyboard-wedge scanner:
//
//	KC1:<T>/<seq>-<n>/<MID>/<DATA>
//
// T is the message type (see FrameType), n the number of pure fragments,
// seq the 1-based part number (seq <= n: pure fragment seq; seq > n: a
// fountain part mixing fragments chosen by the BC-UR chooser), MID the
// Base32 form of the first 5 bytes of SHA-256(message), and DATA the Base32
// (RFC 4648, no padding) form of one F-byte part of the raw-DEFLATE
// compressed message, zero-padded to n*F bytes. F is a multiple of 5 and is
// not transmitted: a receiver takes it from the length of DATA.
// See qr-transport.md section 3.
//
// The sender side is FrameSequence (EncodeFrames, EncodeFramesFit), the
// receiver side Receiver, which accepts pure and fountain parts in any
// order and solves them by GF(2) elimination. No function prints or exits.
package transport

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Every error returned by this file's and reassembly's
// functions wraps one of them with %w.
var (
	// ErrFrameSyntax: the text is not a KC1 frame (missing header, unknown
	// type, bad numbers, bad Base32, stray characters).
	ErrFrameSyntax = errors.New("malformed kc1 frame")
	// ErrKeyboardLayout: the text looks like a KC1 frame typed through a
	// keyboard wedge on a non-US keyboard layout (for example "KC1Ö",
	// "KC&M", "kc1;", or '-' where '/' belongs).
	ErrKeyboardLayout = errors.New("kc1 frame mangled by the keyboard layout")
	// ErrFrameCount: seq or n out of range (0, n above MaxFragments, seq
	// above 2^32-1).
	ErrFrameCount = errors.New("kc1 frame count out of range")
	// ErrFragmentSize: the DATA length is not a whole number of 8-character
	// Base32 groups, exceeds MaxFragmentSize, or disagrees with the fragment
	// size of the frames already collected for the same message.
	ErrFragmentSize = errors.New("kc1 fragment size invalid")
	// ErrBadChecksum: the reassembled message does not inflate, has
	// non-zero padding, or does not match its MID; or a part contradicts
	// fragments already held.
	ErrBadChecksum = errors.New("kc1 message checksum mismatch")
	// ErrOtherMessage: the frame belongs to another message (another MID,
	// type or fragment layout) than the one being collected.
	ErrOtherMessage = errors.New("kc1 frame belongs to another message")
	// ErrMessageTooLarge: the message exceeds MaxMessageSize, or would need
	// more than MaxFragments frames, or inflates beyond MaxMessageSize.
	ErrMessageTooLarge = errors.New("kc1 message too large")
)

const (
	// Magic is the frame header including its separator.
	Magic = "KC1:"
	// MaxMessageSize is the largest message (uncompressed) a sequence may
	// carry; receivers stop inflating beyond it.
	MaxMessageSize = 1 << 20
	// MaxFragments is the largest n a frame may announce.
	MaxFragments = 4096
	// MaxFragmentSize is the largest F: a frame with it fills a version 40
	// QR code at ECC L (4296 alphanumeric characters) with room for the header.
	MaxFragmentSize = 2660
	// MaxSeq is the largest part number (the chooser seeds with a uint32).
	MaxSeq = 1<<32 - 1
	// maxCompressed bounds n*F: deflate adds at most a few bytes per 64 KiB
	// stored block to incompressible input.
	maxCompressed = MaxMessageSize + 4096
	// midLen is the length of the MID field in characters.
	midLen = 8
)

// FrameType names what a sequence carries.
type FrameType byte

// Frame types (qr-transport.md section 3.1). TypeCard is a keremony
// extension: a member card (a participant's public keys and name) exchanged
// while setting up a group.
const (
	TypeEvents    FrameType = 'E' // event stream to sign (CESR text)
	TypeSignature FrameType = 'S' // signature envelope, signer to coordinator
	TypeKEL       FrameType = 'K' // KEL or context bundle
	TypeFile      FrameType = 'F' // any other file
	TypeCard      FrameType = 'C' // member card
)

// Valid reports whether t is one of the defined types.
func (t FrameType) Valid() bool {
	switch t {
	case TypeEvents, TypeSignature, TypeKEL, TypeFile, TypeCard:
		return true
	}
	return false
}

// String returns the type's letter.
func (t FrameType) String() string {
	if t.Valid() {
		return string(rune(t))
	}
	return fmt.Sprintf("FrameType(%d)", byte(t))
}

// ParseFrameType accepts a type letter in either case.
func ParseFrameType(s string) (FrameType, error) {
	if len(s) == 1 {
		t := FrameType(upper(s[0]))
		if t.Valid() {
			return t, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown message type %q (want E, S, K, F or C)", ErrFrameSyntax, s)
}

// Frame is one parsed KC1 frame.
type Frame struct {
	Type  FrameType
	Seq   uint32 // 1-based part number
	Total int    // n, the number of pure fragments
	MID   string // 8 upper-case Base32 characters
	Data  []byte // one F-byte part
}

// Pure reports whether the frame carries a single fragment (seq <= n).
func (f Frame) Pure() bool { return uint64(f.Seq) <= uint64(f.Total) }

// String returns the canonical (upper-case) text of the frame.
func (f Frame) String() string {
	var b strings.Builder
	b.Grow(24 + b32.EncodedLen(len(f.Data)))
	b.WriteString(Magic)
	b.WriteByte(byte(f.Type))
	b.WriteByte('/')
	b.WriteString(strconv.FormatUint(uint64(f.Seq), 10))
	b.WriteByte('-')
	b.WriteString(strconv.Itoa(f.Total))
	b.WriteByte('/')
	b.WriteString(f.MID)
	b.WriteByte('/')
	b.WriteString(b32.EncodeToString(f.Data))
	return b.String()
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func isB32(c byte) bool { return ('A' <= c && c <= 'Z') || ('2' <= c && c <= '7') }

// ParseFrame parses one frame, ignoring case and surrounding white space
// (a scanner's trailing CR/LF). Errors wrap ErrFrameSyntax,
// ErrKeyboardLayout, ErrFrameCount or ErrFragmentSize.
func ParseFrame(line string) (Frame, error) {
	s := strings.TrimSpace(line)
	if s == "" {
		return Frame{}, fmt.Errorf("%w: empty line", ErrFrameSyntax)
	}
	if err := checkAlphabet(s); err != nil {
		return Frame{}, err
	}
	u := strings.ToUpper(s) // ASCII only at this point
	if !strings.HasPrefix(u, Magic) {
		return Frame{}, headerError(s)
	}
	rest := u[len(Magic):]
	fields := strings.Split(rest, "/")
	if len(fields) != 4 {
		if strings.Count(rest, "/") == 0 && strings.Count(rest, "-") >= 2 {
			return Frame{}, fmt.Errorf("%w: %s: '-' where '/' belongs; the scanner may type with a German (QWERTZ) layout", ErrKeyboardLayout, quoteHead(s))
		}
		return Frame{}, fmt.Errorf("%w: %s: want 4 '/'-separated fields after %q, got %d", ErrFrameSyntax, quoteHead(s), Magic, len(fields))
	}
	var f Frame
	if len(fields[0]) != 1 {
		return Frame{}, fmt.Errorf("%w: %s: type field %q is not one letter", ErrFrameSyntax, quoteHead(s), fields[0])
	}
	f.Type = FrameType(fields[0][0])
	if !f.Type.Valid() {
		return Frame{}, fmt.Errorf("%w: %s: unknown message type %q", ErrFrameSyntax, quoteHead(s), fields[0])
	}
	seqS, totS, ok := strings.Cut(fields[1], "-")
	if !ok {
		return Frame{}, fmt.Errorf("%w: %s: position %q is not seq-n", ErrFrameSyntax, quoteHead(s), fields[1])
	}
	seq, err := parseCount(seqS, "seq", s)
	if err != nil {
		return Frame{}, err
	}
	tot, err := parseCount(totS, "n", s)
	if err != nil {
		return Frame{}, err
	}
	if seq == 0 {
		return Frame{}, fmt.Errorf("%w: %s: seq 0 (parts are numbered from 1)", ErrFrameCount, quoteHead(s))
	}
	if seq > MaxSeq {
		return Frame{}, fmt.Errorf("%w: %s: seq %d above %d", ErrFrameCount, quoteHead(s), seq, uint64(MaxSeq))
	}
	if tot == 0 || tot > MaxFragments {
		return Frame{}, fmt.Errorf("%w: %s: n = %d, want 1 to %d", ErrFrameCount, quoteHead(s), tot, MaxFragments)
	}
	f.Seq, f.Total = uint32(seq), int(tot)
	if len(fields[2]) != midLen || !allB32(fields[2]) {
		return Frame{}, fmt.Errorf("%w: %s: message id %q is not 8 base32 characters", ErrFrameSyntax, quoteHead(s), fields[2])
	}
	f.MID = fields[2]
	data := fields[3]
	if !allB32(data) {
		return Frame{}, fmt.Errorf("%w: %s: data is not base32 (A-Z, 2-7)", ErrFrameSyntax, quoteHead(s))
	}
	if len(data) == 0 || len(data)%8 != 0 {
		return Frame{}, fmt.Errorf("%w: %s: data length %d is not a positive multiple of 8 (truncated frame?)", ErrFragmentSize, quoteHead(s), len(data))
	}
	if len(data)/8*5 > MaxFragmentSize {
		return Frame{}, fmt.Errorf("%w: %s: %d-byte fragment, at most %d allowed", ErrFragmentSize, quoteHead(s), len(data)/8*5, MaxFragmentSize)
	}
	f.Data, err = b32.DecodeString(data)
	if err != nil { // unreachable after the checks above
		return Frame{}, fmt.Errorf("%w: %s: %v", ErrFrameSyntax, quoteHead(s), err)
	}
	if uint64(f.Total-1)*uint64(len(f.Data)) >= maxCompressed {
		return Frame{}, fmt.Errorf("%w: %s: %d fragments of %d bytes exceed %d bytes", ErrMessageTooLarge, quoteHead(s), f.Total, len(f.Data), MaxMessageSize)
	}
	return f, nil
}

// parseCount parses a decimal count without sign or leading zeros.
func parseCount(d, name, line string) (uint64, error) {
	if d == "" {
		return 0, fmt.Errorf("%w: %s: empty %s", ErrFrameSyntax, quoteHead(line), name)
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, fmt.Errorf("%w: %s: %s %q is not a decimal number", ErrFrameSyntax, quoteHead(line), name, d)
		}
	}
	if len(d) > 1 && d[0] == '0' {
		return 0, fmt.Errorf("%w: %s: %s %q has a leading zero", ErrFrameSyntax, quoteHead(line), name, d)
	}
	if len(d) > 10 {
		return 0, fmt.Errorf("%w: %s: %s %q is too large", ErrFrameCount, quoteHead(line), name, d)
	}
	v, _ := strconv.ParseUint(d, 10, 64)
	return v, nil
}

func allB32(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isB32(s[i]) {
			return false
		}
	}
	return true
}

// quoteHead quotes the start of a frame for error messages.
func quoteHead(s string) string {
	const max = 32
	if len(s) > max {
		return fmt.Sprintf("frame %q...", s[:max])
	}
	return fmt.Sprintf("frame %q", s)
}

// layoutChars are characters that a keyboard wedge produces for KC1 text
// only when the host's layout is not US: AZERTY digits (&é"'(è_çà), the
// German Ö/ö/ß/§/ä/ü, and ';' (':' without shift), and UK '@'/'"'.
const layoutChars = "&é\"'(è_çàÖöÄäÜüß§;!@£#)"

// checkAlphabet rejects characters outside the KC1 alphabet, naming a
// keyboard-layout problem when the characters suggest one.
func checkAlphabet(s string) error {
	for i, r := range s {
		ok := r < 0x80 && (('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') || r == ':' || r == '/' || r == '-')
		if ok {
			continue
		}
		if strings.ContainsRune(layoutChars, r) || r >= 0x80 {
			return fmt.Errorf("%w: %s: character %q at offset %d; %s", ErrKeyboardLayout, quoteHead(s), r, i, layoutHint(s))
		}
		return fmt.Errorf("%w: %s: character %q at offset %d is not allowed", ErrFrameSyntax, quoteHead(s), r, i)
	}
	return nil
}

// headerError explains a line that does not start with "KC1:".
func headerError(s string) error {
	u := strings.ToUpper(s)
	switch {
	case strings.HasPrefix(u, "KC1") && len(u) > 3:
		return fmt.Errorf("%w: %s: header %q instead of \"KC1:\"; %s", ErrKeyboardLayout, quoteHead(s), s[:4], layoutHint(s))
	case strings.HasPrefix(u, "KC") && len(u) > 2 && '0' <= u[2] && u[2] <= '9':
		return fmt.Errorf("%w: %s: unsupported frame version %q (want \"KC1:\")", ErrFrameSyntax, quoteHead(s), s[:3])
	case strings.HasPrefix(u, "KC") && len(u) > 2:
		return fmt.Errorf("%w: %s: header %q instead of \"KC1:\"; %s", ErrKeyboardLayout, quoteHead(s), s[:min(4, len(s))], layoutHint(s))
	case strings.HasPrefix(u, "QC") || strings.HasPrefix(u, "KCW"):
		return fmt.Errorf("%w: %s: %s", ErrKeyboardLayout, quoteHead(s), layoutHint(s))
	}
	return fmt.Errorf("%w: %s: does not start with %q", ErrFrameSyntax, quoteHead(s), Magic)
}

// layoutHint guesses the layout from the canary header.
func layoutHint(s string) string {
	switch {
	case strings.ContainsAny(s, "&é\"'(è_çà") || strings.HasPrefix(strings.ToUpper(s), "KC&"):
		return "the scanner seems to type with a French (AZERTY) layout; set the scanner or the host to US English"
	case strings.ContainsAny(s, "ÖöÄäÜüß§"):
		return "the scanner seems to type with a German (QWERTZ) layout; set the scanner or the host to US English"
	case strings.Contains(s, ";"):
		return "':' arrived as ';' (shift lost or inverted: check Caps Lock and the keyboard layout)"
	}
	return "check the scanner's keyboard layout (US English expected)"
}

// ---- encoding ----

// digest returns SHA-256(msg).
func digest(msg []byte) [32]byte { return sha256.Sum256(msg) }

// MessageID returns the MID of a message: Base32 of SHA-256(msg)[0:5].
func MessageID(msg []byte) string {
	d := digest(msg)
	return b32.EncodeToString(d[:5])
}

// midChecksum returns the chooser checksum from a MID: its first 4 bytes.
func midChecksum(mid string) (uint32, error) {
	b, err := b32.DecodeString(mid)
	if err != nil || len(b) != 5 {
		return 0, fmt.Errorf("%w: message id %q", ErrFrameSyntax, mid)
	}
	return binary.BigEndian.Uint32(b), nil
}

// compress returns the raw DEFLATE (RFC 1951) of msg at the best level.
func compress(msg []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression) // level is valid
	w.Write(msg)                                         // bytes.Buffer writes do not fail
	w.Close()
	return buf.Bytes()
}
