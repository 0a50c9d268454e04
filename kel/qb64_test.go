package kel

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// FuzzAppendQb64Raw holds the decoder signatures use (onto a shared array)
// to the one every other primitive uses: the same bytes or the same error,
// and the array's earlier bytes untouched.
func FuzzAppendQb64Raw(f *testing.F) {
	for _, s := range []string{
		"AA" + EncodeSignature(make([]byte, 64))[2:],
		EncodeSignature(bytes.Repeat([]byte{0xff}, 64))[2:],
		EncodeVerKey(make([]byte, 32))[1:],
		"_w", "A\nAA", "AAA=", "",
	} {
		for cs := 0; cs < 4; cs++ {
			f.Add(s, cs)
		}
	}
	f.Fuzz(func(t *testing.T, text string, cs int) {
		if ps := cs % 4; cs < 0 || cs > 8 || (ps+len(text))%4 != 0 || ps+len(text) < 4 {
			return // callers pass whole quadlets (the code tables' sizes)
		}
		want, wantErr := decodeQb64Raw(text, cs)
		prefix := []byte("kept")
		got, err := appendQb64Raw(bytes.Clone(prefix), text, cs)
		if !bytes.HasPrefix(got, prefix) {
			t.Fatalf("the array's bytes before were changed: %q", got)
		}
		if (err == nil) != (wantErr == nil) || (err != nil && !errors.Is(err, ErrPrimitive)) {
			t.Fatalf("error %v, decodeQb64Raw %v", err, wantErr)
		}
		if err == nil && !bytes.Equal(got[len(prefix):], want) {
			t.Fatalf("decoded %x, decodeQb64Raw %x", got[len(prefix):], want)
		}
	})
}

// TestPrimitiveWithLineBreaks: Go's Base64 decoder skips line breaks, so a
// signature whose characters are line breaks decodes short; it is refused,
// and a primitive decoding to less than its pad does not panic.
func TestPrimitiveWithLineBreaks(t *testing.T) {
	k := loadBenchKEL(t)
	msgs, err := ParseStream(k.stream)
	if err != nil {
		t.Fatal(err)
	}
	body := msgs[0].Event.Raw()
	for name, sig := range map[string]string{
		"all line breaks": "AA" + strings.Repeat("\n", 86),
		"one line break":  "AA" + strings.Repeat("A", 85) + "\r",
	} {
		stream := append(append(append(bytes.Clone(body), "-AAB"...), sig...), body...)
		ms, err := ParseStream(stream)
		if !errors.Is(err, ErrPrimitive) || len(ms) != 0 {
			t.Errorf("%s: %d messages, %v", name, len(ms), err)
		}
	}
	if _, err := decodeQb64Raw("\n\n", 2); !errors.Is(err, ErrPrimitive) {
		t.Errorf("line breaks only: %v", err)
	}
}

// TestEncodeQb64: the encoder gives, for every fixed-size code, the text of
// the definition (code, then the Base64url of the zero-padded raw bytes
// without the pad's characters), and the decoder reads it back.
func TestEncodeQb64(t *testing.T) {
	for code, sz := range matterSizes {
		for _, fill := range []byte{0x00, 0x5a, 0xff} {
			raw := bytes.Repeat([]byte{fill}, sz.rawSize())
			raw[len(raw)-1] ^= 1
			ps := sz.hs % 4
			want := code + base64.RawURLEncoding.EncodeToString(append(make([]byte, ps), raw...))[ps:]
			got := Matter{Code: code, Raw: raw}.Qb64()
			if got != want || len(got) != sz.fs {
				t.Fatalf("%s: %s, want %s", code, got, want)
			}
			back, err := DecodeMatter(got, code)
			if err != nil || !bytes.Equal(back.Raw, raw) || back.Code != code {
				t.Fatalf("%s: decoded %x %v", code, back.Raw, err)
			}
			if err := checkMatter(got, code); err != nil {
				t.Fatalf("%s: check %v", code, err)
			}
		}
	}
	if got, want := Digest([]byte("abc")), indepDigest([]byte("abc")); got != want {
		t.Fatalf("digest %s, want %s", got, want)
	}
}
