package kel

import (
	"fmt"
	"slices"
	"strings"
)

// Ilks keremony reads and writes.
const (
	IlkIcp = "icp"
	IlkRot = "rot"
	IlkIxn = "ixn"
	IlkDip = "dip"
	IlkDrt = "drt"
)

// fieldOrder is keripy's KERI 1.0 field list per ilk (Serder.Fields).
var fieldOrder = map[string][]string{
	IlkIcp: {"v", "t", "d", "i", "s", "kt", "k", "nt", "n", "bt", "b", "c", "a"},
	IlkRot: {"v", "t", "d", "i", "s", "p", "kt", "k", "nt", "n", "bt", "br", "ba", "a"},
	IlkIxn: {"v", "t", "d", "i", "s", "p", "a"},
	IlkDip: {"v", "t", "d", "i", "s", "kt", "k", "nt", "n", "bt", "b", "c", "a", "di"},
	IlkDrt: {"v", "t", "d", "i", "s", "p", "kt", "k", "nt", "n", "bt", "br", "ba", "a"},
}

// Configuration traits keripy defines for KERI 1.0.
var knownTraits = []string{"EO", "DND", "RB", "NB", "NRB", "DID"}

const saidPlaceholder = "############################################" // 44 '#'

// Event is one parsed or built KERI 1.0 event. It is immutable: its fields
// are read through methods, and Raw gives the exact body bytes that were
// parsed or built (what signatures cover).
type Event struct {
	raw      string // the body; the string fields are slices of it
	ilk      string
	said     string
	prefix   string
	sn       uint64
	prior    string
	seals    []Seal
	warnings []string
	*estFields
}

// estFields are the fields only establishment events have; an interaction
// (most of a long KEL) shares noEst, whose fields are all empty, instead
// of carrying them.
type estFields struct {
	kt, nt    Threshold
	keys      []string
	next      []string
	bt        uint64
	wits      []string // b
	cuts      []string // br
	adds      []string // ba
	config    []string
	delegator string
}

// noEst is the estFields of every interaction. Nothing writes to it.
var noEst = &estFields{}

// Raw returns a copy of the exact body bytes.
func (e *Event) Raw() []byte { return []byte(e.raw) }

// Size is the body length in bytes.
func (e *Event) Size() int { return len(e.raw) }

func (e *Event) Ilk() string    { return e.ilk }
func (e *Event) SAID() string   { return e.said }
func (e *Event) Prefix() string { return e.prefix }
func (e *Event) Sn() uint64     { return e.sn }

// Prior is the SAID of the previous event ("" for inceptions).
func (e *Event) Prior() string { return e.prior }

// Kt and Nt are the signing and next thresholds (establishment events only).
func (e *Event) Kt() Threshold { return e.kt }
func (e *Event) Nt() Threshold { return e.nt }

func (e *Event) Keys() []string        { return slices.Clone(e.keys) }
func (e *Event) Next() []string        { return slices.Clone(e.next) }
func (e *Event) Bt() uint64            { return e.bt }
func (e *Event) Witnesses() []string   { return slices.Clone(e.wits) }
func (e *Event) Cuts() []string        { return slices.Clone(e.cuts) }
func (e *Event) Adds() []string        { return slices.Clone(e.adds) }
func (e *Event) Config() []string      { return slices.Clone(e.config) }
func (e *Event) Seals() []Seal         { return slices.Clone(e.seals) }
func (e *Event) Delegator() string     { return e.delegator }
func (e *Event) Warnings() []string    { return slices.Clone(e.warnings) }
func (e *Event) IsInception() bool     { return e.ilk == IlkIcp || e.ilk == IlkDip }
func (e *Event) IsEstablishment() bool { return e.ilk != IlkIxn }

// HasTrait reports whether the event's configuration lists the trait.
func (e *Event) HasTrait(t string) bool { return slices.Contains(e.config, t) }

// ParseEvent parses and checks one event body: the version string and its
// size, canonical serialization, field order, every field's encoding, the
// SAID and a self-addressing prefix, and the rules that need no key state.
func ParseEvent(raw []byte) (*Event, error) {
	// The event owns a copy of its bytes (callers may reuse theirs).
	return parseEvent(string(raw), new(jsonScratch))
}

