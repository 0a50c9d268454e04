package kel

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Witness receipts. A witness attests to an event by signing the event's
// bytes with the key its non-transferable prefix (B…) is. It answers with an
// rct message, {"v","t":"rct","d","i","s"}, carrying either receipt couples
// (-C: its prefix and signature) or witness-indexed signatures (-B: the
// index is its position in the witness list in force after the event). A
// KEL carries receipts as -B signatures after the controllers' -A ones.

// Errors of receipts.
var (
	// ErrReceipt: a receipt message that does not parse, or names another
	// event than the one it should receipt.
	ErrReceipt = errors.New("invalid witness receipt")
	// ErrNotWitness: the receiptor is not in the event's witness list.
	ErrNotWitness = errors.New("receiptor is not a witness of the event")
	// ErrNotFullyWitnessed: an event holds fewer valid witness
	// signatures than its witness threshold (bt, the toad).
	ErrNotFullyWitnessed = errors.New("event is not fully witnessed")
)

// IlkRct is the receipt message type.
const IlkRct = "rct"

var rctFields = []string{"v", "t", "d", "i", "s"}

// Couple is a non-transferable receipt couple: the receiptor's prefix (a
// B… Ed25519 key) and its signature over the receipted event's bytes.
type Couple struct {
	Prefix string
	Sig    []byte
}

// Qb64 is the couple's text: the prefix, then the 0B signature.
func (c Couple) Qb64() string { return c.Prefix + EncodeSignature(c.Sig) }

// Verify checks the couple's signature over data.
func (c Couple) Verify(data []byte) bool {
	m, err := DecodeMatter(c.Prefix, CodeEd25519N)
	return err == nil && len(c.Sig) == 64 && verifySig(m.Raw, data, c.Sig)
}

// parseCouple reads a couple; only an Ed25519 non-transferable prefix and
// an Ed25519 signature are couples keremony takes.
func parseCouple(s string) (Couple, int, error) {
	pre, n, err := ParseMatter(s)
	if err != nil {
		return Couple{}, 0, err
	}
	sig, k, err := ParseMatter(s[n:])
	if err != nil {
		return Couple{}, 0, err
	}
	if pre.Code != CodeEd25519N || sig.Code != CodeEd25519Sig {
		return Couple{}, n + k, fmt.Errorf("%w: receipt couple of codes %s and %s, want %s and %s", ErrPrimitive, pre.Code, sig.Code, CodeEd25519N, CodeEd25519Sig)
	}
	return Couple{Prefix: s[:n], Sig: sig.Raw}, n + k, nil
}

// Receipt is one rct message: receipts of the event SAID at Sn of Prefix.
type Receipt struct {
	Prefix  string
	Sn      uint64
	SAID    string
	Couples []Couple // -C receipt couples
	Wigs    []Siger  // -B witness-indexed signatures
}

// NewReceipt is the rct of an event with the given couples.
func NewReceipt(ev *Event, couples []Couple) Receipt {
	return Receipt{Prefix: ev.prefix, Sn: ev.sn, SAID: ev.said, Couples: slices.Clone(couples)}
}

// Body is the rct body (what an HTTP request carries as its body).
func (r Receipt) Body() []byte {
	tree := func(v string) jsonValue {
		return jsonValue{kind: jsonMap, mems: []jsonMember{
			{"v", jStr(v)}, {"t", jStr(IlkRct)}, {"d", jStr(r.SAID)}, {"i", jStr(r.Prefix)}, {"s", jStr(formatHex(r.Sn))},
		}}
	}
	size := len(tree(versionString(0)).appendJSON(nil))
	return tree(versionString(size)).appendJSON(nil)
}

// Attachments is the rct's attachment text: -C couples, then -B
// signatures (what an HTTP request carries in CESR-ATTACHMENT).
func (r Receipt) Attachments() string {
	var sb strings.Builder
	if n := len(r.Couples); n > 0 {
		sb.WriteString(Counter{Code: CtrNonTransRcpts, Count: n}.Qb64())
		for _, c := range r.Couples {
			sb.WriteString(c.Qb64())
		}
	}
	writeSigGroups(&sb, CtrWitnessSigs, r.Wigs)
	return sb.String()
}

// Bytes is the whole rct message.
func (r Receipt) Bytes() []byte { return append(r.Body(), r.Attachments()...) }

// maxReceiptSize caps a receipt message: a body and a few thousand couples.
const maxReceiptSize = 1 << 20

