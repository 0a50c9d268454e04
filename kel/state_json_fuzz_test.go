package kel

import (
	"bytes"
	"errors"
	"testing"
)

// ParseKeyState takes exactly what MarshalJSON writes: anything it accepts
// writes back byte for byte, and anything else is ErrKeyState.
func FuzzParseKeyState(f *testing.F) {
	v := NewVerifier()
	v.AcceptMessages(newRestoreFixture(f).msgs)
	for _, p := range v.Prefixes() {
		st, _ := v.State(p)
		b, _ := st.MarshalJSON()
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseKeyState(b)
		if err != nil {
			if !errors.Is(err, ErrKeyState) {
				t.Fatalf("error %v is not ErrKeyState", err)
			}
			return
		}
		back, _ := st.MarshalJSON()
		if !bytes.Equal(back, b) {
			t.Fatalf("accepted %q, writes %q", b, back)
		}
	})
}
