package kel

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"lukechampine.com/blake3"
)

// CESR text-domain (qb64) primitives. Every primitive is a code followed by
// the Base64url text of its raw bytes, left-padded with zero bytes so the
// whole is a multiple of four characters. One table gives each code's sizes;
// one encoder and one decoder serve all of them.

// Matter codes keremony reads and writes.
const (
	CodeEd25519Seed = "A"    // Ed25519 private seed
	CodeEd25519N    = "B"    // Ed25519 public key, non-transferable
	CodeEd25519     = "D"    // Ed25519 public key, transferable
	CodeBlake3_256  = "E"    // Blake3-256 digest
	CodeSalt128     = "0A"   // 128-bit number (Seqner ordinals, salts)
	CodeEd25519Sig  = "0B"   // Ed25519 signature, not indexed
	CodeShort       = "M"    // 2-byte number
	CodeDateTime    = "1AAG" // ISO-8601 date-time in Base64 characters
	CodeBlake3_512  = "0D"   // Blake3-512 digest (recognised, never written)
	CodeBlake2b256  = "F"    // Blake2b-256 digest (recognised, never written)
	CodeSHA3_256    = "H"    // SHA3-256 digest (recognised, never written)
	CodeX25519      = "C"    // X25519 public key (recognised, never written)
)

// sizage is one code-table row, in characters: hard (code) size, soft size,
// full size. The raw size follows from them.
type sizage struct {
	hs, ss, fs int
}

func (s sizage) rawSize() int {
	cs := s.hs + s.ss
	ps := cs % 4
	return (s.fs-cs+ps)*3/4 - ps
}

// matterSizes is the table of fixed-size matter codes keremony knows.
var matterSizes = map[string]sizage{
	"A":    {1, 0, 44},
	"B":    {1, 0, 44},
	"C":    {1, 0, 44},
	"D":    {1, 0, 44},
	"E":    {1, 0, 44},
	"F":    {1, 0, 44},
	"H":    {1, 0, 44},
	"M":    {1, 0, 4},
	"0A":   {2, 0, 24},
	"0B":   {2, 0, 88},
	"0D":   {2, 0, 88},
	"1AAG": {4, 0, 36},
}

// hardSize gives the code length from the first character (the selector).
func matterHardSize(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		return 1
	case c == '0' || c == '4' || c == '5' || c == '6':
		return 2
	case c == '1' || c == '2' || c == '3' || c == '7' || c == '8' || c == '9':
		return 4
	}
	return 0
}

// Matter is one fixed-size primitive: a code and its raw bytes.
type Matter struct {
	Code string
	Raw  []byte
}

// Qb64 encodes m; it panics only on a programming error (unknown code or raw
// of the wrong size), never on input.
func (m Matter) Qb64() string {
	sz, ok := matterSizes[m.Code]
	if !ok || len(m.Raw) != sz.rawSize() || len(m.Code) != sz.hs {
		panic(fmt.Sprintf("kel: cannot encode %d raw bytes with code %q", len(m.Raw), m.Code))
	}
	return encodeQb64(m.Code, sz, m.Raw)
}

// encodeQb64 is the one text encoder: code + b64(pad zeros + raw)[pad:].
// The padded bytes and their text go through arrays on the stack, so the
// only allocation is the result's.
func encodeQb64(code string, sz sizage, raw []byte) string {
	ps := (sz.hs + sz.ss) % 4
	var padded [3 + 64]byte
	var text [(3 + 64 + 2) / 3 * 4]byte
	if ps+len(raw) > len(padded) { // no code of the table has raw this long
		buf := make([]byte, ps+len(raw))
		copy(buf[ps:], raw)
		return code + base64.RawURLEncoding.EncodeToString(buf)[ps:]
	}
	copy(padded[ps:], raw)
	n := base64.RawURLEncoding.EncodedLen(ps + len(raw))
	base64.RawURLEncoding.Encode(text[:n], padded[:ps+len(raw)])
	var sb strings.Builder
	sb.Grow(len(code) + n - ps)
	sb.WriteString(code)
	sb.Write(text[ps:n])
	return sb.String()
}

