package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// Packets are the messages devices exchange during a ceremony. Each is
// self-describing and versioned, and is the same bytes whether it travels as
// a file, through a drop folder or as KC1 frames:
//
//   - JSON packets are one JSON object with "type":"keremony/…" and "v":1:
//     the member card (card.go), a rotation contribution, a proposal, a
//     signature envelope and an abort record (packet_kinds.go);
//   - event streams (a finalized event, a whole KEL) are plain KERI CESR
//     text, which other KERI tools read as they are.
//
// Sniff tells the kinds apart; ParsePacket (or the parser of one kind)
// checks a packet strictly: a size limit per kind, exactly the kind's
// fields (case-sensitive, once each, nothing after the object), version 1,
// and every value's encoding.

// PacketType names a kind of packet. JSON packets use their "type" value.
type PacketType string

const (
	PacketCard         PacketType = CardType // member card
	PacketContribution PacketType = ceremony.ContributionType
	PacketProposal     PacketType = ceremony.ProposalType
	PacketSignatures   PacketType = "keremony/signatures"
	PacketAbort        PacketType = "keremony/abort"
	// PacketCESR is a KERI CESR text stream: events with their attachments
	// (a finalized event, or a KEL). It has no envelope.
	PacketCESR PacketType = "cesr"
)

// PacketVersion is the version ("v") of every JSON packet this program
// writes and reads.
const PacketVersion = 1

// Size limits per kind. A packet larger than its kind's limit is refused
// before it is parsed (ErrPacketTooLarge).
const (
	MaxContributionSize = 4 << 10
	MaxSignaturesSize   = 64 << 10
	MaxAbortSize        = 4 << 10
	// MaxProposalSize covers the proposal itself (at most 4 MiB, the
	// ceremony's limit) and the KELs it carries.
	MaxProposalSize = 8 << 20
	MaxCESRSize     = 64 << 20
	// MaxPacketSize is the largest packet of any kind.
	MaxPacketSize = MaxCESRSize
	// MaxReasonSize bounds an abort reason, MaxLabelSize a member label.
	MaxReasonSize = 500
	MaxLabelSize  = 64
)

// Sentinel errors of the packet parsers; every error they return wraps one
// of these (member card errors additionally wrap the card's own sentinels).
var (
	// ErrPacketTooLarge: larger than the kind's limit.
	ErrPacketTooLarge = errors.New("packet too large")
	// ErrUnsupportedPacketVersion: a "v" this program does not read.
	ErrUnsupportedPacketVersion = errors.New("unsupported packet version")
	// ErrUnknownPacket: neither a keremony JSON packet nor a KERI CESR
	// stream, or a "type" this program does not know.
	ErrUnknownPacket = errors.New("not a keremony packet")
	// ErrWrongPacketType: a valid kind, but not the one asked for.
	ErrWrongPacketType = errors.New("wrong packet type")
	// ErrMalformedPacket: bad JSON, unknown, missing or repeated fields,
	// values of the wrong type or encoding, or a stream that does not parse.
	ErrMalformedPacket = errors.New("malformed packet")
	// ErrBadPacketSignature: a contribution or abort record whose signature
	// does not verify.
	ErrBadPacketSignature = errors.New("packet signature does not verify")
)

// Packet is any parsed packet.
type Packet interface {
	// PacketType is the packet's kind.
	PacketType() PacketType
	// Marshal writes the packet's canonical bytes.
	Marshal() []byte
}

// Known reports whether t is a kind this program reads.
func (t PacketType) Known() bool {
	switch t {
	case PacketCard, PacketContribution, PacketProposal, PacketSignatures, PacketAbort, PacketCESR:
		return true
	}
	return false
}

// MaxSize is the size limit of the kind (0 for an unknown kind).
func (t PacketType) MaxSize() int {
	switch t {
	case PacketCard:
		return MaxCardSize
	case PacketContribution:
		return MaxContributionSize
	case PacketSignatures:
		return MaxSignaturesSize
	case PacketAbort:
		return MaxAbortSize
	case PacketProposal:
		return MaxProposalSize
	case PacketCESR:
		return MaxCESRSize
	}
	return 0
}