// ParseReceipt reads exactly one rct message with its attachments, as a
// witness answers POST /receipts (couples) or GET /receipts (witness
// signatures). It checks the body's framing, field list, canonical form and
// encodings, and every attachment's; it does not check signatures (see
// Receipt.Check).
func ParseReceipt(b []byte) (Receipt, error) {
	if len(b) > maxReceiptSize {
		return Receipt{}, fmt.Errorf("%w: %d bytes, more than %d", ErrReceipt, len(b), maxReceiptSize)
	}
	if len(b) == 0 || b[0] != '{' {
		return Receipt{}, fmt.Errorf("%w: does not open with a message body", ErrReceipt)
	}
	size, err := sniffSize(b)
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: %w", ErrReceipt, err)
	}
	if size > len(b) {
		return Receipt{}, fmt.Errorf("%w: %w: body of %d bytes, %d given", ErrReceipt, ErrTruncated, size, len(b))
	}
	tree, err := parseCanonical(b[:size], IlkRct, rctFields)
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: %w", ErrReceipt, err)
	}
	f := fieldReader{tree: tree}
	r := Receipt{SAID: f.digest("d"), Prefix: f.str("i"), Sn: f.hex("s")}
	if f.err != nil {
		return Receipt{}, fmt.Errorf("%w: %w", ErrReceipt, f.err)
	}
	if _, err := DecodeMatter(r.Prefix, CodeEd25519, CodeEd25519N, CodeBlake3_256); err != nil {
		return Receipt{}, fmt.Errorf("%w: i: %w", ErrReceipt, err)
	}
	var m Message
	s := string(b[size:])
	for pos := 0; pos < len(s); {
		if s[pos] == '{' {
			return Receipt{}, fmt.Errorf("%w: more than one message", ErrReceipt)
		}
		n, err := parseAttachment(s[pos:], &m, 0)
		if err != nil {
			return Receipt{}, fmt.Errorf("%w: attachments: %w", ErrReceipt, err)
		}
		pos += n
	}
	if m.attachErr != nil {
		return Receipt{}, fmt.Errorf("%w: attachments: %w", ErrReceipt, m.attachErr)
	}
	if len(m.Sigs) > 0 || len(m.Sources) > 0 {
		return Receipt{}, fmt.Errorf("%w: a receipt carries controller signatures or seal sources", ErrReceipt)
	}
	r.Couples, r.Wigs = m.Couples, m.Wigs
	return r, nil
}

// parseCanonical parses a body whose t must be ilk and whose fields must
// be fields, in order, in keripy's compact form, with the version's size.
func parseCanonical(body []byte, ilk string, fields []string) (jsonValue, error) {
	size, err := sniffSize(body)
	if err != nil {
		return jsonValue{}, err
	}
	if size != len(body) {
		return jsonValue{}, fmt.Errorf("%w: version announces %d bytes, body has %d", ErrVersion, size, len(body))
	}
	tree, canonical, err := parseJSONText(string(body), new(jsonScratch))
	if err != nil {
		return jsonValue{}, err
	}
	if tree.kind != jsonMap {
		return jsonValue{}, fmt.Errorf("%w: body is not a json object", ErrJSON)
	}
	if t, _ := tree.get("t"); t.kind != jsonString || t.str != ilk {
		return jsonValue{}, fmt.Errorf("%w: %q where %s is expected", ErrIlk, clip(t.str), ilk)
	}
	if !tree.hasKeys(fields) {
		return jsonValue{}, fmt.Errorf("%w: %s has fields %v, want %v", ErrFieldOrder, ilk, tree.keys(), fields)
	}
	if !canonical {
		return jsonValue{}, fmt.Errorf("%w: body differs from its compact python-json form", ErrNonCanonical)
	}
	return tree, nil
}

// Names reports whether the receipt names ev (its prefix, sn and SAID).
func (r Receipt) Names(ev *Event) error {
	if r.Prefix != ev.prefix || r.Sn != ev.sn || r.SAID != ev.said {
		return fmt.Errorf("%w: receipt names %s sn %d said %s, the event is %s sn %d said %s",
			ErrReceipt, r.Prefix, r.Sn, r.SAID, ev.prefix, ev.sn, ev.said)
	}
	return nil
}

// WitnessSig checks a receipt couple of ev against witnesses, the witness
// list in force after ev: the receiptor must be one of them and its
// signature must verify over ev's bytes. It returns the couple as a
// witness-indexed signature (its index is the receiptor's position).
func WitnessSig(ev *Event, witnesses []string, c Couple) (Siger, error) {
	i := slices.Index(witnesses, c.Prefix)
	if i < 0 {
		return Siger{}, fmt.Errorf("%w: %s is not among the %d witnesses of %s sn %d", ErrNotWitness, c.Prefix, len(witnesses), ev.prefix, ev.sn)
	}
	if !c.Verify([]byte(ev.raw)) {
		return Siger{}, fmt.Errorf("%w: the signature of witness %s does not verify over %s sn %d", ErrBadSignature, c.Prefix, ev.prefix, ev.sn)
	}
	return NewSiger(c.Sig, i, i, false)
}

// WitnessCouple turns a witness-indexed signature of ev back into a couple,
// checking it: its index must point into witnesses and its signature
// verify over ev's bytes.
func WitnessCouple(ev *Event, witnesses []string, w Siger) (Couple, error) {
	if w.Index < 0 || w.Index >= len(witnesses) {
		return Couple{}, fmt.Errorf("%w: witness index %d with %d witnesses", ErrWitnessSignature, w.Index, len(witnesses))
	}
	c := Couple{Prefix: witnesses[w.Index], Sig: w.Sig}
	if !c.Verify([]byte(ev.raw)) {
		return Couple{}, fmt.Errorf("%w: the signature of witness %s does not verify over %s sn %d", ErrWitnessSignature, c.Prefix, ev.prefix, ev.sn)
	}
	return c, nil
}

// Ample is keripy's default witness threshold for n witnesses (eventing
// ample, weak): the smallest sufficient majority that tolerates the most
// faulty witnesses. 1→1, 2→2, 3→3, 4→3, 5→4, 6→4, 7→5, 10→7.
func Ample(n int) uint64 {
	if n <= 0 {
		return 0
	}
	ceilDiv := func(a, b int) int { return (a + b - 1) / b }
	f1 := max(1, (n-1)/3)
	f2 := max(1, ceilDiv(n-1, 3))
	return uint64(min(n, ceilDiv(n+f1+1, 2), ceilDiv(n+f2+1, 2)))
}