// decodeQb64Raw is the one text decoder for the part after the code (and
// soft part): it restores the pad, decodes strictly and requires zero pad bits.
func decodeQb64Raw(text string, cs int) ([]byte, error) {
	ps := cs % 4
	b, err := base64.RawURLEncoding.Strict().DecodeString(padA[:ps] + text)
	// The decoder skips line breaks: text holding any is short of bytes.
	if err != nil || len(b) != base64.RawURLEncoding.DecodedLen(ps+len(text)) || len(b) < ps {
		return nil, fmt.Errorf("%w: bad base64url", ErrPrimitive)
	}
	for _, z := range b[:ps] {
		if z != 0 {
			return nil, fmt.Errorf("%w: non-zero pad bits", ErrPrimitive)
		}
	}
	return b[ps:], nil
}

const padA = "AAA"

// appendQb64Raw is decodeQb64Raw appending the raw bytes to dst, without
// allocating when dst has room. Text it cannot read as whole quadlets of
// Base64url characters goes to decodeQb64Raw, which says what is wrong.
func appendQb64Raw(dst []byte, text string, cs int) ([]byte, error) {
	ps := cs % 4
	if (ps+len(text))%4 != 0 {
		raw, err := decodeQb64Raw(text, cs)
		return append(dst, raw...), err
	}
	at := len(dst)
	for pos := -ps; pos < len(text); pos += 4 { // pos < 0: the pad characters
		var v uint32
		for j := pos; j < pos+4; j++ {
			c := byte('A')
			if j >= 0 {
				c = text[j]
			}
			x := b64Index[c]
			if x < 0 {
				raw, err := decodeQb64Raw(text, cs)
				return append(dst[:at], raw...), err
			}
			v = v<<6 | uint32(x)
		}
		q := [3]byte{byte(v >> 16), byte(v >> 8), byte(v)}
		if pos < 0 {
			for _, z := range q[:ps] {
				if z != 0 {
					return dst[:at], fmt.Errorf("%w: non-zero pad bits", ErrPrimitive)
				}
			}
			dst = append(dst, q[ps:]...)
			continue
		}
		dst = append(dst, q[:]...)
	}
	return dst, nil
}

// ParseMatter reads one matter primitive from the start of s and returns it
// with the number of characters consumed.
func ParseMatter(s string) (Matter, int, error) {
	code, raw, n, err := parseMatterInto(nil, s)
	if err != nil {
		return Matter{}, 0, err
	}
	return Matter{Code: code, Raw: raw}, n, nil
}

// parseMatterInto is ParseMatter decoding the raw bytes onto the end of dst
// (into a new array of their size when dst is nil). The code and the bytes
// come apart so that a caller's dst can stay on its stack.
func parseMatterInto(dst []byte, s string) (code string, raw []byte, n int, err error) {
	if s == "" {
		return "", nil, 0, fmt.Errorf("%w: empty primitive", ErrTruncated)
	}
	hs := matterHardSize(s[0])
	if hs == 0 {
		return "", nil, 0, fmt.Errorf("%w: matter code at %q", ErrUnknownCode, clip(s))
	}
	if len(s) < hs {
		return "", nil, 0, fmt.Errorf("%w: matter code %q", ErrTruncated, s)
	}
	code = s[:hs]
	sz, ok := matterSizes[code]
	if !ok {
		return "", nil, 0, fmt.Errorf("%w: matter code %q", ErrUnknownCode, code)
	}
	if len(s) < sz.fs {
		return "", nil, 0, fmt.Errorf("%w: %s needs %d characters", ErrTruncated, code, sz.fs)
	}
	if dst == nil {
		dst = make([]byte, 0, sz.rawSize())
	}
	at := len(dst)
	raw, err = appendQb64Raw(dst, s[hs:sz.fs], hs)
	if err != nil {
		return "", nil, 0, fmt.Errorf("%w (code %s)", err, code)
	}
	return code, raw[at:], sz.fs, nil
}

// DecodeMatter decodes s, which must be exactly one primitive with one of the
// allowed codes (any code when none are given).
func DecodeMatter(s string, codes ...string) (Matter, error) {
	code, raw, err := decodeMatterInto(nil, s, codes...)
	if err != nil {
		return Matter{}, err
	}
	return Matter{Code: code, Raw: raw}, nil
}

// checkMatter is DecodeMatter for a caller that needs only the verdict: the
// raw bytes go to an array on the stack.
func checkMatter(s string, codes ...string) error {
	var buf [64]byte
	_, _, err := decodeMatterInto(buf[:0], s, codes...)
	return err
}

