package kel

import (
	"fmt"
	"strconv"
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
// invalid UTF-8, duplicate map keys, non-integer numbers and excessive nesting.
func parseJSON(b []byte) (jsonValue, error) {
	if len(b) > maxBodySize {
		return jsonValue{}, fmt.Errorf("%w: %d bytes is over the limit", ErrJSON, len(b))
	}
	if !utf8.Valid(b) {
		return jsonValue{}, fmt.Errorf("%w: invalid utf-8", ErrJSON)
	}
	p := jsonParser{b: b}
	v, err := p.value(0)
	if err != nil {
		return jsonValue{}, err
	}
	p.ws()
	if p.i != len(b) {
		return jsonValue{}, p.errf("trailing data")
	}
	return v, nil
}

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) errf(format string, a ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrJSON, p.i, fmt.Sprintf(format, a...))
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
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
	if p.i >= len(p.b) {
		return jsonValue{}, p.errf("unexpected end")
	}
	switch c := p.b[p.i]; {
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
			if len(p.b)-p.i >= len(lit.text) && string(p.b[p.i:p.i+len(lit.text)]) == lit.text {
				p.i += len(lit.text)
				return jsonValue{kind: lit.kind, str: lit.text}, nil
			}
		}
		return jsonValue{}, p.errf("unexpected %q", c)
	}
}

func (p *jsonParser) object(depth int) (jsonValue, error) {
	p.i++ // {
	v := jsonValue{kind: jsonMap}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return v, nil
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return jsonValue{}, p.errf("expected a member name")
		}
		k, err := p.string()
		if err != nil {
			return jsonValue{}, err
		}
		if _, dup := v.get(k); dup {
			return jsonValue{}, p.errf("duplicate member %q", k)
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return jsonValue{}, p.errf("expected ':'")
		}
		p.i++
		e, err := p.value(depth + 1)
		if err != nil {
			return jsonValue{}, err
		}
		v.mems = append(v.mems, jsonMember{k, e})
		p.ws()
		if p.i >= len(p.b) {
			return jsonValue{}, p.errf("unexpected end in object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return v, nil
		default:
			return jsonValue{}, p.errf("expected ',' or '}'")
		}
	}
}

func (p *jsonParser) array(depth int) (jsonValue, error) {
	p.i++ // [
	v := jsonValue{kind: jsonList}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return v, nil
	}
	for {
		e, err := p.value(depth + 1)
		if err != nil {
			return jsonValue{}, err
		}
		v.list = append(v.list, e)
		p.ws()
		if p.i >= len(p.b) {
			return jsonValue{}, p.errf("unexpected end in list")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return v, nil
		default:
			return jsonValue{}, p.errf("expected ',' or ']'")
		}
	}
}

func (p *jsonParser) number() (jsonValue, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	if p.i == digits {
		return jsonValue{}, p.errf("malformed number")
	}
	if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		return jsonValue{}, p.errf("only integer numbers are allowed")
	}
	if p.i-digits > 1 && p.b[digits] == '0' {
		return jsonValue{}, p.errf("number with a leading zero")
	}
	return jsonValue{kind: jsonNumber, str: string(p.b[start:p.i])}, nil
}

func (p *jsonParser) string() (string, error) {
	p.i++ // opening quote
	var out []byte
	for {
		if p.i >= len(p.b) {
			return "", p.errf("unterminated string")
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), nil
		case c < 0x20:
			return "", p.errf("raw control character in string")
		case c == '\\':
			if p.i+1 >= len(p.b) {
				return "", p.errf("unterminated escape")
			}
			e := p.b[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
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
					if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
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

func (p *jsonParser) hex4() (rune, error) {
	if p.i+4 > len(p.b) {
		return 0, p.errf("short \\u escape")
	}
	n, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 16)
	if err != nil {
		return 0, p.errf("bad \\u escape")
	}
	p.i += 4
	return rune(n), nil
}
