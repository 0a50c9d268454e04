package kel

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// KERI 1.0 event bodies are JSON written by Python's
// json.dumps(sad, separators=(",", ":"), ensure_ascii=False). Go's
// encoding/json escapes and orders differently, so kel carries its own small
// JSON layer: a strict parser into an ordered tree, and a writer that
// reproduces Python's bytes. A body is canonical exactly when writing its
// parsed tree gives back the same bytes.

// jsonKind is the type of a jsonValue.
type jsonKind uint8

const (
	jsonString jsonKind = iota + 1
	jsonNumber          // an integer, kept as its decimal text
	jsonList
	jsonMap
	jsonBool
	jsonNull
)

// jsonValue is one parsed JSON value. Maps keep their members in order.
type jsonValue struct {
	kind jsonKind
	str  string // string value, number digits, or "true"/"false"
	list []jsonValue
	mems []jsonMember
}

type jsonMember struct {
	key string
	val jsonValue
}

// Limits on untrusted JSON.
const (
	maxJSONDepth = 32
	maxBodySize  = 1 << 24 // the version string's six hex digits cap a body at 16 MiB
)

func jStr(s string) jsonValue { return jsonValue{kind: jsonString, str: s} }

func jStrList(ss []string) jsonValue {
	l := make([]jsonValue, len(ss))
	for i, s := range ss {
		l[i] = jStr(s)
	}
	return jsonValue{kind: jsonList, list: l}
}

// get returns the member value for key, or false.
func (v jsonValue) get(key string) (jsonValue, bool) {
	for _, m := range v.mems {
		if m.key == key {
			return m.val, true
		}
	}
	return jsonValue{}, false
}

// keys lists the member keys of a map in order.
func (v jsonValue) keys() []string {
	ks := make([]string, len(v.mems))
	for i, m := range v.mems {
		ks[i] = m.key
	}
	return ks
}

// hasKeys reports whether a map's member keys are exactly keys, in order.
func (v jsonValue) hasKeys(keys []string) bool {
	if len(v.mems) != len(keys) {
		return false
	}
	for i, m := range v.mems {
		if m.key != keys[i] {
			return false
		}
	}
	return true
}

// appendJSON writes v in Python's compact ensure_ascii=False form.
func (v jsonValue) appendJSON(dst []byte) []byte {
	switch v.kind {
	case jsonString:
		return appendPyString(dst, v.str)
	case jsonNumber, jsonBool:
		return append(dst, v.str...)
	case jsonNull:
		return append(dst, "null"...)
	case jsonList:
		dst = append(dst, '[')
		for i, e := range v.list {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = e.appendJSON(dst)
		}
		return append(dst, ']')
	case jsonMap:
		dst = append(dst, '{')
		for i, m := range v.mems {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendPyString(dst, m.key)
			dst = append(dst, ':')
			dst = m.val.appendJSON(dst)
		}
		return append(dst, '}')
	}
	return dst
}

// appendPyString writes s as Python's json module does with ensure_ascii=False.
func appendPyString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			dst = append(dst, '\\', '"')
		case c == '\\':
			dst = append(dst, '\\', '\\')
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// parseJSON parses exactly one JSON value filling all of b. It refuses
// invalid UTF-8, duplicate map keys, non-integer numbers and excessive
// nesting. The tree's strings share one copy of b.
func parseJSON(b []byte) (jsonValue, error) {
	if len(b) > maxBodySize {
		return jsonValue{}, fmt.Errorf("%w: %d bytes is over the limit", ErrJSON, len(b))
	}
	v, _, err := parseJSONText(string(b), new(jsonScratch))
	return v, err
}

// jsonScratch is memory a parse leaves for the next one: the stacks of the
// members and items being read and the arenas the finished maps and lists
// live in. A tree from it is valid until the scratch parses again, so it
// serves parses whose trees are dropped before the next begins (a
// stream's bodies, read one after the other).
type jsonScratch struct {
	mems, memArena  []jsonMember
	items, valArena []jsonValue
	top             []jsonSpan // the top-level members' values, in order
	buf             []byte     // for the caller (the SAID's placeholder form)
}

// jsonSpan is where a top-level member's value lies in the parsed text.
type jsonSpan struct {
	key        string
	start, end int
}

// parseJSONText parses s as parseJSON does, with the tree's strings
// sharing s's memory where they hold no escape. canonical reports whether
// s is exactly what appendJSON writes for the tree (Python's compact
// ensure_ascii=False form): no white space, and every string written with
// the escapes Python's json module chooses.
func parseJSONText(s string, sc *jsonScratch) (v jsonValue, canonical bool, err error) {
	if len(s) > maxBodySize {
		return jsonValue{}, false, fmt.Errorf("%w: %d bytes is over the limit", ErrJSON, len(s))
	}
	if !utf8.ValidString(s) {
		return jsonValue{}, false, fmt.Errorf("%w: invalid utf-8", ErrJSON)
	}
	sc.mems, sc.memArena, sc.items, sc.valArena, sc.top = sc.mems[:0], sc.memArena[:0], sc.items[:0], sc.valArena[:0], sc.top[:0]
	p := jsonParser{s: s, sc: sc, canonical: true}
	v, err = p.value(0)
	if err != nil {
		return jsonValue{}, false, err
	}
	p.ws()
	if p.i != len(s) {
		return jsonValue{}, false, p.errf("trailing data")
	}
	return v, p.canonical, nil
}

type jsonParser struct {
	s         string
	i         int
	sc        *jsonScratch
	canonical bool // nothing read so far differs from Python's compact form
}

