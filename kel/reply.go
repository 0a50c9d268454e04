package kel

import (
	"errors"
	"fmt"
	"net/url"
)

// Replies (rpy) and OOBI streams. A witness's OOBI serves its own KEL (a
// non-transferable inception) followed by signed replies: /loc/scheme
// says at which URL the endpoint eid is reached, signed by eid with a
// receipt couple. An identifier's OOBI at a witness serves its KEL,
// witness signatures included, and the witness's /loc/scheme reply.

// ErrReply: a reply that does not parse, or does not say what it should.
var ErrReply = errors.New("invalid reply message")

// IlkRpy is the reply message type.
const IlkRpy = "rpy"

var rpyFields = []string{"v", "t", "d", "dt", "r", "a"}

// Reply is one rpy message: a route, its attributes (string-valued members
// of a only) and the receipt couples that sign its bytes.
type Reply struct {
	SAID    string
	Dt      string
	Route   string
	Attrs   map[string]string
	Couples []Couple
	raw     []byte
}

// Raw is a copy of the reply's body bytes.
func (r Reply) Raw() []byte { return append([]byte(nil), r.raw...) }

// SignedBy reports whether a couple of prefix signs the reply.
func (r Reply) SignedBy(prefix string) bool {
	for _, c := range r.Couples {
		if c.Prefix == prefix && c.Verify(r.raw) {
			return true
		}
	}
	return false
}

// LocScheme is a verified /loc/scheme reply: endpoint EID is reached at
// URL.
type LocScheme struct {
	EID, Scheme, URL string
}

// LocScheme reads a /loc/scheme reply and checks it: eid is a
// non-transferable Ed25519 prefix that signs the reply, scheme is http or
// https and url an absolute URL of that scheme.
func (r Reply) LocScheme() (LocScheme, error) {
	if r.Route != "/loc/scheme" {
		return LocScheme{}, fmt.Errorf("%w: route %q, want /loc/scheme", ErrReply, clip(r.Route))
	}
	l := LocScheme{EID: r.Attrs["eid"], Scheme: r.Attrs["scheme"], URL: r.Attrs["url"]}
	if _, err := DecodeMatter(l.EID, CodeEd25519N); err != nil {
		return LocScheme{}, fmt.Errorf("%w: eid: %w", ErrReply, err)
	}
	if l.Scheme != "http" && l.Scheme != "https" {
		return LocScheme{}, fmt.Errorf("%w: scheme %q", ErrReply, clip(l.Scheme))
	}
	u, err := url.Parse(l.URL)
	if err != nil || u.Scheme != l.Scheme || u.Host == "" {
		return LocScheme{}, fmt.Errorf("%w: url %q is not an absolute %s url", ErrReply, clip(l.URL), l.Scheme)
	}
	if !r.SignedBy(l.EID) {
		return LocScheme{}, fmt.Errorf("%w: /loc/scheme of %s is not signed by it", ErrBadSignature, l.EID)
	}
	return l, nil
}

// parseReply checks a reply body already parsed into tree.
func parseReply(body []byte) (Reply, error) {
	tree, err := parseCanonical(body, IlkRpy, rpyFields)
	if err != nil {
		return Reply{}, fmt.Errorf("%w: %w", ErrReply, err)
	}
	f := fieldReader{tree: tree}
	r := Reply{SAID: f.digest("d"), Dt: f.str("dt"), Route: f.str("r"), Attrs: map[string]string{}, raw: body}
	if f.err != nil {
		return Reply{}, fmt.Errorf("%w: %w", ErrReply, f.err)
	}
	a, _ := tree.get("a")
	if a.kind != jsonMap {
		return Reply{}, fmt.Errorf("%w: a is not an object", ErrReply)
	}
	for _, m := range a.mems {
		if m.val.kind == jsonString {
			r.Attrs[m.key] = m.val.str
		}
	}
	if said := computeSAID(tree, false); said != r.SAID {
		return Reply{}, fmt.Errorf("%w: %w: d is %s, body hashes to %s", ErrReply, ErrSAIDMismatch, r.SAID, said)
	}
	return r, nil
}