// FrameType is the KC1 frame type that carries the kind: E for a proposal
// (the event to sign), S for a signature envelope, K for an event stream
// (a finalized event or a KEL), C for a member card and F for the others
// (contributions, abort records). The frame type is a hint for the user;
// a receiver sniffs the reassembled bytes.
func (t PacketType) FrameType() FrameType {
	switch t {
	case PacketProposal:
		return TypeEvents
	case PacketSignatures:
		return TypeSignature
	case PacketCESR:
		return TypeKEL
	case PacketCard:
		return TypeCard
	}
	return TypeFile
}

// Describe names the kind in words, for messages.
func (t PacketType) Describe() string {
	switch t {
	case PacketCard:
		return "member card"
	case PacketContribution:
		return "rotation contribution"
	case PacketProposal:
		return "proposal"
	case PacketSignatures:
		return "signature envelope"
	case PacketAbort:
		return "abort record"
	case PacketCESR:
		return "KERI event stream (CESR)"
	}
	return fmt.Sprintf("unknown packet %q", clipText(string(t)))
}

// cesrStart is how every KERI 1.0 JSON event, and so every CESR stream of
// them, begins.
const cesrStart = `{"v":"KERI10JSON`

// Sniff recognises a packet's kind: a CESR stream by its first event's
// version string, a JSON packet by its "type". It checks the kind's size
// limit but not the rest of the packet (ParsePacket does).
func Sniff(b []byte) (PacketType, error) {
	if len(b) > MaxPacketSize {
		return "", fmt.Errorf("%w: %d bytes, no packet is larger than %d", ErrPacketTooLarge, len(b), MaxPacketSize)
	}
	rest := bytes.TrimLeft(b, " \t\r\n")
	var t PacketType
	switch {
	case len(rest) == 0:
		return "", fmt.Errorf("%w: empty input", ErrUnknownPacket)
	case bytes.HasPrefix(rest, []byte(cesrStart)):
		t = PacketCESR
	case rest[0] == '{':
		s, err := sniffType(rest)
		if err != nil {
			return "", err
		}
		t = PacketType(s)
		if !t.Known() || t == PacketCESR {
			return "", fmt.Errorf("%w: type %q", ErrUnknownPacket, clipText(s))
		}
	default:
		return "", fmt.Errorf("%w: starts with %q, neither a json packet nor a keri event stream", ErrUnknownPacket, clipText(string(rest[:min(len(rest), 16)])))
	}
	if len(b) > t.MaxSize() {
		return "", fmt.Errorf("%w: %s of %d bytes, the limit is %d", ErrPacketTooLarge, t.Describe(), len(b), t.MaxSize())
	}
	return t, nil
}

// sniffType finds the "type" string of a JSON object.
func sniffType(b []byte) (string, error) {
	fields, _, err := objectFields(b)
	if err != nil {
		// A JSON object that does not parse is no packet we can name.
		return "", fmt.Errorf("%w: %w", ErrUnknownPacket, err)
	}
	raw, ok := fields["type"]
	if !ok {
		return "", fmt.Errorf("%w: json object without a \"type\"", ErrUnknownPacket)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%w: \"type\" is not a string", ErrUnknownPacket)
	}
	return s, nil
}

// ParsePacket sniffs the kind and parses the packet strictly.
func ParsePacket(b []byte) (Packet, error) {
	t, err := Sniff(b)
	if err != nil {
		return nil, err
	}
	return parseKind(b, t)
}

// ParsePacketAs parses a packet that must be of kind want; another valid
// kind gives ErrWrongPacketType.
func ParsePacketAs(b []byte, want PacketType) (Packet, error) {
	t, err := Sniff(b)
	if err != nil {
		return nil, err
	}
	if t != want {
		return nil, wrongType(t, want)
	}
	return parseKind(b, t)
}

func wrongType(got, want PacketType) error {
	return fmt.Errorf("%w: a %s, want a %s", ErrWrongPacketType, got.Describe(), want.Describe())
}

func parseKind(b []byte, t PacketType) (Packet, error) {
	switch t {
	case PacketCard:
		c, err := ParseCard(b)
		if err != nil {
			return nil, cardPacketError(err)
		}
		return c, nil
	case PacketContribution:
		return ParseContribution(b)
	case PacketProposal:
		return ParseProposal(b)
	case PacketSignatures:
		return ParseSignatures(b)
	case PacketAbort:
		return ParseAbort(b)
	case PacketCESR:
		return ParseCESR(b)
	}
	return nil, fmt.Errorf("%w: type %q", ErrUnknownPacket, clipText(string(t)))
}