func (p *jsonParser) errf(format string, a ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrJSON, p.i, fmt.Sprintf(format, a...))
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
			p.canonical = false
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (jsonValue, error) {
	if depth > maxJSONDepth {
		return jsonValue{}, p.errf("nested deeper than %d", maxJSONDepth)
	}
	p.ws()
	if p.i >= len(p.s) {
		return jsonValue{}, p.errf("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.string()
		return jStr(s), err
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		for _, lit := range [...]struct {
			text string
			kind jsonKind
		}{{"true", jsonBool}, {"false", jsonBool}, {"null", jsonNull}} {
			if len(p.s)-p.i >= len(lit.text) && p.s[p.i:p.i+len(lit.text)] == lit.text {
				p.i += len(lit.text)
				return jsonValue{kind: lit.kind, str: lit.text}, nil
			}
		}
		return jsonValue{}, p.errf("unexpected %q", c)
	}
}

// object reads a map. Its members gather on the scratch stack (a nested
// map's are pushed and popped above them) and move to the arena, exactly
// sized, when the map closes.
func (p *jsonParser) object(depth int) (jsonValue, error) {
	p.i++ // {
	sc := p.sc
	base := len(sc.mems)
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return jsonValue{kind: jsonMap}, nil
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return jsonValue{}, p.errf("expected a member name")
		}
		k, err := p.string()
		if err != nil {
			return jsonValue{}, err
		}
		for _, m := range sc.mems[base:] {
			if m.key == k {
				return jsonValue{}, p.errf("duplicate member %q", k)
			}
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return jsonValue{}, p.errf("expected ':'")
		}
		p.i++
		p.ws()
		start := p.i
		e, err := p.value(depth + 1)
		if err != nil {
			return jsonValue{}, err
		}
		if depth == 0 {
			sc.top = append(sc.top, jsonSpan{k, start, p.i})
		}
		sc.mems = append(sc.mems, jsonMember{k, e})
		p.ws()
		if p.i >= len(p.s) {
			return jsonValue{}, p.errf("unexpected end in object")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			a := len(sc.memArena)
			sc.memArena = append(sc.memArena, sc.mems[base:]...)
			sc.mems = sc.mems[:base]
			return jsonValue{kind: jsonMap, mems: sc.memArena[a:len(sc.memArena):len(sc.memArena)]}, nil
		default:
			return jsonValue{}, p.errf("expected ',' or '}'")
		}
	}
}

// array reads a list, its items gathered as object gathers members.
func (p *jsonParser) array(depth int) (jsonValue, error) {
	p.i++ // [
	sc := p.sc
	base := len(sc.items)
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return jsonValue{kind: jsonList}, nil
	}
	for {
		e, err := p.value(depth + 1)
		if err != nil {
			return jsonValue{}, err
		}
		sc.items = append(sc.items, e)
		p.ws()
		if p.i >= len(p.s) {
			return jsonValue{}, p.errf("unexpected end in list")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			a := len(sc.valArena)
			sc.valArena = append(sc.valArena, sc.items[base:]...)
			sc.items = sc.items[:base]
			return jsonValue{kind: jsonList, list: sc.valArena[a:len(sc.valArena):len(sc.valArena)]}, nil
		default:
			return jsonValue{}, p.errf("expected ',' or ']'")
		}
	}
}

func (p *jsonParser) number() (jsonValue, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i == digits {
		return jsonValue{}, p.errf("malformed number")
	}
	if p.i < len(p.s) && (p.s[p.i] == '.' || p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		return jsonValue{}, p.errf("only integer numbers are allowed")
	}
	if p.i-digits > 1 && p.s[digits] == '0' {
		return jsonValue{}, p.errf("number with a leading zero")
	}
	return jsonValue{kind: jsonNumber, str: p.s[start:p.i]}, nil
}

// string reads a string. One without escapes is a slice of the text; one
// with escapes is decoded into a copy, and an escape Python's json module
// would not write (\/, \u for a character it writes as itself or with a
// short escape, upper-case hex) makes the text non-canonical.
func (p *jsonParser) string() (string, error) {
	p.i++ // opening quote
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			p.i++
			return p.s[start : p.i-1], nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.errf("raw control character in string")
		}
		p.i++
	}
	out := []byte(p.s[start:p.i])
	for {
		if p.i >= len(p.s) {
			return "", p.errf("unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), nil
		case c < 0x20:
			return "", p.errf("raw control character in string")
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", p.errf("unterminated escape")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
				if e == '/' {
					p.canonical = false
				}
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if r >= 0xd800 && r < 0xdc00 { // high surrogate: needs its pair
					if p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
						p.i += 2
						lo, err := p.hex4()
						if err != nil {
							return "", err
						}
						if lo < 0xdc00 || lo > 0xdfff {
							return "", p.errf("unpaired surrogate")
						}
						r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
					} else {
						return "", p.errf("unpaired surrogate")
					}
				} else if r >= 0xdc00 && r <= 0xdfff {
					return "", p.errf("unpaired surrogate")
				}
				if !pyEscapesAsU(r) || strings.ContainsAny(p.s[p.i-4:p.i], "ABCDEF") {
					p.canonical = false
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", p.errf("bad escape %q", e)
			}
		default:
			out = append(out, c)
			p.i++
		}
	}
}

// pyEscapesAsU reports whether Python's json module writes r as \u00XX: a
// control character without a short escape.
func pyEscapesAsU(r rune) bool {
	return r < 0x20 && r != '\b' && r != '\f' && r != '\n' && r != '\r' && r != '\t'
}

func (p *jsonParser) hex4() (rune, error) {
	if p.i+4 > len(p.s) {
		return 0, p.errf("short \\u escape")
	}
	n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 16)
	if err != nil {
		return 0, p.errf("bad \\u escape")
	}
	p.i += 4
	return rune(n), nil
}
