package ceremony

import (
	"bytes"
	"strings"
	"testing"

	"github.com/keremony/keremony/kel"
)

func TestFingerprintWordsList(t *testing.T) {
	seen := map[string]bool{}
	prefixes := map[string]string{}
	for i, w := range fingerprintWords {
		if w == "" || len(w) > 8 || strings.ToLower(w) != w {
			t.Errorf("word %d %q: want 1 to 8 lower-case letters", i, w)
		}
		if seen[w] {
			t.Errorf("word %q appears twice", w)
		}
		seen[w] = true
		if len(w) >= 4 {
			if other, ok := prefixes[w[:4]]; ok {
				t.Errorf("words %q and %q share their first four letters", other, w)
			}
			prefixes[w[:4]] = w
		}
		if i > 0 && fingerprintWords[i-1] >= w {
			t.Errorf("word %d %q is out of alphabetical order", i, w)
		}
	}
}

func TestFingerprintWords(t *testing.T) {
	// A digest whose first bytes are 0, 1, 2, 253, 254, 255 reads as the
	// first three and the last three words of the list; the Base32 groups
	// were computed with Python's base64.b32encode.
	raw := append([]byte{0, 1, 2, 253, 254, 255}, bytes.Repeat([]byte{7}, 26)...)
	said := kel.Matter{Code: "E", Raw: raw}.Qb64()
	got := strings.Join(FingerprintWords(said), " ")
	if want := "acorn actor agent wizard yogurt zebra"; got != want {
		t.Errorf("FingerprintWords = %q, want %q", got, want)
	}
	if got := Fingerprint(said); got != "AAAQ-F7P6-74DQ-OBYH" {
		t.Errorf("Fingerprint = %q, want %q", got, "AAAQ-F7P6-74DQ-OBYH")
	}
	for _, bad := range []string{"", "not a said", "E"} {
		if w := FingerprintWords(bad); w != nil {
			t.Errorf("FingerprintWords(%q) = %v, want nil", bad, w)
		}
		if f := Fingerprint(bad); f != "?" {
			t.Errorf("Fingerprint(%q) = %q, want ?", bad, f)
		}
	}
}