// cardPacketError adds the packet sentinel matching a card error.
func cardPacketError(err error) error {
	switch {
	case errors.Is(err, ErrCardTooLarge):
		return fmt.Errorf("%w: %w", ErrPacketTooLarge, err)
	case errors.Is(err, ErrUnsupportedCardVersion):
		return fmt.Errorf("%w: %w", ErrUnsupportedPacketVersion, err)
	case errors.Is(err, ErrBadCardSignature):
		return fmt.Errorf("%w: %w", ErrBadPacketSignature, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformedPacket, err)
}

// PacketType makes a member card a Packet.
func (Card) PacketType() PacketType { return PacketCard }

// JSON envelopes.

// objectFields splits one JSON object into its raw fields (and their names
// in order), refusing repeated names and anything after the object.
// encoding/json alone would accept repeated names and match names without
// regard to case.
func objectFields(b []byte) (map[string]json.RawMessage, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("%w: not a json object", ErrMalformedPacket)
	}
	fields := map[string]json.RawMessage{}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrMalformedPacket, err)
		}
		name, _ := tok.(string)
		if _, dup := fields[name]; dup {
			return nil, nil, fmt.Errorf("%w: field %q repeated", ErrMalformedPacket, clipText(name))
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("%w: field %q: %w", ErrMalformedPacket, clipText(name), err)
		}
		fields[name] = raw
		names = append(names, name)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformedPacket, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("%w: data after the json object", ErrMalformedPacket)
	}
	return fields, names, nil
}

// envelope is a JSON packet's fields after the common checks.
type envelope struct {
	t      PacketType
	fields map[string]json.RawMessage
}

// openEnvelope checks what every JSON packet shares: the size limit, one
// JSON object, the type (another known kind is ErrWrongPacketType), the
// version, and that every field is one of the kind's (allowed, besides
// "type" and "v"). The version is checked before unknown fields, so that a
// newer packet is reported as a newer version.
func openEnvelope(b []byte, want PacketType, allowed ...string) (envelope, error) {
	if len(b) > want.MaxSize() {
		return envelope{}, fmt.Errorf("%w: %s of %d bytes, the limit is %d", ErrPacketTooLarge, want.Describe(), len(b), want.MaxSize())
	}
	fields, names, err := objectFields(b)
	if err != nil {
		if bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte(cesrStart)) {
			return envelope{}, wrongType(PacketCESR, want)
		}
		return envelope{}, fmt.Errorf("%s: %w", want.Describe(), err)
	}
	raw, ok := fields["type"]
	var typ string
	if !ok || json.Unmarshal(raw, &typ) != nil {
		return envelope{}, fmt.Errorf("%w: %s without a \"type\" string", ErrMalformedPacket, want.Describe())
	}
	if got := PacketType(typ); got != want {
		if got.Known() && got != PacketCESR {
			return envelope{}, wrongType(got, want)
		}
		return envelope{}, fmt.Errorf("%w: type %q, want %q", ErrUnknownPacket, clipText(typ), want)
	}
	v, ok := fields["v"]
	if !ok {
		return envelope{}, fmt.Errorf("%w: %s without a version \"v\"", ErrMalformedPacket, want.Describe())
	}
	if string(v) != strconv.Itoa(PacketVersion) {
		if !isUint(string(v)) {
			return envelope{}, fmt.Errorf("%w: %s version %q is not an integer", ErrMalformedPacket, want.Describe(), clipText(string(v)))
		}
		return envelope{}, fmt.Errorf("%w: %s version %s (this program reads version %d)", ErrUnsupportedPacketVersion, want.Describe(), clipText(string(v)), PacketVersion)
	}
	for _, name := range names {
		if name != "type" && name != "v" && !slices.Contains(allowed, name) {
			return envelope{}, fmt.Errorf("%w: %s has an unknown field %q", ErrMalformedPacket, want.Describe(), clipText(name))
		}
	}
	return envelope{t: want, fields: fields}, nil
}