// decodeMatterInto is DecodeMatter decoding as parseMatterInto does.
func decodeMatterInto(dst []byte, s string, codes ...string) (code string, raw []byte, err error) {
	code, raw, n, err := parseMatterInto(dst, s)
	if err != nil {
		return "", nil, err
	}
	if n != len(s) {
		return "", nil, fmt.Errorf("%w: %d trailing characters after %s", ErrPrimitive, len(s)-n, code)
	}
	if len(codes) > 0 && !slices.Contains(codes, code) {
		return "", nil, fmt.Errorf("%w: code %s where %v is expected", ErrUnknownCode, code, slices.Clone(codes))
	}
	return code, raw, nil
}

// EncodeVerKey gives the qb64 text of a transferable Ed25519 public key (D…).
func EncodeVerKey(pub ed25519.PublicKey) string {
	return Matter{Code: CodeEd25519, Raw: pub}.Qb64()
}

// DecodeVerKey decodes a transferable (D) or non-transferable (B) Ed25519
// public key.
func DecodeVerKey(s string) (ed25519.PublicKey, error) {
	m, err := DecodeMatter(s, CodeEd25519, CodeEd25519N)
	if err != nil {
		return nil, err
	}
	return ed25519.PublicKey(m.Raw), nil
}

// EncodeSeed gives the qb64 text of an Ed25519 seed (A…). Only tests and key
// import use it; seeds never enter a KEL.
func EncodeSeed(seed []byte) string {
	return Matter{Code: CodeEd25519Seed, Raw: seed}.Qb64()
}

// Digest gives the qb64 Blake3-256 digest (E…) of data.
func Digest(data []byte) string {
	sum := blake3.Sum256(data)
	return encodeQb64(CodeBlake3_256, matterSizes[CodeBlake3_256], sum[:]) // as Matter.Qb64, the sum on the stack
}

// NextDigest is the pre-rotation commitment to a key: the Blake3-256 digest of
// the key's 44-character qb64 text (not of its raw bytes).
func NextDigest(keyQb64 string) string {
	return Digest([]byte(keyQb64))
}

// EncodeSignature gives the qb64 text of a non-indexed Ed25519 signature (0B…).
func EncodeSignature(sig []byte) string {
	return Matter{Code: CodeEd25519Sig, Raw: sig}.Qb64()
}

// DecodeSignature decodes a non-indexed Ed25519 signature (0B…).
func DecodeSignature(s string) ([]byte, error) {
	m, err := DecodeMatter(s, CodeEd25519Sig)
	if err != nil {
		return nil, err
	}
	return m.Raw, nil
}

// encodeSeqner writes a sequence number as the 24-character 0A number that
// seal source couples use.
func encodeSeqner(sn uint64) string {
	raw := make([]byte, 16)
	for i := 0; i < 8; i++ {
		raw[15-i] = byte(sn >> (8 * i))
	}
	return Matter{Code: CodeSalt128, Raw: raw}.Qb64()
}

// decodeSeqner reads a 0A number that must fit in 64 bits.
func decodeSeqner(m Matter) (uint64, error) {
	if m.Code != CodeSalt128 {
		return 0, fmt.Errorf("%w: sequence number with code %s", ErrPrimitive, m.Code)
	}
	for _, b := range m.Raw[:8] {
		if b != 0 {
			return 0, fmt.Errorf("%w: sequence number above 2^64", ErrPrimitive)
		}
	}
	var sn uint64
	for _, b := range m.Raw[8:] {
		sn = sn<<8 | uint64(b)
	}
	return sn, nil
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// b64Index maps a Base64url character to its value, or -1.
var b64Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(b64Alphabet); i++ {
		t[b64Alphabet[i]] = int8(i)
	}
	return t
}()

// intToB64 writes n as exactly width Base64 digits, most significant first.
func intToB64(n, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = b64Alphabet[n&63]
		n >>= 6
	}
	return string(b)
}

// b64ToInt reads Base64 digits as an unsigned number.
func b64ToInt(s string) (int, error) {
	n := 0
	for i := 0; i < len(s); i++ {
		v := b64Index[s[i]]
		if v < 0 {
			return 0, fmt.Errorf("%w: %q is not a base64 digit", ErrPrimitive, s[i])
		}
		n = n<<6 | int(v)
	}
	return n, nil
}

// clip shortens untrusted text for error messages.
func clip(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}
