// Package safetext is the one boundary between text that came from outside
// (labels, aliases, group names, file names, reasons, seal text, error text
// quoting input) and a terminal. Show makes every character that could
// steer a terminal or hide text visible as an escape: control characters
// (ESC, BEL, CR, …), bidirectional overrides and isolates, zero-width and
// other invisible format characters, line and paragraph separators, and
// bytes that are not UTF-8. Both front-ends render outside text through it.
package safetext

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Show returns s with every character that is not safe to print shown as an
// escape: \t, \n and \r, \xNN for other C0 controls, DEL and bytes that are
// not UTF-8, \uNNNN (or \UNNNNNNNN) for C1 controls, format characters
// (bidirectional controls, zero-width characters, the soft hyphen, tags)
// and the line and paragraph separators. Everything else, including
// letters of any script, is kept; s is returned as it is when nothing needs
// escaping.
func Show(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !unsafe(r):
			b.WriteString(s[i : i+size])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// Safe reports whether Show leaves s as it is.
func Safe(s string) bool { return firstUnsafe(s) < 0 }

func firstUnsafe(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return i
			}
		}
		if unsafe(r) {
			return i
		}
	}
	return -1
}

// unsafe reports whether r can steer a terminal or hide text: controls
// (Cc), format characters (Cf: bidirectional controls, zero-width
// characters, …) and the line and paragraph separators.
func unsafe(r rune) bool {
	if r >= 0x20 && r < 0x7f {
		return false
	}
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// Value is outside text for the fmt functions: %s and %v print it through
// Show (precision cuts the text before, width pads it after), %q quotes it
// (strconv.Quote escapes the same characters).
type Value string

// Format implements fmt.Formatter.
func (v Value) Format(f fmt.State, verb rune) { format(f, verb, string(v), string(v)) }

// arg is a wrapped argument: its text and, for the verbs other than %s, %v
// and %q, the original value.
type arg struct {
	orig any
	text string
}

func (a arg) Format(f fmt.State, verb rune) { format(f, verb, a.orig, a.text) }

func format(f fmt.State, verb rune, orig any, text string) {
	switch verb {
	case 's', 'v':
		if p, ok := f.Precision(); ok && utf8.RuneCountInString(text) > p {
			text = string([]rune(text)[:p])
		}
		text = Show(text)
	case 'q':
		text = strconv.Quote(text)
	default:
		_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), orig)
		return
	}
	if w, ok := f.Width(); ok {
		if n := utf8.RuneCountInString(text); n < w {
			pad := strings.Repeat(" ", w-n)
			if f.Flag('-') {
				text += pad
			} else {
				text = pad + text
			}
		}
	}
	_, _ = io.WriteString(f, text)
}

// Args wraps the text among fmt arguments (strings and values of string
// types, errors, Stringers and string slices) so that a format whose arguments came from outside prints
// them through Show. Other arguments are kept.
func Args(a []any) []any {
	out := make([]any, len(a))
	for i, x := range a {
		switch v := x.(type) {
		case string:
			out[i] = Value(v)
		case []string:
			vs := make([]Value, len(v))
			for j, s := range v {
				vs[j] = Value(s)
			}
			out[i] = vs
		case error:
			out[i] = arg{v, v.Error()}
		case fmt.Stringer:
			out[i] = arg{v, v.String()}
		default:
			if rv := reflect.ValueOf(x); rv.Kind() == reflect.String {
				out[i] = arg{x, rv.String()}
			} else {
				out[i] = x
			}
		}
	}
	return out
}

// Sprintf is fmt.Sprintf with its arguments wrapped by Args.
func Sprintf(format string, a ...any) string { return fmt.Sprintf(format, Args(a)...) }

// Fprintf is fmt.Fprintf with its arguments wrapped by Args.
func Fprintf(w io.Writer, format string, a ...any) (int, error) {
	return fmt.Fprintf(w, format, Args(a)...)
}
