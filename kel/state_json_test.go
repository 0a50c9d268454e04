package kel

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Every state a replay reaches reads back from its JSON as the same state.
func TestParseKeyStateRoundTrip(t *testing.T) {
	f := newRestoreFixture(t)
	v := NewVerifier()
	for _, r := range v.AcceptMessages(f.msgs) {
		if !r.OK() {
			t.Fatal(r.Err)
		}
	}
	n := 0
	for _, p := range v.Prefixes() {
		for sn := range uint64(len(v.Messages(p))) {
			st, ok := v.StateAt(p, sn)
			if !ok {
				t.Fatalf("%s: no state at sn %d", p, sn)
			}
			b, _ := st.MarshalJSON()
			got, err := ParseKeyState(b)
			if err != nil {
				t.Fatalf("%s sn %d: %v", p, sn, err)
			}
			if back, _ := got.MarshalJSON(); !bytes.Equal(back, b) {
				t.Fatalf("%s sn %d: round trip\n got %s\nwant %s", p, sn, back, b)
			}
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", st) {
				t.Fatalf("%s sn %d: parsed %+v\nwant %+v", p, sn, got, st)
			}
			n++
		}
	}
	if n < 6 {
		t.Fatalf("only %d states checked", n)
	}
}

func TestParseKeyStateRefuses(t *testing.T) {
	f := newRestoreFixture(t)
	v := NewVerifier()
	v.AcceptMessages(f.msgs)
	st, _ := v.State(f.dIcp.Prefix())
	good, _ := st.MarshalJSON()
	for name, in := range map[string]string{
		"empty":         "",
		"not an object": "[]",
		"reordered":     strings.Replace(string(good), `{"i":`, `{"s":"0","i":`, 1),
		"spaced":        strings.Replace(string(good), `,"s":`, `, "s":`, 1),
		"uppercase sn":  strings.Replace(string(good), `"s":"0"`, `"s":"A"`, 1),
		"no ee":         strings.Replace(string(good), `"ee":`, `"ef":`, 1),
		"bad kt":        strings.Replace(string(good), `"kt":"1"`, `"kt":"x"`, 1),
		"trailing":      string(good) + " ",
	} {
		if _, err := ParseKeyState([]byte(in)); !errors.Is(err, ErrKeyState) {
			t.Errorf("%s: err %v, want ErrKeyState", name, err)
		}
	}
}