func isUint(s string) bool {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// str reads a string field; required fields must be present and non-empty.
func (e envelope) str(name string, required bool) (string, error) {
	raw, ok := e.fields[name]
	if !ok {
		if required {
			return "", fmt.Errorf("%w: %s without %q", ErrMalformedPacket, e.t.Describe(), name)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%w: %s field %q is not a string", ErrMalformedPacket, e.t.Describe(), name)
	}
	if required && s == "" {
		return "", fmt.Errorf("%w: %s field %q is empty", ErrMalformedPacket, e.t.Describe(), name)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: %s field %q is not valid utf-8", ErrMalformedPacket, e.t.Describe(), name)
	}
	return s, nil
}

// uint reads a required non-negative integer field written as a JSON number.
func (e envelope) uint(name string) (uint64, error) {
	raw, ok := e.fields[name]
	if !ok {
		return 0, fmt.Errorf("%w: %s without %q", ErrMalformedPacket, e.t.Describe(), name)
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil || !isUint(string(raw)) {
		return 0, fmt.Errorf("%w: %s field %q is not a non-negative integer", ErrMalformedPacket, e.t.Describe(), name)
	}
	return n, nil
}

// marshalObject writes fields in the given order as one line of JSON with a
// final newline. Values are strings, numbers, raw JSON or string lists.
func marshalObject(kv ...any) []byte {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			buf.WriteByte(',')
		}
		name, _ := kv[i].(string)
		writeJSON(&buf, name)
		buf.WriteByte(':')
		switch v := kv[i+1].(type) {
		case json.RawMessage:
			buf.Write(v)
		default:
			writeJSON(&buf, v)
		}
	}
	buf.WriteString("}\n")
	return buf.Bytes()
}

func writeJSON(buf *bytes.Buffer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("transport: internal error: " + err.Error()) // strings, numbers and string lists: cannot fail
	}
	buf.Write(b)
}

// Value checks shared by the kinds.

// checkText refuses empty, oversized, invalid UTF-8 and control characters.
func checkText(kind PacketType, field, s string, maxLen int) error {
	if s == "" || len(s) > maxLen {
		return fmt.Errorf("%w: %s field %q: want 1 to %d bytes", ErrMalformedPacket, kind.Describe(), field, maxLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s field %q is not valid utf-8", ErrMalformedPacket, kind.Describe(), field)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 {
			return fmt.Errorf("%w: %s field %q holds a control character", ErrMalformedPacket, kind.Describe(), field)
		}
	}
	return nil
}

// checkLabel is checkText for a member label, which also refuses format
// characters (bidirectional overrides, zero-width characters): a label is
// shown in rosters and thresholds and must read as what it is.
func checkLabel(kind PacketType, field, s string) error {
	if err := checkText(kind, field, s, MaxLabelSize); err != nil {
		return err
	}
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("%w: %s field %q holds the format character %U", ErrMalformedPacket, kind.Describe(), field, r)
		}
	}
	return nil
}

// checkCeremonyID applies the ceremony id rule: 1 to 64 letters, digits,
// '-' or '_'.
func checkCeremonyID(kind PacketType, id string) error {
	ok := id != "" && len(id) <= 64
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("%w: %s ceremony id %q: want 1 to 64 letters, digits, '-' or '_'", ErrMalformedPacket, kind.Describe(), clipText(id))
	}
	return nil
}

// checkPrefix accepts an identifier prefix: self-addressing (E…) or basic
// (D…, B…).
func checkPrefix(kind PacketType, field, s string) error {
	if _, err := kel.DecodeMatter(s, kel.CodeBlake3_256, kel.CodeEd25519, kel.CodeEd25519N); err != nil {
		return fmt.Errorf("%w: %s field %q: identifier %q: %w", ErrMalformedPacket, kind.Describe(), field, clipText(s), err)
	}
	return nil
}

func checkMatter(kind PacketType, field, s, what, code string) error {
	if _, err := kel.DecodeMatter(s, code); err != nil {
		return fmt.Errorf("%w: %s field %q: %s %q: %w", ErrMalformedPacket, kind.Describe(), field, what, clipText(s), err)
	}
	return nil
}

// clipText shortens untrusted text for error messages.
func clipText(s string) string {
	if len(s) > 48 {
		s = s[:48] + "…"
	}
	return s
}
