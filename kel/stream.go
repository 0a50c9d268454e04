package kel

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strings"
)

// SourceSeal is a -G seal source couple: the delegator's anchoring event,
// by sequence number and SAID.
type SourceSeal struct {
	Sn   uint64
	SAID string
}

// Message is one event body with the attachments that travelled with it.
// Messages come only from ParseStream (or NewMessage), and the validator
// checks everything they carry.
type Message struct {
	Event   *Event
	Sigs    []Siger      // -A controller signatures
	Wigs    []Siger      // -B witness signatures
	Sources []SourceSeal // -G couples (only the last one counts)
	Couples []Couple     // -C receipt couples (kept, never written)
	// attachErr records a problem in the attachments that does not break
	// the stream's framing (such as a non-Ed25519 signature code); the
	// message is then rejected with it.
	attachErr error
	// check, set only during a stream replay, looks up precomputed verdicts.
	check func(j int, pub ed25519.PublicKey) bool
}

// NewMessage pairs an event with signatures collected for it.
func NewMessage(ev *Event, sigs []Siger, sources ...SourceSeal) Message {
	return Message{Event: ev, Sigs: append([]Siger(nil), sigs...), Sources: sources}
}

// Limits on untrusted streams.
const (
	maxStreamMessages = 1 << 20
	maxGroupCount     = MaxSigIndex + 1 // also the cap on signatures per message
	maxGroupDepth     = 2
)

