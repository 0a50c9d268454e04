package safetext

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
)

func TestShow(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"", ""},
		{"Zoë 日本 émile", "Zoë 日本 émile"},
		{"\x1b[2J\x1b[H\x1b]0;pwned\x07ok alice\x1b[8m", `\x1b[2J\x1b[H\x1b]0;pwned\x07ok alice\x1b[8m`},
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{"x\x00y\x7fz", `x\x00y\x7fz`},
		{"c1\u0085\u009b", `c1\u0085\u009b`},
		{"bob\u202eexe.txt", `bob\u202eexe.txt`},
		{"\u2066iso\u2069 \u200e\u200f\u061c", `\u2066iso\u2069 \u200e\u200f\u061c`},
		{"zero\u200bwidth\u200c\u200d\u2060\ufeff", `zero\u200bwidth\u200c\u200d\u2060\ufeff`},
		{"soft\u00adhyphen", `soft\u00adhyphen`},
		{"line\u2028para\u2029", `line\u2028para\u2029`},
		{"tag\U000e0041", `tag\U000e0041`},
		{"bad\xffutf8\xc3", `bad\xffutf8\xc3`},
		{"\uFFFD is a real replacement character", "\uFFFD is a real replacement character"},
	}
	for _, tc := range tests {
		if got := Show(tc.in); got != tc.want {
			t.Errorf("Show(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := Safe(tc.in); got != (tc.in == tc.want) {
			t.Errorf("Safe(%q) = %v", tc.in, got)
		}
	}
}

// TestShowLeavesNothingUnsafe: over every rune of the BMP and beyond, the
// output of Show holds no control, format or separator character.
func TestShowLeavesNothingUnsafe(t *testing.T) {
	var b strings.Builder
	for r := rune(0); r <= 0xe01ef; r++ {
		if r >= 0xd800 && r <= 0xdfff {
			continue
		}
		b.WriteRune(r)
	}
	out := Show(b.String())
	for _, r := range out {
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			t.Fatalf("Show left %U", r)
		}
	}
}

type stringer struct{}

func (stringer) String() string { return "str\x1bing" }

type kind string

func TestArgs(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", errors.New("file \x1b]0;T\x07.sig"))
	got := Sprintf("%s|%v|%q|%-6s|%4s|%.3s|%d|%s|%s|%v|%x", "a\x1bb", err, "q\x1b", "ab", "c", "\x1bxyz", 42, stringer{}, kind("k\x07"), []string{"x\x1b", "y"}, "hi")
	want := `a\x1bb|wrapped: file \x1b]0;T\x07.sig|"q\x1b"|ab    |   c|\x1bxy|42|str\x1bing|k\x07|[x\x1b y]|6869`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