// parseEvent is ParseEvent of a body the event may keep: its fields are
// slices of it, not copies.
func parseEvent(raw string, sc *jsonScratch) (*Event, error) {
	size, err := sniffSize(raw)
	if err != nil {
		return nil, err
	}
	if size != len(raw) {
		return nil, fmt.Errorf("%w: version announces %d bytes, body has %d", ErrVersion, size, len(raw))
	}
	tree, canonical, err := parseJSONText(raw, sc)
	if err != nil {
		return nil, err
	}
	if tree.kind != jsonMap {
		return nil, fmt.Errorf("%w: body is not a json object", ErrJSON)
	}
	tv, ok := tree.get("t")
	if !ok || tv.kind != jsonString {
		return nil, fmt.Errorf("%w: no t field", ErrIlk)
	}
	order, ok := fieldOrder[tv.str]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrIlk, clip(tv.str))
	}
	if !tree.hasKeys(order) {
		return nil, fmt.Errorf("%w: %s has fields %v, want %v", ErrFieldOrder, tv.str, tree.keys(), order)
	}
	if !canonical {
		return nil, fmt.Errorf("%w: body differs from its compact python-json form", ErrNonCanonical)
	}
	ev, err := eventFromTree(tree)
	if err != nil {
		return nil, err
	}
	ev.raw = raw
	if err := checkSAID(ev, tree, sc); err != nil {
		return nil, err
	}
	return ev, nil
}