// ParseStream splits a CESR text stream into messages. It stops at the first
// framing error and returns the messages read before it together with the
// error; an event body that frames correctly but fails its own checks is also
// a stopping error, since nothing after it can be trusted to be in step.
func ParseStream(b []byte) ([]Message, error) {
	// Room for as many messages as bodies seem to open in b (no more slots
	// than b has bytes per 128), rather than a list grown message by message.
	var msgs []Message // nil when b holds none, as before
	if n := min(bytes.Count(b, []byte(bodyStart)), len(b)/128); n > 0 {
		msgs = make([]Message, 0, n)
	}
	sc := new(jsonScratch) // the bodies are parsed one after the other
	// The input is not copied whole: each event takes a copy of its body
	// (its string fields are slices of it), and attachments are read from
	// a copy of their own span, which nothing kept refers to (signatures
	// hold decoded bytes).
	for pos := 0; pos < len(b); {
		if len(msgs) >= maxStreamMessages {
			return msgs, fmt.Errorf("%w: more than %d messages", ErrStream, maxStreamMessages)
		}
		if b[pos] != '{' {
			return msgs, fmt.Errorf("%w: at offset %d: expected an event body, found %q", ErrStream, pos, clip(string(b[pos:min(len(b), pos+13)])))
		}
		size, err := sniffSize(b[pos:])
		if err != nil {
			return msgs, fmt.Errorf("at offset %d: %w", pos, err)
		}
		if size > len(b)-pos {
			return msgs, fmt.Errorf("%w: at offset %d: body of %d bytes, %d left", ErrTruncated, pos, size, len(b)-pos)
		}
		ev, err := parseEvent(string(b[pos:pos+size]), sc)
		if err != nil {
			return msgs, fmt.Errorf("at offset %d: %w", pos, err)
		}
		pos += size
		m := Message{Event: ev}
		a, err := readAttachments(b, pos, &m)
		if err != nil {
			return msgs, fmt.Errorf("attachments of %s at offset %d: %w", ev.SAID(), pos+a, err)
		}
		pos += a
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// readAttachments reads into m the attachments that start at pos in b and
// returns how far it read (on error, where the failing attachment starts).
// They end at the next body, so they are read from a copy of the text up to
// the next '{'. An attachment may hold a '{' (pathed material is skipped,
// not read): when the attachments do not read to the end of that span, the
// span grows, at least doubling, to a later '{' and is read again, until
// they do or the span reaches the end of b, whose reading is the verdict.
// The attachments read, or the error, are those of a reading of all of
// b's rest; the copies add up to a few times the span finally read, not to
// the rest of b for every message (a stream whose every message held a '{'
// in an attachment cost time in the square of its size).
func readAttachments(b []byte, pos int, m *Message) (int, error) {
	end := nextBrace(b, pos)
	for {
		read := Message{Event: m.Event}
		a, err := attachmentsIn(string(b[pos:end]), &read)
		if err == nil || end == len(b) {
			*m = read
			return a, err
		}
		end = nextBrace(b, min(len(b), pos+2*(end-pos)+1))
	}
}

// nextBrace is the offset of the first '{' in b from from on, or len(b).
func nextBrace(b []byte, from int) int {
	if i := bytes.IndexByte(b[from:], '{'); i >= 0 {
		return from + i
	}
	return len(b)
}

// attachmentsIn reads the attachments at the start of s into m, up to the
// next event body; it returns how far it read (on error, where the
// failing attachment starts).
func attachmentsIn(s string, m *Message) (int, error) {
	a := 0
	for a < len(s) && s[a] != '{' {
		n, err := parseAttachment(s[a:], m, 0)
		if err != nil {
			return a, err
		}
		a += n
	}
	return a, nil
}

// parseAttachment reads one counter and its group into m. Attachment groups
// (-V) may wrap the others but not nest deeper than maxGroupDepth.
func parseAttachment(s string, m *Message, depth int) (int, error) {
	ctr, n, err := ParseCounter(s)
	if err != nil {
		return 0, err
	}
	switch ctr.Code {
	case CtrAttachGroup, CtrBigAttachGroup:
		if depth >= maxGroupDepth {
			return 0, fmt.Errorf("%w: attachment groups nested deeper than %d", ErrStream, maxGroupDepth)
		}
		size := ctr.Count * 4
		if size > len(s)-n {
			return 0, fmt.Errorf("%w: %s group of %d characters", ErrTruncated, ctr.Code, size)
		}
		inner := s[n : n+size]
		for p := 0; p < len(inner); {
			k, err := parseAttachment(inner[p:], m, depth+1)
			if err != nil {
				return 0, err
			}
			p += k
		}
		return n + size, nil
	case CtrPathed, CtrBigPathed:
		size := ctr.Count * 4
		if size > len(s)-n {
			return 0, fmt.Errorf("%w: %s group of %d characters", ErrTruncated, ctr.Code, size)
		}
		return n + size, nil
	}
	if ctr.Count > maxGroupCount {
		return 0, fmt.Errorf("%w: %s count %d", ErrStream, ctr.Code, ctr.Count)
	}
	pos := n
	var sigBytes []byte // the group's signatures, decoded into one array
	switch ctr.Code {
	case CtrControllerSigs, CtrWitnessSigs:
		room := min(ctr.Count, (len(s)-n)/minSigerSize) // what the text can hold
		sigBytes = make([]byte, 0, room*ed25519.SignatureSize)
		if ctr.Code == CtrControllerSigs {
			m.Sigs = slices.Grow(m.Sigs, room)
		} else {
			m.Wigs = slices.Grow(m.Wigs, room)
		}
	}
	for i := 0; i < ctr.Count; i++ {
		var k int
		var err error
		switch ctr.Code {
		case CtrControllerSigs, CtrWitnessSigs:
			var sg Siger
			sg, k, sigBytes, err = parseSigerInto(s[pos:], sigBytes)
			if err != nil && k > 0 { // framed, but not Ed25519: reject the message, keep the stream
				if m.attachErr == nil {
					m.attachErr = err
				}
				err = nil
				break
			}
			if len(m.Sigs)+len(m.Wigs) >= maxGroupCount {
				return 0, fmt.Errorf("%w: more than %d signatures on one message", ErrStream, maxGroupCount)
			}
			if ctr.Code == CtrControllerSigs {
				m.Sigs = append(m.Sigs, sg)
			} else {
				m.Wigs = append(m.Wigs, sg)
			}
		case CtrSealSource:
			var src SourceSeal
			src, k, err = parseSourceCouple(s[pos:])
			m.Sources = append(m.Sources, src)
		case CtrNonTransRcpts:
			if len(m.Couples) >= maxGroupCount {
				return 0, fmt.Errorf("%w: more than %d receipt couples on one message", ErrStream, maxGroupCount)
			}
			var c Couple
			if c, k, err = parseCouple(s[pos:]); err == nil {
				m.Couples = append(m.Couples, c)
			} else if k > 0 { // framed, but not Ed25519: skip it, keep the stream
				err = nil
			}
		case CtrTransRcpts:
			k, err = skipTransReceipt(s[pos:])
		case CtrFirstSeen:
			k, err = skipPrimitives(s[pos:], 2) // ordinal + date-time
		default:
			return 0, fmt.Errorf("%w: %s", ErrUnsupportedCounter, ctr.Code)
		}
		if err != nil {
			return 0, fmt.Errorf("%s item %d: %w", ctr.Code, i, err)
		}
		pos += k
	}
	return pos, nil
}

func parseSourceCouple(s string) (SourceSeal, int, error) {
	num, n, err := ParseMatter(s)
	if err != nil {
		return SourceSeal{}, 0, err
	}
	sn, err := decodeSeqner(num)
	if err != nil {
		return SourceSeal{}, 0, err
	}
	dig, k, err := ParseMatter(s[n:])
	if err != nil {
		return SourceSeal{}, 0, err
	}
	if dig.Code != CodeBlake3_256 {
		return SourceSeal{}, 0, fmt.Errorf("%w: seal source digest with code %s", ErrPrimitive, dig.Code)
	}
	return SourceSeal{Sn: sn, SAID: s[n : n+k]}, n + k, nil
}

func skipPrimitives(s string, count int) (int, error) {
	pos := 0
	for i := 0; i < count; i++ {
		_, n, err := ParseMatter(s[pos:])
		if err != nil {
			return 0, err
		}
		pos += n
	}
	return pos, nil
}

func skipTransReceipt(s string) (int, error) {
	n, err := skipPrimitives(s, 3) // prefix, sn, said
	if err != nil {
		return 0, err
	}
	_, k, err := ParseSiger(s[n:])
	if err != nil {
		return 0, err
	}
	return n + k, nil
}

// Bytes writes the message as keremony emits it: the body, one -A group with
// every signature, then the last -G couple if any.
func (m Message) Bytes() []byte {
	var sb strings.Builder
	sb.WriteString(m.Event.raw)
	writeSigGroups(&sb, CtrControllerSigs, m.Sigs)
	writeSigGroups(&sb, CtrWitnessSigs, m.Wigs)
	if len(m.Sources) > 0 {
		src := m.Sources[len(m.Sources)-1]
		sb.WriteString(Counter{Code: CtrSealSource, Count: 1}.Qb64())
		sb.WriteString(encodeSeqner(src.Sn))
		sb.WriteString(src.SAID)
	}
	return []byte(sb.String())
}

// writeSigGroups writes sigs as counted groups of at most 4095 (the largest
// two-digit count); a parser gathers consecutive groups back into one list.
func writeSigGroups(sb *strings.Builder, code string, sigs []Siger) {
	const maxCount = 64*64 - 1
	for len(sigs) > 0 {
		n := min(len(sigs), maxCount)
		sb.WriteString(Counter{Code: code, Count: n}.Qb64())
		for _, s := range sigs[:n] {
			sb.WriteString(s.Qb64())
		}
		sigs = sigs[n:]
	}
}
