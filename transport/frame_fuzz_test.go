package transport

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseFrame: ParseFrame never panics, and an accepted frame is the
// upper-cased input: there is exactly one text per frame (no malleability
// beyond letter case and surrounding white space).
func FuzzParseFrame(f *testing.F) {
	seq, _ := EncodeFrames(TypeEvents, []byte(strings.Repeat("KERI10JSON ", 40)), 40)
	for i := 0; i < 6; i++ {
		f.Add(seq.Frame(i))
	}
	for _, s := range []string{
		"kc1:s/1-1/iko34ma3/nbswy3dp", "KC1:E/0-3/IKO34MA3/NBSWY3DP", "KC1ÖE-1ß3-IKO34MA3-NBSWY3DP",
		"KC&ME!&)", "KC1:E/4294967295-4096/AAAAAAAA/AAAAAAAA", "KC1:E/1-3/IKO34MA3/NBSWY3D",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		fr, err := ParseFrame(line)
		if err != nil {
			return
		}
		s := fr.String()
		if s != strings.ToUpper(strings.TrimSpace(line)) {
			t.Fatalf("ParseFrame(%q).String() = %q", line, s)
		}
		again, err := ParseFrame(s)
		if err != nil || again.String() != s || !bytes.Equal(again.Data, fr.Data) {
			t.Fatalf("re-parse of %q: %v", s, err)
		}
		if fr.Seq == 0 || fr.Total < 1 || fr.Total > MaxFragments || len(fr.Data)%5 != 0 || len(fr.Data) > MaxFragmentSize {
			t.Fatalf("out-of-range frame accepted: %q", s)
		}
	})
}