// eventFromTree decodes and checks every field of a body whose field list is
// already known to be right for its ilk.
func eventFromTree(tree jsonValue) (*Event, error) {
	f := fieldReader{tree: tree}
	ev := &Event{ilk: f.str("t"), estFields: noEst}
	if _, err := parseVersion(f.str("v")); err != nil {
		return nil, err
	}
	ev.said = f.digest("d")
	ev.prefix = f.str("i")
	ev.sn = f.hex("s")
	if ev.ilk != IlkIcp && ev.ilk != IlkDip {
		ev.prior = f.digest("p")
	}
	if ev.IsEstablishment() {
		ev.estFields = &estFields{}
		ev.kt = f.threshold("kt", &ev.warnings, "threshold_not_string")
		ev.keys = f.strList("k")
		ev.nt = f.threshold("nt", &ev.warnings, "next_threshold_not_string")
		ev.next = f.strList("n")
		ev.bt = f.hexOrNumber("bt", &ev.warnings)
		if ev.IsInception() {
			ev.wits = f.strList("b")
			ev.config = f.strList("c")
		} else {
			ev.cuts = f.strList("br")
			ev.adds = f.strList("ba")
		}
	}
	ev.seals = f.seals("a")
	if ev.ilk == IlkDip {
		ev.delegator = f.str("di")
	}
	if f.err != nil {
		return nil, f.err
	}
	if err := checkEventRules(ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// checkEventRules holds the checks that need only the event itself; builders
// run them too, so nothing impossible is ever built.
func checkEventRules(ev *Event) error {
	if ev.IsInception() && ev.sn != 0 {
		return fmt.Errorf("%w: inception with sn %d", ErrField, ev.sn)
	}
	if !ev.IsInception() && ev.sn == 0 {
		return fmt.Errorf("%w: %s with sn 0", ErrField, ev.ilk)
	}
	if err := checkMatter(ev.prefix, CodeEd25519, CodeEd25519N, CodeBlake3_256); err != nil {
		return fmt.Errorf("%w: prefix: %w", ErrField, err)
	}
	if !ev.IsEstablishment() {
		return nil
	}
	if len(ev.keys) == 0 {
		return fmt.Errorf("%w: empty key list", ErrField)
	}
	for i, k := range ev.keys {
		if err := checkMatter(k, CodeEd25519, CodeEd25519N); err != nil {
			return fmt.Errorf("%w: key %d: %w", ErrField, i, err)
		}
		if slices.Index(ev.keys, k) != i {
			return fmt.Errorf("%w: %s listed twice", ErrDuplicateKey, k)
		}
	}
	for i, n := range ev.next {
		if err := checkMatter(n, CodeBlake3_256); err != nil {
			return fmt.Errorf("%w: next digest %d: %w", ErrField, i, err)
		}
		if slices.Index(ev.next, n) != i && !slices.Contains(ev.warnings, "next_digest_duplicate") {
			ev.warnings = append(ev.warnings, "next_digest_duplicate")
		}
	}
	if err := ev.kt.Validate(len(ev.keys)); err != nil {
		return fmt.Errorf("kt: %w", err)
	}
	if err := ev.nt.Validate(len(ev.next)); err != nil {
		return fmt.Errorf("nt: %w", err)
	}
	for _, w := range append(slices.Clone(ev.wits), ev.adds...) {
		if err := checkMatter(w, CodeEd25519N); err != nil {
			return fmt.Errorf("%w: witness %q: %w", ErrWitnessConfig, clip(w), err)
		}
	}
	for _, l := range [][]string{ev.wits, ev.cuts, ev.adds} {
		for i, w := range l {
			if slices.Index(l, w) != i {
				return fmt.Errorf("%w: %s", ErrDuplicateWitness, w)
			}
		}
	}
	for _, c := range ev.cuts {
		if slices.Contains(ev.adds, c) {
			return fmt.Errorf("%w: %s both cut and added", ErrWitnessConfig, c)
		}
	}
	if ev.IsInception() {
		if err := checkBt(ev.bt, len(ev.wits)); err != nil {
			return err
		}
	}
	for _, c := range ev.config {
		if !slices.Contains(knownTraits, c) {
			return fmt.Errorf("%w: %q", ErrConfig, clip(c))
		}
	}
	if ev.ilk == IlkDip {
		if err := checkMatter(ev.delegator, CodeEd25519, CodeBlake3_256); err != nil {
			return fmt.Errorf("%w: delegator: %w", ErrField, err)
		}
	}
	return checkPrefixForm(ev)
}

func checkBt(bt uint64, wits int) error {
	if (wits == 0 && bt != 0) || (wits > 0 && (bt < 1 || bt > uint64(wits))) {
		return fmt.Errorf("%w: bt %d with %d witnesses", ErrWitnessConfig, bt, wits)
	}
	return nil
}

// checkPrefixForm applies the rules tying an inception's prefix to its body.
func checkPrefixForm(ev *Event) error {
	if !ev.IsInception() {
		return nil
	}
	switch ev.prefix[0] {
	case 'E':
		return nil // self-addressing: checked with the SAID
	case 'D', 'B':
		if ev.ilk == IlkDip {
			return fmt.Errorf("%w: a delegated identifier needs a self-addressing prefix", ErrPrefixMismatch)
		}
		if len(ev.keys) != 1 || ev.keys[0] != ev.prefix || ev.kt.IsWeighted() || ev.kt.Int() != 1 {
			return fmt.Errorf("%w: a basic prefix must be the only key with kt 1", ErrPrefixMismatch)
		}
		if ev.prefix[0] == 'B' && (len(ev.next) > 0 || len(ev.wits) > 0 || len(ev.seals) > 0) {
			return fmt.Errorf("%w: a non-transferable prefix allows no next keys, witnesses or seals", ErrNotTransferable)
		}
	}
	return nil
}

// selfAddressing reports whether the event's prefix is its own SAID.
func selfAddressing(ev *Event) bool {
	return ev.IsInception() && ev.prefix[0] == 'E'
}

// checkSAID recomputes d (and a self-addressing i) over the placeholder
// form of the parsed canonical body: its bytes with those values replaced
// by the placeholder, which is what computeSAID writes for its tree.
func checkSAID(ev *Event, tree jsonValue, sc *jsonScratch) error {
	self := selfAddressing(ev)
	if self && ev.prefix != ev.said {
		return fmt.Errorf("%w: i %s is not the said %s", ErrPrefixMismatch, ev.prefix, ev.said)
	}
	form, ok := placeholderForm(sc.buf[:0], ev.raw, sc.top, self)
	var said string
	if ok {
		sc.buf = form
		said = Digest(form)
	} else {
		said = computeSAID(tree, self)
	}
	if said != ev.said {
		return fmt.Errorf("%w: d is %s, body hashes to %s", ErrSAIDMismatch, ev.said, said)
	}
	return nil
}

// placeholderForm appends to dst the canonical text raw with the values of
// its top-level d (and, when withPrefix, i) members replaced by the
// placeholder; ok is false when one of them is not a plain 44-character
// string (the caller then writes the tree).
func placeholderForm(dst []byte, raw string, top []jsonSpan, withPrefix bool) (form []byte, ok bool) {
	form = append(dst, raw...)
	for _, m := range top {
		if m.key != "d" && (!withPrefix || m.key != "i") {
			continue
		}
		if m.end-m.start != len(saidPlaceholder)+2 || raw[m.start] != '"' || raw[m.end-1] != '"' {
			return nil, false
		}
		copy(form[m.start+1:m.end-1], saidPlaceholder)
	}
	return form, true
}

// computeSAID hashes the tree with d (and i) replaced by the placeholder. The
// tree's v must already carry the final size.
func computeSAID(tree jsonValue, withPrefix bool) string {
	t := jsonValue{kind: jsonMap, mems: slices.Clone(tree.mems)}
	for i := range t.mems {
		if k := t.mems[i].key; k == "d" || (withPrefix && k == "i") {
			t.mems[i].val = jStr(saidPlaceholder)
		}
	}
	return Digest(t.appendJSON(nil))
}

// fieldReader pulls typed fields out of a body, remembering the first error.
type fieldReader struct {
	tree jsonValue
	err  error
}

func (f *fieldReader) fail(label, format string, a ...any) {
	if f.err == nil {
		f.err = fmt.Errorf("%w: %s: %s", ErrField, label, fmt.Sprintf(format, a...))
	}
}

func (f *fieldReader) str(label string) string {
	v, _ := f.tree.get(label)
	if v.kind != jsonString {
		f.fail(label, "not a string")
		return ""
	}
	return v.str
}

func (f *fieldReader) digest(label string) string {
	s := f.str(label)
	if f.err == nil {
		if err := checkMatter(s, CodeBlake3_256); err != nil {
			f.fail(label, "%v", err)
		}
	}
	return s
}

func (f *fieldReader) hex(label string) uint64 {
	s := f.str(label)
	if f.err != nil {
		return 0
	}
	n, err := parseHex(s)
	if err != nil {
		f.fail(label, "%q is not canonical lowercase hex", clip(s))
	}
	return n
}

// hexOrNumber reads bt, tolerating keripy's JSON-number form with a warning.
func (f *fieldReader) hexOrNumber(label string, warnings *[]string) uint64 {
	v, _ := f.tree.get(label)
	if v.kind == jsonNumber {
		*warnings = append(*warnings, label+"_not_string")
		n, err := parseDecimal(v.str)
		if err != nil {
			f.fail(label, "%v", err)
		}
		return n
	}
	return f.hex(label)
}

func (f *fieldReader) threshold(label string, warnings *[]string, numberWarning string) Threshold {
	v, _ := f.tree.get(label)
	if v.kind == jsonNumber {
		*warnings = append(*warnings, numberWarning)
	}
	t, err := thresholdFromJSON(v)
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("%s: %w", label, err)
	}
	if err == nil && v.kind == jsonList && string(v.appendJSON(nil)) != t.String() {
		*warnings = append(*warnings, strings.TrimSuffix(numberWarning, "not_string")+"noncanonical_weights")
	}
	return t
}

func (f *fieldReader) strList(label string) []string {
	v, _ := f.tree.get(label)
	if v.kind != jsonList {
		f.fail(label, "not a list")
		return nil
	}
	out := make([]string, len(v.list))
	for i, e := range v.list {
		if e.kind != jsonString {
			f.fail(label, "item %d is not a string", i)
			return nil
		}
		out[i] = e.str
	}
	return out
}

func (f *fieldReader) seals(label string) []Seal {
	v, _ := f.tree.get(label)
	if v.kind != jsonList {
		f.fail(label, "not a list")
		return nil
	}
	out := make([]Seal, len(v.list))
	for i, e := range v.list {
		s, err := sealFromJSON(e)
		if err != nil {
			if f.err == nil {
				f.err = fmt.Errorf("a[%d]: %w", i, err)
			}
			return nil
		}
		out[i] = s
	}
	return out
}

func parseDecimal(s string) (uint64, error) {
	var n uint64
	if s == "" || s[0] == '-' || len(s) > 19 {
		return 0, fmt.Errorf("%w: %q is not a small non-negative integer", ErrField, clip(s))
	}
	for i := 0; i < len(s); i++ {
		n = n*10 + uint64(s[i]-'0')
	}
	return n, nil
}