// OOBIStream is what an OOBI URL serves: KEL messages and replies, each in
// stream order.
type OOBIStream struct {
	Messages []Message
	Replies  []Reply
}

// maxOOBIMessages caps the messages of one OOBI stream.
const maxOOBIMessages = 1 << 20

// ParseOOBI splits what an OOBI URL (or a witness's KEL query) serves into
// KEL messages and replies. Every event body gets ParseEvent's checks and
// every reply body parseReply's; messages of other types are refused, and
// the first error stops the parse (with what was read before it). Nothing
// is verified against key state: the messages go through a Verifier, the
// replies through LocScheme.
func ParseOOBI(b []byte) (OOBIStream, error) {
	var out OOBIStream
	for pos := 0; pos < len(b); {
		if len(out.Messages)+len(out.Replies) >= maxOOBIMessages {
			return out, fmt.Errorf("%w: more than %d messages", ErrStream, maxOOBIMessages)
		}
		if b[pos] != '{' {
			return out, fmt.Errorf("%w: at offset %d: expected a message body, found %q", ErrStream, pos, clip(string(b[pos:min(len(b), pos+13)])))
		}
		size, err := sniffSize(b[pos:])
		if err != nil {
			return out, fmt.Errorf("at offset %d: %w", pos, err)
		}
		if size > len(b)-pos {
			return out, fmt.Errorf("%w: at offset %d: body of %d bytes, %d left", ErrTruncated, pos, size, len(b)-pos)
		}
		body := b[pos : pos+size : pos+size]
		tree, err := parseJSON(body)
		if err != nil {
			return out, fmt.Errorf("at offset %d: %w", pos, err)
		}
		t, _ := tree.get("t")
		var m Message
		isReply := t.kind == jsonString && t.str == IlkRpy
		var rp Reply
		if isReply {
			if rp, err = parseReply(append([]byte(nil), body...)); err != nil {
				return out, fmt.Errorf("at offset %d: %w", pos, err)
			}
		} else if m.Event, err = ParseEvent(body); err != nil {
			return out, fmt.Errorf("at offset %d: %w", pos, err)
		}
		pos += size
		n, err := readAttachments(b, pos, &m)
		if err != nil {
			return out, fmt.Errorf("attachments at offset %d: %w", pos+n, err)
		}
		pos += n
		if isReply {
			rp.Couples = m.Couples
			out.Replies = append(out.Replies, rp)
		} else {
			out.Messages = append(out.Messages, m)
		}
	}
	return out, nil
}

// NewReply builds an unsigned reply with string attributes in the order
// given (pairs of key and value), dt its date-time text.
func NewReply(route, dt string, attrs ...string) (Reply, error) {
	if len(attrs)%2 != 0 {
		return Reply{}, fmt.Errorf("%w: attributes come in key and value pairs", ErrInvalidOptions)
	}
	a := jsonValue{kind: jsonMap}
	for i := 0; i < len(attrs); i += 2 {
		a.mems = append(a.mems, jsonMember{attrs[i], jStr(attrs[i+1])})
	}
	tree := func(v, d string) jsonValue {
		return jsonValue{kind: jsonMap, mems: []jsonMember{
			{"v", jStr(v)}, {"t", jStr(IlkRpy)}, {"d", jStr(d)}, {"dt", jStr(dt)}, {"r", jStr(route)}, {"a", a},
		}}
	}
	size := len(tree(versionString(0), saidPlaceholder).appendJSON(nil))
	said := computeSAID(tree(versionString(size), saidPlaceholder), false)
	return parseReply(tree(versionString(size), said).appendJSON(nil))
}

// Bytes is the reply with its couples attached.
func (r Reply) Bytes() []byte {
	out := r.Raw()
	if n := len(r.Couples); n > 0 {
		out = append(out, Counter{Code: CtrNonTransRcpts, Count: n}.Qb64()...)
		for _, c := range r.Couples {
			out = append(out, c.Qb64()...)
		}
	}
	return out
}
